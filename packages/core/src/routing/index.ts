export {
  DEFAULT_ROUTING_RULES,
  ReEntry,
  type RoutedEnrollment,
  type RoutingAction,
  RoutingRule,
  RoutingRules,
  type RoutingRulesInput,
  routeTierChange,
  sequenceFor,
  trackForTier,
} from "./routing.js";
