import { randomUUID } from "node:crypto";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { Logger } from "@aws-lambda-powertools/logger";
import type { Context } from "hono";
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
 * Load shedding: a request that cannot be served soon is answered 503 + Retry-After at once
 * instead of queueing until the client gives up. Three signals, any of which refuses:
 * - the hard cap, `max` requests in flight in this process;
 * - the adaptive limit (AdaptiveLimit): the concurrency at which requests do not queue.
 *   Queueing inside the process (the DynamoDB client's socket pool, workers sharing the loop, a
 *   starved CPU) shows as every answer getting slower while many are in flight, long before the
 *   loop itself lags;
 * - sustained event-loop lag, for a saturated CPU.
 * Lambda bounds concurrency per instance anyway; this guards the long-running local server and
 * any container deployment.
 */
export function shedLoad(max: number, maxLagMs = 1000, adaptive: Partial<AdaptiveLimitOptions> = {}) {
  const lag = eventLoopLag();
  const limit = new AdaptiveLimit({ ...ADAPTIVE_DEFAULTS, max, ...adaptive });
  return createMiddleware<AppEnv>(async (c, next) => {
    if (limit.inFlight >= max) throw shed(c, 1, `more than ${max} requests in flight`);
    if (!limit.admits())
      throw shed(
        c,
        1,
        `requests are queueing (${limit.inFlight} in flight, every answer slower than ${limit.options.targetMs} ms)`,
      );
    // A saturated CPU shows as event-loop lag long before the in-flight count grows: shed then too.
    if (lag() > maxLagMs) throw shed(c, 2, `server overloaded (event loop ${Math.round(lag())} ms behind)`);
    const done = limit.start();
    try {
      await next();
    } finally {
      done();
    }
  });
}

/** A 503 with Retry-After, remembered for shedRecently. */
function shed(c: Context<AppEnv>, retryAfterSeconds: number, why: string): Problem {
  lastShedAt = performance.now();
  c.header("retry-after", String(retryAfterSeconds));
  return new Problem("service-unavailable", `${why}; retry after ${retryAfterSeconds} s`);
}

let lastShedAt = Number.NEGATIVE_INFINITY;
/**
 * Whether this process refused a request for load in the last `withinMs`. The local runtime runs
 * the workers in the API's process (Lambda runs them apart): its pollers wait while this is true,
 * so the API gets the CPU back and the queues, which lose nothing, drain once the load is gone.
 */
export const shedRecently = (withinMs = 1000, now = performance.now()) => now - lastShedAt < withinMs;

export type AdaptiveLimitOptions = {
  /**
   * The standing queue allowed (ms): when even the fastest answer of a window took longer while
   * more than `floor` were in flight, requests are queueing and the limit shrinks. Also the
   * window's length.
   */
  targetMs: number;
  /** Requests in flight that are never refused by the adaptive limit: below it nothing queues for long. */
  floor: number;
  /** The hard cap: the limit never grows past it. */
  max: number;
};
export const ADAPTIVE_DEFAULTS: AdaptiveLimitOptions = { targetMs: 500, floor: 16, max: 512 };

/**
 * A concurrency limit driven by queueing delay, as CoDel judges a queue: over each window of
 * `targetMs`, the fastest answer among those that ran crowded (more than `floor` in flight) is
 * the delay every request paid for waiting; above the target, the limit shrinks to four fifths
 * of what was in flight; otherwise it grows by a quarter per window, back to `max` within seconds
 * once the load is gone. A few slow requests (big imports) or one burst whose first answers are
 * quick never shrink it: only when every answer is slow.
 */
export class AdaptiveLimit {
  inFlight = 0;
  private limit: number;
  private windowStart = 0;
  /** Fastest crowded answer and most requests in flight in the current window. */
  private fastest = Number.POSITIVE_INFINITY;
  private peak = 0;

  constructor(readonly options: AdaptiveLimitOptions) {
    this.limit = options.max;
  }

  get current(): number {
    return Math.floor(this.limit);
  }

  admits(now = performance.now()): boolean {
    this.roll(now);
    return this.inFlight < Math.max(this.options.floor, this.current);
  }

  /** Count a request in; the returned function counts it out and feeds its latency back. */
  start(now = performance.now()): (end?: number) => void {
    this.inFlight++;
    this.peak = Math.max(this.peak, this.inFlight);
    const crowdedAtStart = this.inFlight > this.options.floor;
    return (end = performance.now()) => {
      this.roll(end);
      if (crowdedAtStart || this.inFlight > this.options.floor) this.fastest = Math.min(this.fastest, end - now);
      this.inFlight--;
    };
  }

  /** Close the window(s) that ended by `now`: shrink on a standing queue, else grow. */
  private roll(now: number): void {
    const { targetMs, floor, max } = this.options;
    const windows = Math.floor((now - this.windowStart) / targetMs);
    if (windows < 1) return;
    // Crowded, and no answer came back within the target (or none at all): a standing queue.
    if (this.peak > floor && this.fastest > targetMs)
      this.limit = Math.max(floor, Math.min(this.limit, this.peak) * 0.8);
    else this.limit = Math.min(max, this.limit * 1.25 + 1);
    // Later windows that passed with few in flight queued nothing: grow for each.
    if (windows > 1 && this.inFlight <= floor) this.limit = Math.min(max, this.limit * 1.25 ** (windows - 1));
    this.windowStart = now;
    this.fastest = Number.POSITIVE_INFINITY;
    this.peak = this.inFlight;
  }
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

/**
 * The policy of an HTML page that sets none of its own (the unsubscribe pages): no script at
 * all, styles inline or same-origin, its form posting back here only. /docs and /dashboard set
 * theirs (same-origin scripts only).
 */
export const HTML_CSP = [
  "default-src 'none'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "form-action 'self'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
].join("; ");

/**
 * Headers every response carries: no MIME sniffing, no framing, no referrer leaking ids; and a
 * Content-Security-Policy on every HTML page.
 */
export const securityHeaders = createMiddleware<AppEnv>(async (c, next) => {
  await next();
  c.header("x-content-type-options", "nosniff");
  c.header("x-frame-options", "DENY");
  c.header("referrer-policy", "no-referrer");
  if (c.res.headers.get("content-type")?.startsWith("text/html") && !c.res.headers.has("content-security-policy"))
    c.header("content-security-policy", HTML_CSP);
});
