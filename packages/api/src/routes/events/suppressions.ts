import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import { normalizeDomain } from "@icp/core";
import { addSuppression, listSuppressions, removeSuppression } from "@icp/store";
import type { AppEnv } from "../../context.js";
import { Problem } from "../../problem.js";
import { problemResponses } from "../../schemas.js";

/** The suppression list, mounted at /v1/suppressions. */
export const suppressionRoutes = new OpenAPIHono<AppEnv>()
  .openapi(
    createRoute({
      method: "get",
      path: "/",
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
      path: "/",
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
      path: "/",
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
