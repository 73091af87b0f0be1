export { routingRoutes } from "./routing.js";
