export { eventRoutes } from "./events.js";
export { suppressionRoutes } from "./suppressions.js";
export { trackingRoutes, unsubscribeRoutes } from "./tracking.js";
export { webhookRoutes } from "./webhooks.js";
