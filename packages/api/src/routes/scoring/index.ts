export { icpRoutes } from "./icps/index.js";
export { rescoreRoutes } from "./rescores.js";
