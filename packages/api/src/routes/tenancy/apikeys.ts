import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import { createApiKey, listApiKeys, revokeApiKey, SCOPES } from "@icp/store";
import { forgetApiKey } from "../../auth.js";
import type { AppEnv } from "../../context.js";
import { Problem } from "../../problem.js";
import { problemResponses } from "../../schemas.js";

const KeySchema = z
  .object({
    id: z.string(),
    label: z.string(),
    scopes: z.array(z.enum(SCOPES)),
    prefix: z.string().describe("First characters of the key, to recognise it"),
    createdAt: z.string(),
    lastUsedAt: z.string().optional(),
    revokedAt: z.string().optional(),
  })
  .openapi("ApiKey");

const view = ({ workspaceId: _w, ...k }: z.infer<typeof KeySchema> & { workspaceId: string }) => k;

/** Mounted at /v1/api-keys. */
export const apiKeyRoutes = new OpenAPIHono<AppEnv>()
  .openapi(
    createRoute({
      method: "post",
      path: "/",
      tags: ["API keys"],
      summary: "Create an API key (needs admin); the key is in this response only",
      request: {
        body: {
          required: true,
          content: {
            "application/json": {
              schema: z.object({
                label: z.string().trim().min(1).max(100),
                scopes: z.array(z.enum(SCOPES)).min(1).default(["read"]),
              }),
            },
          },
        },
      },
      responses: {
        201: {
          description: "Created",
          content: { "application/json": { schema: KeySchema.extend({ key: z.string().describe("Shown once") }) } },
        },
        ...problemResponses(400, 401, 403),
      },
    }),
    async (c) => {
      const { label, scopes } = c.req.valid("json");
      const key = await createApiKey(c.get("store"), c.get("workspaceId"), label, [...new Set(scopes)]);
      c.header("cache-control", "no-store");
      return c.json(view(key) as z.infer<typeof KeySchema> & { key: string }, 201);
    },
  )
  .openapi(
    createRoute({
      method: "get",
      path: "/",
      tags: ["API keys"],
      summary: "The workspace's keys (never the keys themselves)",
      responses: {
        200: {
          description: "Keys",
          content: { "application/json": { schema: z.object({ items: z.array(KeySchema) }) } },
        },
        ...problemResponses(401, 403),
      },
    }),
    async (c) => c.json({ items: (await listApiKeys(c.get("store"), c.get("workspaceId"))).map(view) }, 200),
  )
  .openapi(
    createRoute({
      method: "delete",
      path: "/{id}",
      tags: ["API keys"],
      summary: "Revoke a key: it stops working within seconds",
      request: {
        params: z.object({
          id: z
            .string()
            .min(1)
            .max(40)
            .openapi({ param: { name: "id", in: "path" } }),
        }),
      },
      responses: { 204: { description: "Revoked" }, ...problemResponses(401, 403, 404) },
    }),
    async (c) => {
      const { id } = c.req.valid("param");
      if (!(await revokeApiKey(c.get("store"), c.get("workspaceId"), id)))
        throw new Problem("not-found", `no API key ${id} in this workspace`);
      forgetApiKey(id);
      return c.body(null, 204);
    },
  );
