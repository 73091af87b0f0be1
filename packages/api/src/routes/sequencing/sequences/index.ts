import { OpenAPIHono } from "@hono/zod-openapi";
import type { AppEnv } from "../../../context.js";
import * as handlers from "./handlers.js";
import * as routes from "./routes.js";

/** Mounted at /v1/sequences. */
export const sequenceRoutes = new OpenAPIHono<AppEnv>()
  .openapi(routes.create, handlers.create)
  .openapi(routes.list, handlers.list)
  .openapi(routes.get, handlers.get)
  .openapi(routes.update, handlers.update)
  .openapi(routes.listVersions, handlers.listVersions)
  .openapi(routes.getVersion, handlers.getVersion)
  .openapi(routes.preview, handlers.preview);
