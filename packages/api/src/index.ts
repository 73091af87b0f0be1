export { type App, createApp } from "./app.js";
export type { AppDeps } from "./context.js";
export { PROBLEMS, Problem } from "./problem.js";
