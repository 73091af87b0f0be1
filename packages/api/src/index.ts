export { createApp, type App } from "./app.js";
export type { AppDeps } from "./context.js";
export { Problem, PROBLEMS } from "./problem.js";
