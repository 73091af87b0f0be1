import { randomUUID } from "node:crypto";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { Logger } from "@aws-lambda-powertools/logger";
import { createMiddleware } from "hono/factory";
import type { AppEnv } from "./context.js";
import { Problem } from "./problem.js";

/**
 * One JSON log line per request (Powertools Logger: level from POWERTOOLS_LOG_LEVEL) with the
 * request id, workspace and outcome. Never the Authorization header, bodies or query values:
 * they carry keys and prospects' personal data.
 */
export const logger = new Logger({ serviceName: "icp-sequencer-api" });

export const requestLog = createMiddleware<AppEnv>(async (c, next) => {
  const started = performance.now();
  const lambdaId = (c.env as { requestContext?: { requestId?: string } } | undefined)?.requestContext?.requestId;
  const requestId = lambdaId ?? c.req.header("x-request-id")?.slice(0, 100) ?? randomUUID();
  c.set("requestId", requestId);
  c.header("x-request-id", requestId);
  try {
    await next();
  } finally {
    const status = c.res.status;
    const entry = {
      requestId,
      method: c.req.method,
      path: c.req.path,
      status,
      ms: Math.round(performance.now() - started),
      workspaceId: c.get("workspaceId"),
    };
    if (status === 503) logger.warn("request shed", entry);
    else if (status >= 500) logger.error("request failed", entry);
    else logger.info("request", entry);
  }
});

/**
 * Load shedding: past `max` requests in flight in this process, answer 503 with Retry-After at
 * once instead of queueing until everything times out. Lambda bounds concurrency per instance
 * anyway; this guards the long-running local server and any container deployment.
 */
export function shedLoad(max: number, maxLagMs = Number(process.env.ICP_MAX_LAG_MS ?? 1000)) {
  let inFlight = 0;
  const lag = eventLoopLag();
  return createMiddleware<AppEnv>(async (c, next) => {
    if (inFlight >= max) {
      c.header("retry-after", "1");
      throw new Problem("service-unavailable", `more than ${max} requests in flight; retry after 1 s`);
    }
    // A saturated CPU shows as event-loop lag long before the in-flight count grows: shed then too.
    if (lag() > maxLagMs) {
      c.header("retry-after", "2");
      throw new Problem(
        "service-unavailable",
        `server overloaded (event loop ${Math.round(lag())} ms behind); retry after 2 s`,
      );
    }
    inFlight++;
    try {
      await next();
    } finally {
      inFlight--;
    }
  });
}

/**
 * Sustained event-loop lag (ms): the smallest delay Node's loop-delay monitor saw over the last
 * two half-second windows. One long synchronous task (parsing a big upload, loading modules at
 * start) makes one window late and is not overload; a saturated CPU makes every turn late.
 */
function eventLoopLag(): () => number {
  const h = monitorEventLoopDelay({ resolution: 20 });
  h.enable();
  let previous = 0;
  let lag = 0;
  let last = performance.now();
  const timer = setInterval(() => {
    const now = performance.now();
    // No sample in the window means the loop never came back: as late as the window is long.
    const current = h.count > 0 ? h.min / 1e6 : now - last;
    lag = Math.min(previous, current);
    previous = current;
    last = now;
    h.reset();
  }, 500);
  timer.unref();
  return () => lag;
}

/** Headers every response carries: no MIME sniffing, no framing, no referrer leaking ids. */
export const securityHeaders = createMiddleware<AppEnv>(async (c, next) => {
  await next();
  c.header("x-content-type-options", "nosniff");
  c.header("x-frame-options", "DENY");
  c.header("referrer-policy", "no-referrer");
});
