import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import { SendingSettings, SendingWindow } from "@icp/core";
import {
  getSendingSettings,
  getWebhookSecret,
  putSendingSettings,
  rotateInboundWebhookSecret,
  rotateWebhookSecret,
} from "@icp/store";
import type { AppEnv } from "../../context.js";
import { Problem } from "../../problem.js";
import { problemResponses } from "../../schemas.js";

/**
 * The workspace's settings under /v1/settings: the sending window, the outbound webhook signing
 * secret and the inbound (provider webhook) secret. Each keeps the tag of the flow it configures.
 */

const json = <T extends z.ZodType>(schema: T, description: string) => ({
  description,
  content: { "application/json": { schema } },
});

/** The sending window (in the recipient's zone: contact's, else account's, else this timezone) and holidays. */
const SendingSettingsSchema = z.object(SendingWindow.shape).openapi("SendingSettings");

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

/** Mounted at /v1/settings. */
export const settingsRoutes = new OpenAPIHono<AppEnv>()
  .openapi(
    createRoute({
      method: "get",
      path: "/sending",
      tags: ["Routing"],
      summary: "The workspace's sending window and holidays",
      responses: { 200: json(SendingSettingsSchema, "Sending settings"), ...problemResponses(401) },
    }),
    async (c) => c.json(await getSendingSettings(c.get("store"), c.get("workspaceId")), 200),
  )
  .openapi(
    createRoute({
      method: "put",
      path: "/sending",
      tags: ["Routing"],
      summary: "Replace the sending window (days, hours, time zone) and holidays",
      request: { body: { required: true, content: { "application/json": { schema: SendingSettingsSchema } } } },
      responses: { 200: json(SendingSettingsSchema, "Saved"), ...problemResponses(400, 401) },
    }),
    async (c) => {
      // The stricter checks (zone, end after start) run here so the problem names the field.
      const parsed = SendingSettings.safeParse(c.req.valid("json"));
      if (!parsed.success) {
        const errors = parsed.error.issues.map((i) => ({ field: i.path.join(".") || "body", message: i.message }));
        throw new Problem("validation", `${errors[0]?.field}: ${errors[0]?.message}`, errors);
      }
      return c.json(await putSendingSettings(c.get("store"), c.get("workspaceId"), parsed.data), 200);
    },
  )
  .openapi(
    createRoute({
      method: "get",
      path: "/webhook-secret",
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
      path: "/webhook-secret",
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
      method: "post",
      path: "/inbound-webhook-secret",
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
  );
