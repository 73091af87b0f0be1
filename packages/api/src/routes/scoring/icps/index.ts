import { OpenAPIHono } from "@hono/zod-openapi";
import type { AppEnv } from "../../../context.js";
import * as handlers from "./handlers.js";
import * as routes from "./routes.js";

/** Mounted at /v1/icps. */
export const icpRoutes = new OpenAPIHono<AppEnv>()
  .openapi(routes.create, handlers.create)
  .openapi(routes.list, handlers.list)
  .openapi(routes.get, handlers.get)
  .openapi(routes.update, handlers.update)
  .openapi(routes.activate, handlers.activate)
  .openapi(routes.listVersions, handlers.listVersions)
  .openapi(routes.getVersion, handlers.getVersion)
  .openapi(routes.diff, handlers.diff)
  .openapi(routes.dryRun, handlers.dryRun)
  .openapi(routes.backtest, handlers.backtest)
  .openapi(routes.review, handlers.review);
