import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import { verifyInboundWebhook } from "@icp/core";
import { claimWebhookSignature, getInboundWebhookSecret, publishEvents } from "@icp/store";
import type { AppEnv } from "../../context.js";
import { Problem } from "../../problem.js";
import { problemResponses } from "../../schemas.js";
import { Accepted, parseEvents } from "./payload.js";
import { TAG_PUBLIC } from "./tracking.js";

/**
 * The provider webhook, signed (HMAC) with the workspace's inbound secret instead of an API key;
 * mounted at /v1/webhooks/events, ahead of the API-key middleware.
 */
export const webhookRoutes = new OpenAPIHono<AppEnv>().openapi(
  createRoute({
    method: "post",
    path: "/{workspaceId}",
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
);
