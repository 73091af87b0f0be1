import { OpenAPIHono } from "@hono/zod-openapi";
import { bodyLimit } from "hono/body-limit";
import { apiKeyAuth } from "./auth.js";
import { apiLimitsFromEnv, apiSettingsFromEnv } from "./config.js";
import type { AppDeps, AppEnv } from "./context.js";
import { sealCursors } from "./cursors.js";
import { docsRoutes } from "./docs.js";
import { notFound, onError, validationHook } from "./errors.js";
import { requestLog, securityHeaders, shedLoad } from "./observability.js";
import { Problem } from "./problem.js";
import { publicRateLimits } from "./rate-limit.js";
import {
  eventRoutes,
  suppressionRoutes,
  trackingRoutes,
  unsubscribeRoutes,
  webhookRoutes,
} from "./routes/events/index.js";
import { accountRoutes, importRoutes } from "./routes/ingest/index.js";
import { dashboardRoutes, reportRoutes } from "./routes/reports/index.js";
import { routingRoutes } from "./routes/routing/index.js";
import { icpRoutes, rescoreRoutes } from "./routes/scoring/index.js";
import { mailRoutes, senderRoutes, taskRoutes } from "./routes/sending/index.js";
import { accountEnrollmentRoutes, enrollmentRoutes, sequenceRoutes } from "./routes/sequencing/index.js";
import { apiKeyRoutes, settingsRoutes } from "./routes/tenancy/index.js";

type Api = OpenAPIHono<AppEnv>;

/** Largest non-import request body: 1,000 events of a few KB each fit. */
export const MAX_JSON_BYTES = 4 * 1024 * 1024;
const jsonBodyLimit = bodyLimit({
  maxSize: MAX_JSON_BYTES,
  onError: () => {
    throw new Problem("payload-too-large", `request body over ${MAX_JSON_BYTES} bytes`, undefined, 413);
  },
});

/** Registration order is the contract: middleware, then routes without a key, then the key check and the rest. */
export function createApp(deps: AppDeps) {
  const app: Api = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });
  useMiddleware(app, deps);
  mountPublicRoutes(app);
  mountAuthenticatedRoutes(app);
  mountDocs(app);
  app.notFound(notFound);
  app.onError(onError);
  return app;
}

export type App = ReturnType<typeof createApp>;

/** Every request: log, security headers, bounded bodies, load shedding, then the request's store and settings. */
function useMiddleware(app: Api, deps: AppDeps) {
  app.use("*", requestLog);
  app.use("*", securityHeaders);
  // Every JSON body is bounded; imports set their own, larger limit on their route.
  app.use("/v1/*", async (c, next) => (c.req.path === "/v1/imports" ? next() : jsonBodyLimit(c, next)));
  const limits = apiLimitsFromEnv();
  app.use("/v1/*", shedLoad(deps.maxInFlight ?? limits.maxInFlight, deps.maxLagMs ?? limits.maxLagMs));
  const settings = deps.settings ?? apiSettingsFromEnv;
  app.use("*", async (c, next) => {
    c.set("store", deps.store());
    c.set("settings", settings);
    await next();
  });
}

/** No API key: health, docs, the dashboard page, and what is signed instead (webhook, tracking links). */
function mountPublicRoutes(app: Api) {
  app.get("/health", (c) => c.json({ status: "ok" }));
  app.route("/", docsRoutes);
  app.route("/dashboard", dashboardRoutes);
  // Per client address and per token or workspace (429 + Retry-After).
  const limits = publicRateLimits();
  app.use("/v1/webhooks/events/*", limits.webhooks);
  app.use("/t/*", limits.tracking);
  app.use("/u/*", limits.unsubscribe);
  // Under /v1 but authenticated by its signature: registered before the key middleware.
  app.route("/v1/webhooks/events", webhookRoutes);
  app.route("/t", trackingRoutes);
  app.route("/u", unsubscribeRoutes);
}

/** Everything else under /v1, behind the API key (scopes checked per method and path in auth.ts). */
function mountAuthenticatedRoutes(app: Api) {
  app.use("/v1/*", apiKeyAuth());
  app.use("/v1/*", sealCursors);
  app.route("/v1/events", eventRoutes);
  app.route("/v1/suppressions", suppressionRoutes);
  app.route("/v1/reports", reportRoutes);
  app.route("/v1/icps", icpRoutes);
  app.route("/v1/imports", importRoutes);
  app.route("/v1/accounts", accountRoutes);
  app.route("/v1/accounts", accountEnrollmentRoutes);
  app.route("/v1/rescores", rescoreRoutes);
  app.route("/v1/senders", senderRoutes);
  app.route("/v1/tasks", taskRoutes);
  app.route("/v1/mail", mailRoutes);
  app.route("/v1/sequences", sequenceRoutes);
  app.route("/v1/enrollments", enrollmentRoutes);
  app.route("/v1/routing-rules", routingRoutes);
  app.route("/v1/settings", settingsRoutes);
  app.route("/v1/api-keys", apiKeyRoutes);
}

/** The OpenAPI document of every route above, at /openapi.json (the page at /docs reads it). */
function mountDocs(app: Api) {
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
}
