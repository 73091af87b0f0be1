import { createRoute, OpenAPIHono, type z } from "@hono/zod-openapi";
import { RoutingRules } from "@icp/core";
import { getRoutingRules, getSequence, putRoutingRules } from "@icp/store";
import type { AppEnv } from "../../context.js";
import { Problem } from "../../problem.js";
import { problemResponses } from "../../schemas.js";

/** Which sequence per tier × segment × ICP (most specific wins), re-entry, and account-level stop on reply/meeting. */
const RoutingRulesSchema = RoutingRules;
const json = <T extends z.ZodType>(schema: T, description: string) => ({
  description,
  content: { "application/json": { schema } },
});

/** Mounted at /v1/routing-rules. */
export const routingRoutes = new OpenAPIHono<AppEnv>()
  .openapi(
    createRoute({
      method: "get",
      path: "/",
      tags: ["Routing"],
      summary: "The workspace's routing rules",
      responses: { 200: json(RoutingRulesSchema, "Routing rules"), ...problemResponses(401) },
    }),
    async (c) => c.json(await getRoutingRules(c.get("store"), c.get("workspaceId")), 200),
  )
  .openapi(
    createRoute({
      method: "put",
      path: "/",
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
  );
