import { OpenAPIHono } from "@hono/zod-openapi";
import { bodyLimit } from "hono/body-limit";
import { HTTPException } from "hono/http-exception";
import { requireApiKey } from "./auth.js";
import type { AppDeps, AppEnv } from "./context.js";
import { docsRoutes } from "./docs.js";
import { logger, requestLog, securityHeaders, shedLoad } from "./observability.js";
import { Problem, problemResponse, validationProblem } from "./problem.js";
import { eventRoutes, publicEventRoutes } from "./routes/events/events.js";
import { accountRoutes } from "./routes/ingest/accounts.js";
import { importRoutes } from "./routes/ingest/imports.js";
import { dashboardRoutes } from "./routes/reports/dashboard.js";
import { reportRoutes } from "./routes/reports/reports.js";
import { routingRoutes } from "./routes/routing/routing.js";
import { icpRoutes } from "./routes/scoring/icps.js";
import { rescoreRoutes } from "./routes/scoring/rescores.js";
import { outboundRoutes } from "./routes/sending/outbound.js";
import { senderRoutes } from "./routes/sending/senders.js";
import { taskRoutes } from "./routes/sending/tasks.js";
import { enrollmentRoutes } from "./routes/sequencing/enrollments.js";
import { sequenceRoutes } from "./routes/sequencing/sequences.js";
import { apiKeyRoutes } from "./routes/tenancy/apikeys.js";

/** Largest non-import request body: 1,000 events of a few KB each fit. */
export const MAX_JSON_BYTES = 4 * 1024 * 1024;
const jsonBodyLimit = bodyLimit({
  maxSize: MAX_JSON_BYTES,
  onError: () => {
    throw new Problem("payload-too-large", `request body over ${MAX_JSON_BYTES} bytes`, undefined, 413);
  },
});

export function createApp(deps: AppDeps) {
  const app = new OpenAPIHono<AppEnv>({
    // Every zod validation failure becomes one problem+json naming the fields.
    defaultHook: (result, c) => {
      if (!result.success)
        return problemResponse(c, validationProblem(result.error, result.target === "json" ? "body" : result.target));
    },
  });

  app.use("*", requestLog);
  app.use("*", securityHeaders);
  // Every JSON body is bounded; imports set their own, larger limit on their route.
  app.use("/v1/*", async (c, next) => (c.req.path === "/v1/imports" ? next() : jsonBodyLimit(c, next)));
  app.use("/v1/*", shedLoad(deps.maxInFlight ?? Number(process.env.ICP_MAX_IN_FLIGHT ?? 512), deps.maxLagMs));
  app.use("*", async (c, next) => {
    c.set("store", deps.store());
    await next();
  });
  app.get("/health", (c) => c.json({ status: "ok" }));
  app.route("/", docsRoutes);
  // Signed webhook and tracking links: no API key (registered before the key middleware).
  app.route("/", publicEventRoutes);
  app.use("/v1/*", requireApiKey);
  app.route("/", eventRoutes);
  app.route("/", reportRoutes);
  app.route("/", icpRoutes);
  app.route("/", importRoutes);
  app.route("/", accountRoutes);
  app.route("/", rescoreRoutes);
  app.route("/", senderRoutes);
  app.route("/", taskRoutes);
  app.route("/", outboundRoutes);
  app.route("/", sequenceRoutes);
  app.route("/", enrollmentRoutes);
  app.route("/", routingRoutes);
  app.route("/", apiKeyRoutes);
  app.route("/", dashboardRoutes);

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
