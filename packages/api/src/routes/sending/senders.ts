import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import { SenderInput, SenderLimits } from "@icp/core";
import { createSender, getSender, listSenders, senderUsage } from "@icp/store";
import type { AppEnv } from "../../context.js";
import { Problem } from "../../problem.js";
import { problemResponses } from "../../schemas.js";

const json = <T extends z.ZodType>(schema: T, description: string) => ({
  description,
  content: { "application/json": { schema } },
});

const UsageSchema = z.object({
  channel: z.enum(["email", "linkedin_invite", "linkedin_message"]),
  day: z.string().describe("UTC day the counts are for"),
  sent: z.number().int(),
  limit: z.number().int().describe("Today's limit (email ramps with the mailbox's age)"),
  nextAt: z.string().nullable().describe("Earliest next send (gap with jitter)"),
  week: z.object({ start: z.string(), sent: z.number().int(), limit: z.number().int() }).optional(),
});

export const SenderSchema = z
  .object({
    id: z.string(),
    kind: z.enum(["mailbox", "linkedin"]),
    name: z.string(),
    email: z.string().optional(),
    signature: z.string().optional(),
    linkedinUrl: z.string().optional(),
    warmupStart: z.string(),
    limits: SenderLimits,
    createdAt: z.string(),
    usage: z.array(UsageSchema).optional().describe("Today's usage per channel"),
  })
  .openapi("Sender");

const IdParam = z.object({
  id: z
    .string()
    .regex(/^snd_[0-9A-Z]{26}$/, "not a sender id")
    .openapi({ param: { name: "id", in: "path" } }),
});

/** Mounted at /v1/senders. */
export const senderRoutes = new OpenAPIHono<AppEnv>()
  .openapi(
    createRoute({
      method: "post",
      path: "/",
      tags: ["Senders"],
      summary:
        "Add a mailbox or LinkedIn seat; its caps (email 30/day +2/day to 100, 9 min gap; LinkedIn 20 invites/day, 100/week, 50 messages/day) are shared by all sequences",
      request: { body: { required: true, content: { "application/json": { schema: SenderInput } } } },
      responses: { 201: json(SenderSchema, "Created"), ...problemResponses(400, 401) },
    }),
    async (c) => {
      const s = await createSender(c.get("store"), c.get("workspaceId"), c.req.valid("json"));
      c.header("location", `/v1/senders/${s.id}`);
      return c.json(s, 201);
    },
  )
  .openapi(
    createRoute({
      method: "get",
      path: "/",
      tags: ["Senders"],
      summary: "The workspace's senders with today's usage",
      responses: { 200: json(z.object({ items: z.array(SenderSchema) }), "Senders"), ...problemResponses(401) },
    }),
    async (c) => {
      const store = c.get("store");
      const ws = c.get("workspaceId");
      const senders = await listSenders(store, ws);
      const usage = await senderUsage(store, ws, senders);
      return c.json({ items: senders.map((s) => ({ ...s, usage: usage.get(s.id) ?? [] })) }, 200);
    },
  )
  .openapi(
    createRoute({
      method: "get",
      path: "/{id}",
      tags: ["Senders"],
      summary: "A sender with today's usage per channel",
      request: { params: IdParam },
      responses: { 200: json(SenderSchema, "Sender"), ...problemResponses(401, 404) },
    }),
    async (c) => {
      const store = c.get("store");
      const ws = c.get("workspaceId");
      const { id } = c.req.valid("param");
      const s = await getSender(store, ws, id);
      if (!s) throw new Problem("not-found", `no sender ${id} in this workspace`);
      const usage = await senderUsage(store, ws, [s]);
      return c.json({ ...s, usage: usage.get(s.id) ?? [] }, 200);
    },
  );
