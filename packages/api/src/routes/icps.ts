import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import { IcpDefinition } from "@icp/core";
import { createIcp, getIcp, listIcps, listIcpVersions, updateIcp, VersionConflictError } from "@icp/store";
import type { AppEnv } from "../context.js";
import { Problem } from "../problem.js";
import { IcpSchema, IcpVersionSchema, problemResponses } from "../schemas.js";

const IdParam = z.object({
  id: z
    .string()
    .regex(/^icp_[0-9A-Z]{26}$/, "not an ICP id")
    .openapi({ param: { name: "id", in: "path" } }),
});
const json = <T extends z.ZodType>(schema: T, description: string) => ({
  description,
  content: { "application/json": { schema } },
});
const body = { body: { required: true, content: { "application/json": { schema: IcpDefinition } } } };

export const icpRoutes = new OpenAPIHono<AppEnv>()
  .openapi(
    createRoute({
      method: "post",
      path: "/v1/icps",
      tags: ["ICPs"],
      summary: "Create an ICP (version 1)",
      request: body,
      responses: { 201: json(IcpSchema, "Created"), ...problemResponses(400, 401) },
    }),
    async (c) => {
      const icp = await createIcp(c.get("store"), c.get("workspaceId"), c.req.valid("json"), "api");
      c.header("location", `/v1/icps/${icp.id}`);
      return c.json(icp, 201);
    },
  )
  .openapi(
    createRoute({
      method: "get",
      path: "/v1/icps",
      tags: ["ICPs"],
      summary: "List the workspace's ICPs (current versions)",
      responses: { 200: json(z.object({ items: z.array(IcpSchema) }), "ICPs"), ...problemResponses(401) },
    }),
    async (c) => c.json({ items: await listIcps(c.get("store"), c.get("workspaceId")) }, 200),
  )
  .openapi(
    createRoute({
      method: "get",
      path: "/v1/icps/{id}",
      tags: ["ICPs"],
      summary: "Get an ICP's current version",
      request: { params: IdParam },
      responses: { 200: json(IcpSchema, "ICP"), ...problemResponses(401, 404) },
    }),
    async (c) => {
      const { id } = c.req.valid("param");
      const icp = await getIcp(c.get("store"), c.get("workspaceId"), id);
      if (!icp) throw new Problem("not-found", `no ICP ${id} in this workspace`);
      return c.json(icp, 200);
    },
  )
  .openapi(
    createRoute({
      method: "put",
      path: "/v1/icps/{id}",
      tags: ["ICPs"],
      summary: "Save a new version of an ICP",
      request: { params: IdParam, ...body },
      responses: { 200: json(IcpSchema, "New version"), ...problemResponses(400, 401, 404, 409) },
    }),
    async (c) => {
      const { id } = c.req.valid("param");
      try {
        const icp = await updateIcp(c.get("store"), c.get("workspaceId"), id, c.req.valid("json"), "api");
        if (!icp) throw new Problem("not-found", `no ICP ${id} in this workspace`);
        return c.json(icp, 200);
      } catch (e) {
        if (e instanceof VersionConflictError) throw new Problem("conflict", e.message);
        throw e;
      }
    },
  )
  .openapi(
    createRoute({
      method: "get",
      path: "/v1/icps/{id}/versions",
      tags: ["ICPs"],
      summary: "Every version of an ICP, oldest first",
      request: { params: IdParam },
      responses: {
        200: json(z.object({ items: z.array(IcpVersionSchema) }), "Versions"),
        ...problemResponses(401, 404),
      },
    }),
    async (c) => {
      const { id } = c.req.valid("param");
      const items = await listIcpVersions(c.get("store"), c.get("workspaceId"), id);
      if (!items.length) throw new Problem("not-found", `no ICP ${id} in this workspace`);
      return c.json({ items }, 200);
    },
  );
