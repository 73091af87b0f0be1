import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import { getRescore, resumeRescore, startRescore } from "@icp/store";
import type { AppEnv } from "../../context.js";
import { Problem } from "../../problem.js";
import { problemResponses, RescoreSchema } from "../../schemas.js";

const IdParam = z.object({
  id: z
    .string()
    .regex(/^rsc_[0-9A-Z]{26}$/, "not a rescore id")
    .openapi({ param: { name: "id", in: "path" } }),
});
const json = { "application/json": { schema: RescoreSchema } };

/** Mounted at /v1/rescores. */
export const rescoreRoutes = new OpenAPIHono<AppEnv>()
  .openapi(
    createRoute({
      method: "post",
      path: "/",
      tags: ["Re-scoring"],
      summary: "Re-score every account with the active ICPs (or only count what would change: dryRun)",
      request: {
        body: {
          required: false,
          content: { "application/json": { schema: z.object({ dryRun: z.boolean().default(false) }) } },
        },
      },
      responses: { 202: { description: "Started", content: json }, ...problemResponses(400, 401) },
    }),
    async (c) => {
      const dryRun = (c.req.valid("json") as { dryRun?: boolean } | undefined)?.dryRun ?? false;
      const job = await startRescore(c.get("store"), c.get("workspaceId"), { reason: "requested", dryRun });
      c.header("location", `/v1/rescores/${job.id}`);
      return c.json(job, 202);
    },
  )
  .openapi(
    createRoute({
      method: "get",
      path: "/{id}",
      tags: ["Re-scoring"],
      summary: "Progress of a re-scoring (or dry run): processed, transitions, samples, coverage",
      request: { params: IdParam },
      responses: { 200: { description: "Job", content: json }, ...problemResponses(401, 404) },
    }),
    async (c) => {
      const { id } = c.req.valid("param");
      const job = await getRescore(c.get("store"), c.get("workspaceId"), id);
      if (!job) throw new Problem("not-found", `no re-scoring ${id} in this workspace`);
      const samples = Object.fromEntries(Object.entries(job.samples).map(([t, list]) => [t, list.slice(0, 5)]));
      return c.json({ ...job, samples }, 200);
    },
  )
  .openapi(
    createRoute({
      method: "post",
      path: "/{id}/resume",
      tags: ["Re-scoring"],
      summary: "Resume a re-scoring whose messages were lost or dead-lettered (safe to call any time)",
      request: { params: IdParam },
      responses: {
        202: {
          description: "Resumed",
          content: { "application/json": { schema: z.object({ shardsResumed: z.number() }) } },
        },
        ...problemResponses(401, 404),
      },
    }),
    async (c) => {
      const { id } = c.req.valid("param");
      const job = await getRescore(c.get("store"), c.get("workspaceId"), id);
      if (!job) throw new Problem("not-found", `no re-scoring ${id} in this workspace`);
      return c.json({ shardsResumed: await resumeRescore(c.get("store"), c.get("workspaceId"), id) }, 202);
    },
  );
