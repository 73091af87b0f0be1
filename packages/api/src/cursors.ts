import { createHmac, timingSafeEqual } from "node:crypto";
import { createMiddleware } from "hono/factory";
import type { AppEnv } from "./context.js";
import { Problem } from "./problem.js";

/**
 * Pagination cursors are sealed at the API's edge: what a client sees is
 * `base64url(store cursor).base64url(HMAC-SHA256(key, workspace + store cursor))`, so it is
 * opaque, and any altered cursor, or one from another workspace, is a 400 before the store sees
 * it (an altered start key used to reach DynamoDB and answer 500). The store's own cursors are
 * unchanged: a route receives the opened cursor in its query and returns the store's; this
 * middleware, mounted after the API key check (it needs the workspace), swaps them.
 */
const QUERY_CURSORS = ["cursor", "errorsCursor"] as const;
const BODY_CURSORS = ["nextCursor", "errorsNextCursor"] as const;
const MAC_CHARS = 22; // 128 bits

/** A key of its own for cursors, derived from the server secret (never the secret itself). */
export const cursorKey = (secret: string) => createHmac("sha256", secret).update("icp-cursor-v1").digest();

const mac = (key: Buffer, ws: string, raw: string) =>
  createHmac("sha256", key).update(`${ws}\n${raw}`).digest("base64url").slice(0, MAC_CHARS);

export function sealCursor(key: Buffer, ws: string, raw: string): string {
  return `${Buffer.from(raw).toString("base64url")}.${mac(key, ws, raw)}`;
}

/** The store's cursor, or undefined when the sealed one was altered or is another workspace's. */
export function openCursor(key: Buffer, ws: string, sealed: string): string | undefined {
  const dot = sealed.indexOf(".");
  if (dot < 0) return undefined;
  const raw = Buffer.from(sealed.slice(0, dot), "base64url").toString();
  const given = Buffer.from(sealed.slice(dot + 1));
  const expected = Buffer.from(mac(key, ws, raw));
  return given.length === expected.length && timingSafeEqual(given, expected) ? raw : undefined;
}

export const sealCursors = createMiddleware<AppEnv>(async (c, next) => {
  if (c.req.method !== "GET") return next();
  const ws = c.get("workspaceId");
  let key: Buffer | undefined;
  const keyOnce = () => {
    key ??= cursorKey(c.get("settings")().trackingSecret);
    return key;
  };
  const url = new URL(c.req.url);
  let opened = false;
  for (const name of QUERY_CURSORS) {
    const sealed = url.searchParams.get(name);
    if (sealed === null) continue;
    const raw = openCursor(keyOnce(), ws, sealed);
    if (raw === undefined)
      throw new Problem("validation", `${name} is not one this API returned`, [
        { field: name, message: "invalid cursor" },
      ]);
    url.searchParams.set(name, raw);
    opened = true;
  }
  if (opened) c.req.raw = new Request(url, c.req.raw);
  await next();
  if (c.res.status !== 200 || !c.res.headers.get("content-type")?.startsWith("application/json")) return;
  const text = await c.res.clone().text();
  if (!BODY_CURSORS.some((name) => text.includes(`"${name}"`))) return;
  const body = JSON.parse(text) as Record<string, unknown>;
  for (const name of BODY_CURSORS) {
    const raw = body[name];
    if (typeof raw === "string") body[name] = sealCursor(keyOnce(), ws, raw);
  }
  c.res = new Response(JSON.stringify(body), c.res);
});
