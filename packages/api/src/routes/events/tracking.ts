import { createHash } from "node:crypto";
import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import { type EventInput, type TrackingPayload, verifyTrackingToken } from "@icp/core";
import { publishEvents, type Store } from "@icp/store";
import type { Context } from "hono";
import type { AppEnv } from "../../context.js";
import { Problem, problemResponse } from "../../problem.js";
import { problemResponses } from "../../schemas.js";

/** 1×1 transparent GIF. */
const PIXEL = Buffer.from("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7", "base64");

const fromToken = (p: TrackingPayload): Omit<EventInput, "type"> => ({
  accountId: p.accountId,
  ...(p.contactId ? { contactId: p.contactId } : {}),
  ...(p.enrollmentId ? { enrollmentId: p.enrollmentId } : {}),
  ...(p.sequenceId ? { sequenceId: p.sequenceId } : {}),
  ...(p.sequenceVersion ? { sequenceVersion: p.sequenceVersion } : {}),
  ...(p.stepId ? { stepId: p.stepId } : {}),
  ...(p.variant ? { variant: p.variant } : {}),
  channel: "email",
});

const token = (c: Context<AppEnv>, kind: TrackingPayload["kind"]) => {
  const p = verifyTrackingToken(c.get("settings")().trackingSecret, c.req.param("token") ?? "");
  return p && p.kind === kind ? p : undefined;
};

const safeUrl = (u: string | undefined) => {
  if (!u) return undefined;
  try {
    const url = new URL(u);
    return url.protocol === "https:" || url.protocol === "http:" ? url.href : undefined;
  } catch {
    return undefined;
  }
};

const html = (title: string, body: string) =>
  `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width"><title>${title}</title></head><body style="font-family:system-ui,sans-serif;max-width:32rem;margin:4rem auto;padding:0 1rem">${body}</body></html>`;

async function recordUnsubscribe(store: Store, p: TrackingPayload, tok: string) {
  // One unsubscribe per token: a repeated click or a mail client's automatic POST counts once.
  const id = `unsub_${createHash("sha256").update(tok).digest("hex").slice(0, 32)}`;
  await publishEvents(store, p.workspaceId, [{ ...fromToken(p), id, type: "unsubscribed" }]);
}

/** Routes without an API key share this tag: the signed provider webhook and the tracking links. */
export const TAG_PUBLIC = "Webhooks and tracking (no API key)";
const Token = z.object({ token: z.string().openapi({ description: "The signed token from the email" }) });
const HtmlPage = (description: string) => ({ description, content: { "text/html": { schema: z.string() } } });

/** Open and click tracking (HMAC-signed tokens, no API key), mounted at /t. */
export const trackingRoutes = new OpenAPIHono<AppEnv>()
  .openapi(
    createRoute({
      method: "get",
      path: "/o/{token}",
      tags: [TAG_PUBLIC],
      security: [],
      summary: "Open-tracking pixel: records an `opened` event and answers a 1x1 GIF",
      description:
        "Always answers the image, so a mail client never shows a broken one; an invalid token records nothing.",
      request: { params: Token },
      responses: {
        200: {
          description: "A transparent 1x1 GIF, not cached",
          content: { "image/gif": { schema: z.string().openapi({ format: "binary" }) } },
        },
      },
    }),
    async (c) => {
      const p = token(c, "open");
      if (p) await publishEvents(c.get("store"), p.workspaceId, [{ ...fromToken(p), type: "opened" }]);
      return c.body(PIXEL, 200, {
        "content-type": "image/gif",
        "cache-control": "no-store, no-cache, must-revalidate, private",
        "content-length": String(PIXEL.length),
      }) as never;
    },
  )
  .openapi(
    createRoute({
      method: "get",
      path: "/c/{token}",
      tags: [TAG_PUBLIC],
      security: [],
      summary: "Click tracking: records a `clicked` event and redirects to the link the email carried",
      description: "Redirects only to the http(s) URL signed into the token (no open redirect).",
      request: { params: Token },
      responses: {
        302: {
          description: "Redirect to the original link",
          headers: z.object({ location: z.string().openapi({ description: "The original link" }) }),
        },
        ...problemResponses(404),
      },
    }),
    async (c) => {
      const p = token(c, "click");
      const url = safeUrl(p?.url);
      if (!p || !url) return problemResponse(c, new Problem("not-found", "unknown link")) as never;
      await publishEvents(c.get("store"), p.workspaceId, [{ ...fromToken(p), type: "clicked", url }]);
      return c.body(null, 302, {
        location: url,
        "cache-control": "no-store",
        "referrer-policy": "no-referrer",
      }) as never;
    },
  );

/** The unsubscribe link of every email (HMAC-signed token, no API key), mounted at /u. */
export const unsubscribeRoutes = new OpenAPIHono<AppEnv>()
  .openapi(
    createRoute({
      method: "get",
      path: "/{token}",
      tags: [TAG_PUBLIC],
      security: [],
      summary: "Unsubscribe page (the link in every email): asks for confirmation",
      request: { params: Token },
      responses: { 200: HtmlPage("The confirmation page"), 404: HtmlPage("The link is not valid") },
    }),
    (c) => {
      const p = token(c, "unsubscribe");
      if (!p) return c.html(html("Unknown link", "<h1>This link is not valid</h1>"), 404) as never;
      return c.html(
        html(
          "Unsubscribe",
          `<h1>Unsubscribe</h1><p>Stop receiving these emails?</p><form method="post"><button type="submit">Unsubscribe</button></form>`,
        ),
        200,
      ) as never;
    },
  )
  .openapi(
    createRoute({
      method: "post",
      path: "/{token}",
      tags: [TAG_PUBLIC],
      security: [],
      summary: "Unsubscribe (the page's button, and RFC 8058 one-click `List-Unsubscribe-Post` from mail clients)",
      description:
        "Records one `unsubscribed` event per token (a repeated click counts once); the contact is suppressed.",
      request: { params: Token },
      responses: { 200: HtmlPage("Unsubscribed"), 404: HtmlPage("The link is not valid") },
    }),
    async (c) => {
      const tok = c.req.param("token") ?? "";
      const p = token(c, "unsubscribe");
      if (!p) return c.html(html("Unknown link", "<h1>This link is not valid</h1>"), 404) as never;
      await recordUnsubscribe(c.get("store"), p, tok);
      return c.html(
        html("Unsubscribed", "<h1>You are unsubscribed</h1><p>You will not receive these emails again.</p>"),
        200,
      ) as never;
    },
  );
