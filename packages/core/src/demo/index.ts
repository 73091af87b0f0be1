export { DEMO_ICP, demoAccountsCsv, prng } from "./demo.js";
export {
  DEMO_ENGAGEMENT_SEQUENCES,
  type DemoEngagementAccount,
  type DemoEngagementSequence,
  type DemoEvent,
  demoEngagement,
} from "./demo-engagement.js";
export { DEMO_SEQUENCES, demoRoutingRules } from "./demo-sequences.js";
