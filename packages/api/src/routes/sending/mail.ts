import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import { getWebhookSecret, listCapturedMail, rotateWebhookSecret } from "@icp/store";
import type { AppEnv } from "../../context.js";
import { Problem } from "../../problem.js";
import { problemResponses } from "../../schemas.js";

const json = <T extends z.ZodType>(schema: T, description: string) => ({
  description,
  content: { "application/json": { schema } },
});

const SecretInfo = z
  .object({
    configured: z.boolean(),
    createdAt: z.string().optional(),
    last4: z.string().optional().describe("Last characters of the secret, to tell secrets apart"),
    signature: z.string().describe("How deliveries are signed"),
  })
  .openapi("WebhookSecretInfo");

const SIGNATURE_DOC =
  'X-ICP-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>"> with the workspace secret; reject t older than 5 minutes';

const CapturedMailSchema = z
  .object({
    id: z.string(),
    receivedAt: z.string(),
    from: z.string(),
    to: z.array(z.string()),
    subject: z.string(),
    messageId: z.string().optional(),
    headers: z.record(z.string(), z.string()),
    text: z.string().optional(),
    html: z.string().optional(),
    size: z.number().int(),
  })
  .openapi("CapturedMail");

/** Outbound settings (webhook signing secret) and the local mail capture. */
export const outboundRoutes = new OpenAPIHono<AppEnv>()
  .openapi(
    createRoute({
      method: "get",
      path: "/v1/settings/webhook-secret",
      tags: ["Settings"],
      summary: "Whether the outbound webhook signing secret is set (the secret itself is shown only when rotated)",
      responses: { 200: json(SecretInfo, "Secret info"), ...problemResponses(401) },
    }),
    async (c) => {
      const s = await getWebhookSecret(c.get("store"), c.get("workspaceId"));
      return c.json(
        s
          ? { configured: true, createdAt: s.createdAt, last4: s.secret.slice(-4), signature: SIGNATURE_DOC }
          : { configured: false, signature: SIGNATURE_DOC },
        200,
      );
    },
  )
  .openapi(
    createRoute({
      method: "post",
      path: "/v1/settings/webhook-secret",
      tags: ["Settings"],
      summary: "Rotate the outbound webhook signing secret; the new secret is returned this once",
      responses: {
        201: json(z.object({ secret: z.string(), createdAt: z.string(), signature: z.string() }), "New secret"),
        ...problemResponses(401),
      },
    }),
    async (c) => {
      const s = await rotateWebhookSecret(c.get("store"), c.get("workspaceId"));
      c.header("cache-control", "no-store");
      return c.json({ ...s, signature: SIGNATURE_DOC }, 201);
    },
  )
  .openapi(
    createRoute({
      method: "get",
      path: "/v1/mail",
      tags: ["Mail"],
      summary: "Mail captured by the local SMTP server for this workspace, newest first (always empty in AWS)",
      request: {
        query: z.object({
          limit: z.coerce.number().int().min(1).max(200).default(50),
          cursor: z.string().max(500).optional(),
        }),
      },
      responses: {
        200: json(z.object({ items: z.array(CapturedMailSchema), nextCursor: z.string().optional() }), "Mail"),
        ...problemResponses(400, 401),
      },
    }),
    async (c) => {
      const q = c.req.valid("query");
      if (q.cursor && !Buffer.from(q.cursor, "base64url").toString("utf8").startsWith("M#"))
        throw new Problem("validation", "cursor: not a cursor from this list", [
          { field: "cursor", message: "not a cursor from this list" },
        ]);
      return c.json(await listCapturedMail(c.get("store"), c.get("workspaceId"), q), 200);
    },
  );
