import { createHash } from "node:crypto";
import { type ApiKeyInfo, type Scope, type Store, touchApiKey, verifyApiKey } from "@icp/store";
import { createMiddleware } from "hono/factory";
import type { AppEnv } from "./context.js";
import { Lru } from "./lru.js";
import { Problem } from "./problem.js";
import { clientAddress, type Limit, RateLimiter, tooManyRequests } from "./rate-limit.js";

const CACHE_MS = 10_000;
/** Unknown keys are remembered only briefly, so a key created a moment later works. */
const UNKNOWN_MS = 2_000;
/** How long a key once verified keeps its way past the failure throttle (not its verdict: CACHE_MS). */
const KNOWN_VALID_MS = 3_600_000;
const TOUCH_MS = 60_000;
const CAPACITY = 10_000;

/**
 * Per-process memory, keyed by the SHA-256 of the key (never the key itself, so a heap dump
 * holds no usable key), bounded so that a flood of random keys evicts old entries instead of
 * growing the heap. `null` is a remembered "not valid".
 */
const verdicts = new Lru<string, ApiKeyInfo | null>(CAPACITY);
const knownValid = new Lru<string, string>(CAPACITY);
const touched = new Lru<string, number>(CAPACITY);

/** Failed authentications per client address before refusing unknown keys (429) until the window ends. */
export const AUTH_FAILURE_LIMIT: Limit = { max: 30, windowMs: 60_000 };

/** Scopes nest: admin can do what write can, write what read can. */
const RANK: Record<Scope, number> = { read: 1, write: 2, admin: 3 };
const allows = (scopes: readonly Scope[], need: Scope) => scopes.some((s) => RANK[s] >= RANK[need]);

/**
 * What a request needs: managing keys and webhook secrets is admin, changing data is write,
 * reading is read (rendering a preview is a read even though it is a POST).
 */
export function needed(method: string, path: string): Scope {
  if (path.startsWith("/v1/api-keys") || /^\/v1\/settings\/[\w-]*secret/.test(path)) return "admin";
  if (method === "GET" || method === "HEAD") return "read";
  return method === "POST" && /^\/v1\/sequences\/[^/]+\/preview$/.test(path) ? "read" : "write";
}

/** Forget cached verdicts for a key (after it is revoked in this process). */
export const forgetApiKey = (id: string) => {
  verdicts.deleteWhere((v) => v?.id === id);
  knownValid.deleteWhere((keyId) => keyId === id);
};

const hashOf = (plain: string) => createHash("sha256").update(plain).digest("base64url");

/** The key's verdict: from the cache, else from the store (then cached). */
async function verdict(store: Store, hash: string, plain: string): Promise<ApiKeyInfo | null> {
  const cached = verdicts.get(hash);
  if (cached !== undefined) return cached;
  const key = (await verifyApiKey(store, plain)) ?? null;
  verdicts.set(hash, key, key ? CACHE_MS : UNKNOWN_MS);
  if (key) knownValid.set(hash, key.id, KNOWN_VALID_MS);
  return key;
}

/**
 * Bearer API key -> workspace and scopes. Verdicts are cached for a few seconds per process
 * so a busy API does not read the key item on every request; a revocation therefore takes
 * effect within CACHE_MS everywhere (at once in the process that revoked it).
 *
 * Failed authentications are counted per client address; past `failures.max` in a window the
 * address gets 429 + Retry-After without a key lookup. A key this process has verified within
 * the hour is never refused by that throttle, so an attacker hammering bad keys from a shared
 * address cannot lock out a working client behind it: only a key never seen here waits.
 */
export function apiKeyAuth(failures: Limit = AUTH_FAILURE_LIMIT) {
  const throttle = new RateLimiter(failures);
  return createMiddleware<AppEnv>(async (c, next) => {
    const client = clientAddress(c);
    const refuse = (detail: string): never => {
      const wait = throttle.hit(client);
      if (wait) throw tooManyRequests(c, wait, "too many failed authentications from this address");
      throw new Problem("unauthorized", detail);
    };
    const m = /^Bearer\s+(\S{1,300})$/i.exec(c.req.header("authorization") ?? "");
    if (!m?.[1]) return refuse("send the API key as `Authorization: Bearer <key>`");
    const plain = m[1];
    const hash = hashOf(plain);
    if (!knownValid.get(hash)) {
      const wait = throttle.retryAfter(client);
      if (wait) throw tooManyRequests(c, wait, "too many failed authentications from this address");
    }
    const key = await verdict(c.get("store"), hash, plain);
    if (!key) return refuse("this API key is not valid (unknown or revoked)");
    const need = needed(c.req.method, c.req.path);
    if (!allows(key.scopes, need))
      throw new Problem(
        "forbidden",
        `this API key has scopes [${key.scopes.join(", ")}]; ${c.req.method} ${c.req.path} needs "${need}"`,
      );
    c.set("workspaceId", key.workspaceId);
    c.set("actor", `key:${key.label || key.id}`);
    c.set("apiKeyId", key.id);
    const now = Date.now();
    if (!touched.get(key.id, now)) {
      touched.set(key.id, now, TOUCH_MS, now);
      void touchApiKey(c.get("store"), key.workspaceId, key.id);
    }
    await next();
  });
}
