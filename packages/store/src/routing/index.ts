export {
  getRoutingRules,
  putRoutingRules,
  type RouteOutcome,
  type RouteResult,
  routeTierChanges,
} from "./route-tier-changes.js";
