import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import { RoutingRules, SendingSettings, SendingWindow } from "@icp/core";
import { getRoutingRules, getSendingSettings, getSequence, putRoutingRules, putSendingSettings } from "@icp/store";
import type { AppEnv } from "../../context.js";
import { Problem } from "../../problem.js";
import { problemResponses } from "../../schemas.js";

/** Which sequence per tier × segment × ICP (most specific wins), re-entry, and account-level stop on reply/meeting. */
const RoutingRulesSchema = RoutingRules;
/** The sending window (in the recipient's zone: contact's, else account's, else this timezone) and holidays. */
const SendingSettingsSchema = z.object(SendingWindow.shape).openapi("SendingSettings");
const json = <T extends z.ZodType>(schema: T, description: string) => ({
  description,
  content: { "application/json": { schema } },
});

export const routingRoutes = new OpenAPIHono<AppEnv>()
  .openapi(
    createRoute({
      method: "get",
      path: "/v1/routing-rules",
      tags: ["Routing"],
      summary: "The workspace's routing rules",
      responses: { 200: json(RoutingRulesSchema, "Routing rules"), ...problemResponses(401) },
    }),
    async (c) => c.json(await getRoutingRules(c.get("store"), c.get("workspaceId")), 200),
  )
  .openapi(
    createRoute({
      method: "put",
      path: "/v1/routing-rules",
      tags: ["Routing"],
      summary: "Replace the routing rules; every rule must name a sequence of this workspace",
      request: { body: { required: true, content: { "application/json": { schema: RoutingRulesSchema } } } },
      responses: { 200: json(RoutingRulesSchema, "Saved"), ...problemResponses(400, 401, 422) },
    }),
    async (c) => {
      const rules = c.req.valid("json");
      const store = c.get("store");
      const ws = c.get("workspaceId");
      const ids = [...new Set(rules.rules.map((r) => r.sequenceId))];
      const found = new Map(await Promise.all(ids.map(async (id) => [id, await getSequence(store, ws, id)] as const)));
      const errors = rules.rules.flatMap((r, i) =>
        found.get(r.sequenceId)
          ? []
          : [{ field: `rules.${i}.sequenceId`, message: `no sequence ${r.sequenceId} in this workspace` }],
      );
      if (errors.length) throw new Problem("unprocessable", `${errors[0]?.field}: ${errors[0]?.message}`, errors);
      return c.json(await putRoutingRules(store, ws, rules), 200);
    },
  )
  .openapi(
    createRoute({
      method: "get",
      path: "/v1/settings/sending",
      tags: ["Routing"],
      summary: "The workspace's sending window and holidays",
      responses: { 200: json(SendingSettingsSchema, "Sending settings"), ...problemResponses(401) },
    }),
    async (c) => c.json(await getSendingSettings(c.get("store"), c.get("workspaceId")), 200),
  )
  .openapi(
    createRoute({
      method: "put",
      path: "/v1/settings/sending",
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
  );
