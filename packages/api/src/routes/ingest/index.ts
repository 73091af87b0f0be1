export { accountRoutes } from "./accounts.js";
export { importRoutes } from "./imports.js";
