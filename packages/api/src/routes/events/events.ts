import { createHash } from "node:crypto";
import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import {
  EventInput,
  normalizeDomain,
  type TrackingPayload,
  trackingSecret,
  verifyInboundWebhook,
  verifyTrackingToken,
} from "@icp/core";
import {
  addSuppression,
  claimWebhookSignature,
  eventAccountId,
  existingAccountIds,
  getInboundWebhookSecret,
  listSuppressions,
  publishEvents,
  removeSuppression,
  rotateInboundWebhookSecret,
  type Store,
} from "@icp/store";
import type { Context } from "hono";
import type { AppEnv } from "../../context.js";
import { type FieldError, Problem, problemResponse } from "../../problem.js";
import { problemResponses } from "../../schemas.js";

export const MAX_EVENTS_PER_REQUEST = 1000;

const Accepted = z.object({ accepted: z.number().int(), ids: z.array(z.string()) });

/**
 * Validate one event or an array of them (also `{events: [...]}`). Shape errors are 400 and
 * semantic ones (an account reference that can name no account) 422, each naming the event's
 * index and field (`3.type`); nothing is accepted unless every event is valid.
 */
export function parseEvents(body: unknown, ws: string): EventInput[] {
  const wrapped = body !== null && typeof body === "object" && !Array.isArray(body) && "events" in body;
  const list = wrapped ? (body as { events: unknown }).events : body;
  const many = Array.isArray(list);
  const arr: unknown[] = many ? (list as unknown[]) : [list];
  const prefix = (i: number) => (wrapped ? `events.${i}` : many ? `${i}` : "");
  const name = (i: number, path: readonly PropertyKey[]) =>
    [prefix(i), ...path.map(String)].filter(Boolean).join(".") || "body";
  if (!arr.length)
    throw new Problem("validation", "no events", [{ field: wrapped ? "events" : "body", message: "empty" }]);
  if (arr.length > MAX_EVENTS_PER_REQUEST)
    throw new Problem("validation", `at most ${MAX_EVENTS_PER_REQUEST} events per request, got ${arr.length}`, [
      { field: wrapped ? "events" : "body", message: `more than ${MAX_EVENTS_PER_REQUEST} events` },
    ]);
  const errors: FieldError[] = [];
  const out: EventInput[] = [];
  arr.forEach((raw, i) => {
    const r = EventInput.safeParse(raw);
    if (!r.success) {
      for (const issue of r.error.issues) errors.push({ field: name(i, issue.path), message: issue.message });
      return;
    }
    out.push(r.data);
  });
  if (errors.length)
    throw new Problem("validation", `${errors[0]?.field}: ${errors[0]?.message}`, errors.slice(0, 100));
  const semantic: FieldError[] = [];
  out.forEach((e, i) => {
    if (!eventAccountId(ws, e))
      semantic.push({
        field: name(i, [e.accountId ? "accountId" : "domain"]),
        message: e.accountId ? "not an account id (acc_…)" : "not a valid domain",
      });
  });
  if (semantic.length)
    throw new Problem("unprocessable", `${semantic[0]?.field}: ${semantic[0]?.message}`, semantic.slice(0, 100));
  return out;
}

/**
 * Every event must name an account of this workspace: an unknown (or another workspace's)
 * account gets 404 naming each event, and nothing is accepted, like any other invalid event.
 */
async function requireKnownAccounts(store: Store, ws: string, events: readonly EventInput[]): Promise<void> {
  const ids = events.map((e) => eventAccountId(ws, e) as string);
  const known = await existingAccountIds(store, ws, ids);
  const missing: FieldError[] = [];
  ids.forEach((id, i) => {
    if (!known.has(id))
      missing.push({
        field:
          events.length === 1
            ? events[i]?.accountId
              ? "accountId"
              : "domain"
            : `${i}.${events[i]?.accountId ? "accountId" : "domain"}`,
        message: "no such account in this workspace",
      });
  });
  if (missing.length)
    throw new Problem(
      "not-found",
      `${missing.length} of ${events.length} event(s) name an account that does not exist here (${missing[0]?.field})`,
      missing.slice(0, 100),
    );
}

async function jsonBody(c: Context<AppEnv>): Promise<unknown> {
  try {
    return await c.req.json();
  } catch (e) {
    throw new Problem("validation", `body is not valid JSON: ${(e as Error).message}`, [
      { field: "body", message: "invalid JSON" },
    ]);
  }
}

