import type { Context } from "hono";
import { createMiddleware } from "hono/factory";
import type { AppEnv } from "./context.js";
import { Lru } from "./lru.js";
import { Problem } from "./problem.js";

/** At most `max` hits per `windowMs` for one client (fixed windows: cheap and predictable). */
export type Limit = { max: number; windowMs: number };

/**
 * Hits per key (client address, token) in the current window, in a bounded LRU so that a flood
 * of distinct keys cannot grow it. Per process: API Gateway's route throttling bounds the total
 * in front of every Lambda instance; this bounds one client within an instance (and locally).
 */
export class RateLimiter {
  private readonly windows: Lru<string, { count: number; start: number }>;

  constructor(
    readonly limit: Limit,
    capacity = 10_000,
  ) {
    this.windows = new Lru(capacity);
  }

  /** Seconds until `key` may be served again (0: it may be now), without counting a hit. */
  retryAfter(key: string, now = Date.now()): number {
    const w = this.windows.get(key, now);
    if (!w || w.count < this.limit.max) return 0;
    return Math.max(1, Math.ceil((w.start + this.limit.windowMs - now) / 1000));
  }

  /** Count one hit for `key`; answers retryAfter as it was before this hit. */
  hit(key: string, now = Date.now()): number {
    const wait = this.retryAfter(key, now);
    if (wait) return wait;
    const w = this.windows.get(key, now);
    if (w) w.count++;
    else this.windows.set(key, { count: 1, start: now }, this.limit.windowMs, now);
    return 0;
  }
}

type LambdaEnv = { event?: { requestContext?: { http?: { sourceIp?: string } } } };
type NodeEnv = { incoming?: { socket?: { remoteAddress?: string } } };

/**
 * The client's address: API Gateway's own view of the caller in Lambda
 * (requestContext.http.sourceIp), the socket's peer under Node. Never X-Forwarded-For: any
 * client can write it. Requests without either (app.request in tests) share one bucket.
 */
export function clientAddress(c: Context): string {
  const env = c.env as (LambdaEnv & NodeEnv) | undefined;
  return env?.event?.requestContext?.http?.sourceIp ?? env?.incoming?.socket?.remoteAddress ?? "unknown";
}

/** 429 problem+json with Retry-After (seconds). */
export function tooManyRequests(c: Context, retryAfter: number, what: string): Problem {
  c.header("retry-after", String(retryAfter));
  return new Problem("too-many-requests", `${what}; retry after ${retryAfter} s`);
}

/**
 * A rate limit on a public route, per client address and, given `perToken`, per token in the
 * path's last segment (a tracking link hammered from many addresses is still one link).
 */
export function rateLimit(perClient: Limit, perToken?: Limit) {
  const clients = new RateLimiter(perClient);
  const tokens = perToken ? new RateLimiter(perToken) : undefined;
  return createMiddleware<AppEnv>(async (c, next) => {
    const byClient = clients.hit(clientAddress(c));
    if (byClient) throw tooManyRequests(c, byClient, "too many requests from this address");
    // The token is the path's last segment (/t/o/<token>, /u/<token>).
    const token = tokens ? c.req.path.slice(c.req.path.lastIndexOf("/") + 1) : undefined;
    const byToken = token && tokens ? tokens.hit(token) : 0;
    if (byToken) throw tooManyRequests(c, byToken, "too many requests for this link");
    await next();
  });
}

/**
 * The public routes' limits, per process. Tracking pixels and links are fetched by mail clients'
 * image proxies, many recipients behind one address, so the per-address limit is generous and
 * the per-link one tight; one recipient unsubscribes once; a provider posts webhooks in bulk from
 * a few addresses (the per-"token" limit is per workspace, the path's last segment).
 */
export const PUBLIC_LIMITS = {
  tracking: { perClient: { max: 1200, windowMs: 60_000 }, perToken: { max: 30, windowMs: 60_000 } },
  unsubscribe: { perClient: { max: 60, windowMs: 60_000 }, perToken: { max: 10, windowMs: 60_000 } },
  webhooks: { perClient: { max: 600, windowMs: 60_000 }, perToken: { max: 1200, windowMs: 60_000 } },
} as const satisfies Record<string, { perClient: Limit; perToken: Limit }>;

/** One set of public-route limiters (one per app). */
export function publicRateLimits() {
  const of = (l: { perClient: Limit; perToken: Limit }) => rateLimit(l.perClient, l.perToken);
  return {
    tracking: of(PUBLIC_LIMITS.tracking),
    unsubscribe: of(PUBLIC_LIMITS.unsubscribe),
    webhooks: of(PUBLIC_LIMITS.webhooks),
  };
}
