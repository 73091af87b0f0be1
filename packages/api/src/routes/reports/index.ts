export { dashboardRoutes } from "./dashboard.js";
export { reportRoutes } from "./reports.js";
