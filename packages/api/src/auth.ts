import { type ApiKeyOwner, workspaceForApiKey } from "@icp/store";
import { createMiddleware } from "hono/factory";
import type { AppEnv } from "./context.js";
import { Problem } from "./problem.js";

const CACHE_MS = 30_000;
const cache = new Map<string, { owner: ApiKeyOwner | undefined; until: number }>();

/**
 * Bearer API key -> workspace. The key's hash is looked up in the table; results are cached
 * briefly per process so a hot API does not read the key item on every request.
 */
export const requireApiKey = createMiddleware<AppEnv>(async (c, next) => {
  const header = c.req.header("authorization") ?? "";
  const m = /^Bearer\s+(\S{8,200})$/i.exec(header);
  if (!m?.[1]) throw new Problem("unauthorized", "send the API key as `Authorization: Bearer <key>`");
  const key = m[1];
  const now = Date.now();
  let hit = cache.get(key);
  if (!hit || hit.until < now) {
    const owner = await workspaceForApiKey(c.get("store"), key);
    // Unknown keys are remembered only briefly, so a key created a moment later works.
    hit = { owner, until: now + (owner ? CACHE_MS : 2_000) };
    if (cache.size > 10_000) cache.clear();
    cache.set(key, hit);
  }
  if (!hit.owner) throw new Problem("unauthorized", "this API key is not valid");
  c.set("workspaceId", hit.owner.workspaceId);
  c.set("actor", `key:${hit.owner.label}`);
  await next();
});