/** Authenticated routes (under /v1, behind the API key). */
export const eventRoutes = new OpenAPIHono<AppEnv>()
  .openapi(
    createRoute({
      method: "post",
      path: "/v1/events",
      tags: ["Engagement"],
      summary: "Record engagement events (one or an array of up to 1,000); processed in the background",
      description:
        "Idempotent by `id`: an event with an id already recorded counts once. Events name their account by `accountId` or `domain`; events for accounts that do not exist are dropped by the worker (and counted in its metrics). `at` defaults to now; late and out-of-order events are fine.",
      request: {
        body: {
          required: true,
          description:
            "One EventInput, an array of up to 1,000, or {events: [...]} (validated by the handler, so errors name index and field)",
          content: { "application/json": { schema: z.unknown() } },
        },
      },
      responses: {
        202: { description: "Accepted", content: { "application/json": { schema: Accepted } } },
        ...problemResponses(400, 401, 404, 413, 422),
      },
    }),
    async (c) => {
      const ws = c.get("workspaceId");
      const events = parseEvents(await jsonBody(c), ws);
      await requireKnownAccounts(c.get("store"), ws, events);
      return c.json(await publishEvents(c.get("store"), ws, events), 202);
    },
  )
  .openapi(
    createRoute({
      method: "post",
      path: "/v1/settings/inbound-webhook-secret",
      tags: ["Engagement"],
      summary: "Create or rotate the secret that signs provider webhooks (shown once)",
      responses: {
        201: {
          description: "The new secret; the previous one stops working at once",
          content: {
            "application/json": {
              schema: z.object({ secret: z.string(), createdAt: z.string(), url: z.string(), header: z.string() }),
            },
          },
        },
        ...problemResponses(401, 403),
      },
    }),
    async (c) => {
      const ws = c.get("workspaceId");
      const s = await rotateInboundWebhookSecret(c.get("store"), ws);
      return c.json(
        {
          ...s,
          url: `/v1/webhooks/events/${ws}`,
          header: 'X-ICP-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>',
        },
        201,
      );
    },
  )
  .openapi(
    createRoute({
      method: "get",
      path: "/v1/suppressions",
      tags: ["Engagement"],
      summary: "The suppression list: emails and do-not-contact domains",
      request: {
        query: z.object({
          limit: z.coerce.number().int().min(1).max(500).default(100),
          cursor: z.string().max(400).optional(),
        }),
      },
      responses: {
        200: {
          description: "A page",
          content: {
            "application/json": {
              schema: z.object({
                items: z.array(z.record(z.string(), z.unknown())),
                nextCursor: z.string().optional(),
              }),
            },
          },
        },
        ...problemResponses(400, 401),
      },
    }),
    async (c) => {
      const q = c.req.valid("query");
      return c.json(
        await listSuppressions(c.get("store"), c.get("workspaceId"), {
          limit: q.limit,
          ...(q.cursor ? { cursor: q.cursor } : {}),
        }),
        200,
      );
    },
  )
  .openapi(
    createRoute({
      method: "post",
      path: "/v1/suppressions",
      tags: ["Engagement"],
      summary: "Suppress an email or a whole domain (do not contact)",
      request: {
        body: {
          required: true,
          content: {
            "application/json": {
              schema: z
                .object({
                  email: z.email().max(320).optional(),
                  domain: z.string().min(1).max(253).optional(),
                  reason: z.string().min(1).max(200).default("manual"),
                })
                .refine((b) => (b.email === undefined) !== (b.domain === undefined), {
                  message: "exactly one of email or domain",
                  path: ["email"],
                })
                .refine((b) => b.domain === undefined || normalizeDomain(b.domain) !== undefined, {
                  message: "not a valid domain",
                  path: ["domain"],
                }),
            },
          },
        },
      },
      responses: {
        201: {
          description: "Suppressed (an existing entry is kept as it was)",
          content: { "application/json": { schema: z.record(z.string(), z.unknown()) } },
        },
        ...problemResponses(400, 401, 403),
      },
    }),
    async (c) => {
      const b = c.req.valid("json");
      const entry = await addSuppression(c.get("store"), c.get("workspaceId"), {
        ...(b.email ? { email: b.email } : { domain: b.domain as string }),
        reason: b.reason,
        source: c.get("actor"),
      });
      return c.json(entry, 201);
    },
  )
  .openapi(
    createRoute({
      method: "delete",
      path: "/v1/suppressions",
      tags: ["Engagement"],
      summary: "Remove an email or domain from the suppression list",
      request: {
        query: z
          .object({ email: z.email().max(320).optional(), domain: z.string().min(1).max(253).optional() })
          .refine((q) => (q.email === undefined) !== (q.domain === undefined), {
            message: "exactly one of email or domain",
            path: ["email"],
          }),
      },
      responses: { 204: { description: "Removed" }, ...problemResponses(400, 401, 403, 404) },
    }),
    async (c) => {
      const q = c.req.valid("query");
      const removed = await removeSuppression(
        c.get("store"),
        c.get("workspaceId"),
        q.email ? { email: q.email } : { domain: q.domain as string },
      );
      if (!removed) throw new Problem("not-found", `${q.email ?? q.domain} is not on the suppression list`);
      return c.body(null, 204);
    },
  );

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
  const p = verifyTrackingToken(trackingSecret(), c.req.param("token") ?? "");
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

