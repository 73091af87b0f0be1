import { OpenAPIHono } from "@hono/zod-openapi";
import { HTTPException } from "hono/http-exception";
import { requireApiKey } from "./auth.js";
import type { AppDeps, AppEnv } from "./context.js";
import { docsRoutes } from "./docs.js";
import { logger, requestLog, shedLoad } from "./observability.js";
import { Problem, problemResponse, validationProblem } from "./problem.js";
import { accountRoutes } from "./routes/accounts.js";
import { apiKeyRoutes } from "./routes/apikeys.js";
import { icpRoutes } from "./routes/icps.js";
import { importRoutes } from "./routes/imports.js";
import { rescoreRoutes } from "./routes/rescores.js";

export function createApp(deps: AppDeps) {
  const app = new OpenAPIHono<AppEnv>({
    // Every zod validation failure becomes one problem+json naming the fields.
    defaultHook: (result, c) => {
      if (!result.success)
        return problemResponse(c, validationProblem(result.error, result.target === "json" ? "body" : result.target));
    },
  });

  app.use("*", requestLog);
  app.use("/v1/*", shedLoad(deps.maxInFlight ?? Number(process.env.ICP_MAX_IN_FLIGHT ?? 512)));
  app.use("*", async (c, next) => {
    c.set("store", deps.store());
    await next();
  });
  app.get("/health", (c) => c.json({ status: "ok" }));
  app.route("/", docsRoutes);
  app.use("/v1/*", requireApiKey);
  app.route("/", icpRoutes);
  app.route("/", importRoutes);
  app.route("/", accountRoutes);
  app.route("/", rescoreRoutes);
  app.route("/", apiKeyRoutes);

  app.openAPIRegistry.registerComponent("securitySchemes", "apiKey", { type: "http", scheme: "bearer" });
  app.doc31("/openapi.json", {
    openapi: "3.1.0",
    info: {
      title: "icp-sequencer API",
      version: "1.0.0",
      description: "Score and tier target accounts against your ICPs. Errors are application/problem+json.",
    },
    security: [{ apiKey: [] }],
  });

  app.notFound((c) => problemResponse(c, new Problem("not-found", `no route for ${c.req.method} ${c.req.path}`)));
  app.onError((err, c) => {
    if (err instanceof Problem) return problemResponse(c, err);
    if (err instanceof HTTPException) {
      const status = err.status;
      if (status === 415)
        return problemResponse(
          c,
          new Problem(
            "unsupported-media-type",
            `content type "${c.req.header("content-type") ?? "none"}" is not accepted by ${c.req.method} ${c.req.path}; /openapi.json lists the accepted ones`,
          ),
        );
      const type =
        status === 413
          ? "payload-too-large"
          : status === 401
            ? "unauthorized"
            : status >= 500
              ? "internal"
              : "validation";
      return problemResponse(c, new Problem(type, err.message || "request refused", undefined, status));
    }
    if (err instanceof SyntaxError)
      return problemResponse(c, new Problem("validation", `malformed body: ${err.message}`));
    logger.error("unhandled", {
      requestId: c.get("requestId"),
      path: c.req.path,
      error: String(err),
      stack: err.stack,
    });
    return problemResponse(
      c,
      new Problem("internal", `something went wrong on our side; quote request id ${c.get("requestId")} to support`),
    );
  });
  return app;
}

export type App = ReturnType<typeof createApp>;
