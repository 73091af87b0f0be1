export { apiKeyRoutes } from "./apikeys.js";
export { settingsRoutes } from "./settings.js";