/**
 * Routes without an API key: the signed provider webhook (HMAC with the workspace's inbound
 * secret) and the tracking endpoints (HMAC-signed tokens). Registered before the API-key
 * middleware.
 */
const TAG_PUBLIC = "Webhooks and tracking (no API key)";
const Token = z.object({ token: z.string().openapi({ description: "The signed token from the email" }) });
const HtmlPage = (description: string) => ({ description, content: { "text/html": { schema: z.string() } } });

export const publicEventRoutes = new OpenAPIHono<AppEnv>()
  .openapi(
    createRoute({
      method: "post",
      path: "/v1/webhooks/events/{workspaceId}",
      tags: [TAG_PUBLIC],
      security: [],
      summary: "Receive engagement events from a provider or automation tool, signed with the inbound secret",
      description:
        'No API key: the request is authenticated by `X-ICP-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>` with the secret from `POST /v1/settings/inbound-webhook-secret`. Signatures older than 5 minutes and replays of a signed request are refused. The body is what `POST /v1/events` takes.',
      request: {
        params: z.object({ workspaceId: z.string() }),
        headers: z.object({ "x-icp-signature": z.string().optional() }),
        body: {
          required: true,
          description: "One EventInput, an array of up to 1,000, or {events: [...]}",
          // A plain schema object, not zod: no validator may parse the body before the signature is
          // checked over its raw bytes.
          content: { "application/json": { schema: { description: "What POST /v1/events takes" } } },
        },
      },
      responses: {
        202: { description: "Accepted", content: { "application/json": { schema: Accepted } } },
        ...problemResponses(400, 401, 404, 409, 413, 422),
      },
    }),
    async (c) => {
      const ws = c.req.param("workspaceId");
      if (!/^[A-Za-z0-9_-]{1,64}$/.test(ws)) throw new Problem("not-found", "no such webhook");
      const store = c.get("store");
      const raw = await c.req.text();
      const secret = await getInboundWebhookSecret(store, ws);
      // Same answer for an unknown workspace and a bad signature: nothing to probe.
      if (!secret) throw new Problem("unauthorized", "signature does not match");
      const check = verifyInboundWebhook(secret, c.req.header("x-icp-signature"), raw, Math.floor(Date.now() / 1000));
      if (!check.ok) throw new Problem("unauthorized", check.reason);
      let body: unknown;
      try {
        body = JSON.parse(raw);
      } catch (e) {
        throw new Problem("validation", `body is not valid JSON: ${(e as Error).message}`, [
          { field: "body", message: "invalid JSON" },
        ]);
      }
      const events = parseEvents(body, ws);
      if (!(await claimWebhookSignature(store, ws, check.v1, check.t)))
        throw new Problem("conflict", "this signed request was already received (replay)");
      return c.json(await publishEvents(store, ws, events), 202);
    },
  )
  .openapi(
    createRoute({
      method: "get",
      path: "/t/o/{token}",
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
      path: "/t/c/{token}",
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
  )
  .openapi(
    createRoute({
      method: "get",
      path: "/u/{token}",
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
      path: "/u/{token}",
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
