import { type ApiKeyInfo, type Scope, touchApiKey, verifyApiKey } from "@icp/store";
import { createMiddleware } from "hono/factory";
import type { AppEnv } from "./context.js";
import { Problem } from "./problem.js";

const CACHE_MS = 10_000;
const TOUCH_MS = 60_000;
const cache = new Map<string, { key: ApiKeyInfo | undefined; until: number }>();
const touched = new Map<string, number>();

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
  for (const [k, v] of cache) if (v.key?.id === id) cache.delete(k);
};

/**
 * Bearer API key -> workspace and scopes. Verdicts are cached for a few seconds per process
 * so a busy API does not read the key item on every request; a revocation therefore takes
 * effect within CACHE_MS everywhere (at once in the process that revoked it).
 */
export const requireApiKey = createMiddleware<AppEnv>(async (c, next) => {
  const m = /^Bearer\s+(\S{1,300})$/i.exec(c.req.header("authorization") ?? "");
  if (!m?.[1]) throw new Problem("unauthorized", "send the API key as `Authorization: Bearer <key>`");
  const plain = m[1];
  const now = Date.now();
  let hit = cache.get(plain);
  if (!hit || hit.until < now) {
    const key = await verifyApiKey(c.get("store"), plain);
    // Unknown keys are remembered only briefly, so a key created a moment later works.
    hit = { key, until: now + (key ? CACHE_MS : 2_000) };
    if (cache.size > 10_000) cache.clear();
    cache.set(plain, hit);
  }
  const key = hit.key;
  if (!key) throw new Problem("unauthorized", "this API key is not valid (unknown or revoked)");
  const need = needed(c.req.method, c.req.path);
  if (!allows(key.scopes, need))
    throw new Problem(
      "forbidden",
      `this API key has scopes [${key.scopes.join(", ")}]; ${c.req.method} ${c.req.path} needs "${need}"`,
    );
  c.set("workspaceId", key.workspaceId);
  c.set("actor", `key:${key.label || key.id}`);
  c.set("apiKeyId", key.id);
  if ((touched.get(key.id) ?? 0) < now - TOUCH_MS) {
    touched.set(key.id, now);
    void touchApiKey(c.get("store"), key.workspaceId, key.id);
  }
  await next();
});
