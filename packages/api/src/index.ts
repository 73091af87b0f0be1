export { type App, createApp } from "./app.js";
export { type ApiLimits, type ApiSettings, apiLimitsFromEnv, apiSettingsFromEnv } from "./config.js";
export type { AppDeps } from "./context.js";
export { Lru } from "./lru.js";
export { AdaptiveLimit, shedRecently } from "./observability.js";
export { PROBLEMS, Problem } from "./problem.js";
export { RateLimiter } from "./rate-limit.js";
