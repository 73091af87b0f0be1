import { randomUUID } from "node:crypto";
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
    if (status >= 500) logger.error("request failed", entry);
    else logger.info("request", entry);
  }
});

/**
 * Load shedding: past `max` requests in flight in this process, answer 503 with Retry-After at
 * once instead of queueing until everything times out. Lambda bounds concurrency per instance
 * anyway; this guards the long-running local server and any container deployment.
 */
export function shedLoad(max: number) {
  let inFlight = 0;
  return createMiddleware<AppEnv>(async (c, next) => {
    if (inFlight >= max) {
      c.header("retry-after", "1");
      throw new Problem("service-unavailable", `more than ${max} requests in flight; retry after 1 s`);
    }
    inFlight++;
    try {
      await next();
    } finally {
      inFlight--;
    }
  });
}
