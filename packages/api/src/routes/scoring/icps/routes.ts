import { createRoute, z } from "@hono/zod-openapi";
import { IcpDefinition } from "@icp/core";
import { IcpSchema, IcpVersionSchema, problemResponses, RescoreSchema } from "../../../schemas.js";
import { BacktestBody, IdParam, VersionParam } from "./schemas.js";

/** The contracts of /v1/icps (paths relative to the mount). */

const json = <T extends z.ZodType>(schema: T, description: string) => ({
  description,
  content: { "application/json": { schema } },
});
const body = <T extends z.ZodType>(schema: T) => ({
  body: { required: true, content: { "application/json": { schema } } },
});

export const create = createRoute({
  method: "post",
  path: "/",
  tags: ["ICPs"],
  summary: "Create an ICP (version 1, active); existing accounts are re-scored in the background",
  request: body(IcpDefinition),
  responses: { 201: json(IcpSchema, "Created"), ...problemResponses(400, 401) },
});

export const list = createRoute({
  method: "get",
  path: "/",
  tags: ["ICPs"],
  summary: "The workspace's ICPs at their active versions",
  responses: { 200: json(z.object({ items: z.array(IcpSchema) }), "ICPs"), ...problemResponses(401) },
});

export const get = createRoute({
  method: "get",
  path: "/{id}",
  tags: ["ICPs"],
  summary: "An ICP's active version, its coverage and review reminder",
  request: { params: IdParam },
  responses: { 200: json(IcpSchema, "ICP"), ...problemResponses(401, 404) },
});

export const update = createRoute({
  method: "put",
  path: "/{id}",
  tags: ["ICPs"],
  summary: "Save a new version; active at once (re-scoring every account) unless activate=false",
  request: {
    params: IdParam,
    query: z.object({ activate: z.enum(["true", "false"]).default("true") }),
    ...body(IcpDefinition),
  },
  responses: { 200: json(IcpSchema, "Saved"), ...problemResponses(400, 401, 404, 409) },
});

export const activate = createRoute({
  method: "post",
  path: "/{id}/versions/{version}/activate",
  tags: ["ICPs"],
  summary: "Make a saved version the active one (also a rollback); re-scores every account",
  request: { params: VersionParam },
  responses: { 200: json(IcpSchema, "Activated"), ...problemResponses(401, 404) },
});

export const listVersions = createRoute({
  method: "get",
  path: "/{id}/versions",
  tags: ["ICPs"],
  summary: "Every version, oldest first, with who saved it, when, and what changed",
  request: { params: IdParam },
  responses: {
    200: json(z.object({ items: z.array(IcpVersionSchema) }), "Versions"),
    ...problemResponses(401, 404),
  },
});

export const getVersion = createRoute({
  method: "get",
  path: "/{id}/versions/{version}",
  tags: ["ICPs"],
  summary: "One version",
  request: { params: VersionParam },
  responses: { 200: json(IcpVersionSchema, "Version"), ...problemResponses(401, 404) },
});

export const diff = createRoute({
  method: "get",
  path: "/{id}/diff",
  tags: ["ICPs"],
  summary: "What changed between two versions (default: previous -> active)",
  request: {
    params: IdParam,
    query: z.object({
      from: z.coerce.number().int().min(1).optional(),
      to: z.coerce.number().int().min(1).optional(),
    }),
  },
  responses: {
    200: json(
      z.object({ from: z.number(), to: z.number(), changes: z.array(z.record(z.string(), z.unknown())) }),
      "Changes",
    ),
    ...problemResponses(400, 401, 404),
  },
});

export const dryRun = createRoute({
  method: "post",
  path: "/{id}/dry-run",
  tags: ["ICPs"],
  summary: "What would change if a version (or an unsaved definition) were active: runs in the background",
  description: "Poll GET /v1/rescores/{rescoreId}: counts per tier transition, sample accounts, coverage.",
  request: {
    params: IdParam,
    ...body(
      z
        .object({ version: z.number().int().min(1).optional(), definition: IcpDefinition.optional() })
        .refine((b) => (b.version === undefined) !== (b.definition === undefined), {
          message: "give either version or definition",
          path: ["version"],
        }),
    ),
  },
  responses: { 202: json(RescoreSchema, "Started"), ...problemResponses(400, 401, 404) },
});

export const backtest = createRoute({
  method: "post",
  path: "/{id}/backtest",
  tags: ["ICPs"],
  summary: "Test a version on past accounts with known outcomes: lift, band, precision/recall",
  request: { params: IdParam, ...body(BacktestBody) },
  responses: { 200: json(z.record(z.string(), z.unknown()), "Backtest"), ...problemResponses(400, 401, 404) },
});

export const review = createRoute({
  method: "get",
  path: "/{id}/review",
  tags: ["ICPs"],
  summary: "Quarterly review: the active version against the previous one on the same accounts and period",
  request: {
    params: IdParam,
    query: z.object({
      from: z.iso.date().optional().describe("Outcomes from (default: 90 days ago)"),
      to: z.iso.date().optional().describe("Outcomes to (default: today)"),
    }),
  },
  responses: { 200: json(z.record(z.string(), z.unknown()), "Review"), ...problemResponses(400, 401, 404) },
});
