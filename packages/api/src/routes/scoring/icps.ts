import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import {
  AccountInput,
  backtest,
  diffIcp,
  IcpDefinition,
  type LabelledAccount,
  reviewReminder,
  reviewVersion,
} from "@icp/core";
import {
  activateIcpVersion,
  allAccounts,
  createIcp,
  getIcp,
  getIcpVersion,
  type IcpVersionRecord,
  listIcps,
  listIcpVersions,
  type Store,
  type StoredIcp,
  saveIcpVersion,
  startRescore,
  VersionConflictError,
} from "@icp/store";
import type { Context } from "hono";
import type { AppEnv } from "../../context.js";
import { Problem } from "../../problem.js";
import { IcpSchema, IcpVersionSchema, problemResponses, RescoreSchema } from "../../schemas.js";

const IdParam = z.object({
  id: z
    .string()
    .regex(/^icp_[0-9A-Z]{26}$/, "not an ICP id")
    .openapi({ param: { name: "id", in: "path" } }),
});
const VersionParam = IdParam.extend({
  version: z.coerce
    .number()
    .int()
    .min(1)
    .openapi({ param: { name: "version", in: "path" } }),
});
const json = <T extends z.ZodType>(schema: T, description: string) => ({
  description,
  content: { "application/json": { schema } },
});
const body = <T extends z.ZodType>(schema: T) => ({
  body: { required: true, content: { "application/json": { schema } } },
});

/** The ICP as clients see it: active definition, coverage of that version and the quarterly-review reminder. */
async function view(store: Store, ws: string, icp: StoredIcp) {
  const v = await getIcpVersion(store, ws, icp.id, icp.version);
  return {
    ...icp,
    ...(v?.coverage ? { coverage: v.coverage } : {}),
    ...reviewReminder(v?.createdAt ?? icp.createdAt, Date.now()),
  };
}

async function mustGet(c: Context<AppEnv>, id: string): Promise<StoredIcp> {
  const icp = await getIcp(c.get("store"), c.get("workspaceId"), id);
  if (!icp) throw new Problem("not-found", `no ICP ${id} in this workspace`);
  return icp;
}

async function mustGetVersion(c: Context<AppEnv>, id: string, version: number): Promise<IcpVersionRecord> {
  const v = await getIcpVersion(c.get("store"), c.get("workspaceId"), id, version);
  if (!v) throw new Problem("not-found", `ICP ${id} has no version ${version}`);
  return v;
}

const rescoreFor = (c: Context<AppEnv>, icp: StoredIcp, reason: string) =>
  startRescore(c.get("store"), c.get("workspaceId"), { reason, icpId: icp.id, icpVersion: icp.version });

const BacktestBody = z
  .object({
    version: z.number().int().min(1).optional().describe("Version to test (default: the active one)"),
    definition: IcpDefinition.optional().describe("An unsaved definition to test instead"),
    source: z
      .enum(["accounts", "history"])
      .default("accounts")
      .describe("history: the workspace's accounts with an outcome"),
    accounts: z
      .array(z.intersection(AccountInput, z.object({ outcome: z.enum(["won", "lost"]) })))
      .max(100_000)
      .optional(),
  })
  .refine((b) => b.source === "history" || (b.accounts?.length ?? 0) > 0, {
    message: "give accounts with outcomes, or source: history",
    path: ["accounts"],
  });

export const icpRoutes = new OpenAPIHono<AppEnv>()
  .openapi(
    createRoute({
      method: "post",
      path: "/v1/icps",
      tags: ["ICPs"],
      summary: "Create an ICP (version 1, active); existing accounts are re-scored in the background",
      request: body(IcpDefinition),
      responses: { 201: json(IcpSchema, "Created"), ...problemResponses(400, 401) },
    }),
    async (c) => {
      const store = c.get("store");
      const ws = c.get("workspaceId");
      const icp = await createIcp(store, ws, c.req.valid("json"), c.get("actor"));
      const rescore = await rescoreFor(c, icp, `ICP ${icp.id} created`);
      c.header("location", `/v1/icps/${icp.id}`);
      return c.json({ ...(await view(store, ws, icp)), rescoreId: rescore.id }, 201);
    },
  )
  .openapi(
    createRoute({
      method: "get",
      path: "/v1/icps",
      tags: ["ICPs"],
      summary: "The workspace's ICPs at their active versions",
      responses: { 200: json(z.object({ items: z.array(IcpSchema) }), "ICPs"), ...problemResponses(401) },
    }),
    async (c) => {
      const store = c.get("store");
      const ws = c.get("workspaceId");
      const items = await Promise.all((await listIcps(store, ws)).map((i) => view(store, ws, i)));
      return c.json({ items }, 200);
    },
  )
  .openapi(
    createRoute({
      method: "get",
      path: "/v1/icps/{id}",
      tags: ["ICPs"],
      summary: "An ICP's active version, its coverage and review reminder",
      request: { params: IdParam },
      responses: { 200: json(IcpSchema, "ICP"), ...problemResponses(401, 404) },
    }),
    async (c) =>
      c.json(await view(c.get("store"), c.get("workspaceId"), await mustGet(c, c.req.valid("param").id)), 200),
  )
  .openapi(
    createRoute({
      method: "put",
      path: "/v1/icps/{id}",
      tags: ["ICPs"],
      summary: "Save a new version; active at once (re-scoring every account) unless activate=false",
      request: {
        params: IdParam,
        query: z.object({ activate: z.enum(["true", "false"]).default("true") }),
        ...body(IcpDefinition),
      },
      responses: { 200: json(IcpSchema, "Saved"), ...problemResponses(400, 401, 404, 409) },
    }),
    async (c) => {
      const { id } = c.req.valid("param");
      const activate = c.req.valid("query").activate === "true";
      const store = c.get("store");
      const ws = c.get("workspaceId");
      try {
        const saved = await saveIcpVersion(store, ws, id, c.req.valid("json"), c.get("actor"), activate);
        if (!saved) throw new Problem("not-found", `no ICP ${id} in this workspace`);
        const rescore = activate
          ? await rescoreFor(c, saved.icp, `ICP ${id} version ${saved.version.version} activated`)
          : undefined;
        return c.json(
          {
            ...(await view(store, ws, saved.icp)),
            savedVersion: saved.version.version,
            changes: saved.version.changes,
            ...(rescore ? { rescoreId: rescore.id } : {}),
          },
          200,
        );
      } catch (e) {
        if (e instanceof VersionConflictError) throw new Problem("conflict", e.message);
        throw e;
      }
    },
  )
  .openapi(
    createRoute({
      method: "post",
      path: "/v1/icps/{id}/versions/{version}/activate",
      tags: ["ICPs"],
      summary: "Make a saved version the active one (also a rollback); re-scores every account",
      request: { params: VersionParam },
      responses: { 200: json(IcpSchema, "Activated"), ...problemResponses(401, 404) },
    }),
    async (c) => {
      const { id, version } = c.req.valid("param");
      await mustGet(c, id);
      const icp = await activateIcpVersion(c.get("store"), c.get("workspaceId"), id, version, c.get("actor"));
      if (!icp) throw new Problem("not-found", `ICP ${id} has no version ${version}`);
      const rescore = await rescoreFor(c, icp, `ICP ${id} version ${version} activated`);
      return c.json({ ...(await view(c.get("store"), c.get("workspaceId"), icp)), rescoreId: rescore.id }, 200);
    },
  )
  .openapi(
    createRoute({
      method: "get",
      path: "/v1/icps/{id}/versions",
      tags: ["ICPs"],
      summary: "Every version, oldest first, with who saved it, when, and what changed",
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
  )
  .openapi(
    createRoute({
      method: "get",
      path: "/v1/icps/{id}/versions/{version}",
      tags: ["ICPs"],
      summary: "One version",
      request: { params: VersionParam },
      responses: { 200: json(IcpVersionSchema, "Version"), ...problemResponses(401, 404) },
    }),
    async (c) => {
      const { id, version } = c.req.valid("param");
      return c.json(await mustGetVersion(c, id, version), 200);
    },
  )
  .openapi(
    createRoute({
      method: "get",
      path: "/v1/icps/{id}/diff",
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
    }),
    async (c) => {
      const { id } = c.req.valid("param");
      const icp = await mustGet(c, id);
      const q = c.req.valid("query");
      const to = q.to ?? icp.version;
      const from = q.from ?? Math.max(1, to - 1);
      const [a, b] = await Promise.all([mustGetVersion(c, id, from), mustGetVersion(c, id, to)]);
      return c.json({ from, to, changes: diffIcp(a.definition, b.definition) }, 200);
    },
  )
  .openapi(
    createRoute({
      method: "post",
      path: "/v1/icps/{id}/dry-run",
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
    }),
    async (c) => {
      const { id } = c.req.valid("param");
      await mustGet(c, id);
      const b = c.req.valid("json");
      const definition = b.definition ?? (await mustGetVersion(c, id, b.version as number)).definition;
      const job = await startRescore(c.get("store"), c.get("workspaceId"), {
        reason: `dry run of ICP ${id} ${b.version ? `version ${b.version}` : "draft"}`,
        dryRun: true,
        override: { icpId: id, version: b.version ?? "draft", definition },
      });
      c.header("location", `/v1/rescores/${job.id}`);
      return c.json(job, 202);
    },
  )
  .openapi(
    createRoute({
      method: "post",
      path: "/v1/icps/{id}/backtest",
      tags: ["ICPs"],
      summary: "Test a version on past accounts with known outcomes: lift, band, precision/recall",
      request: { params: IdParam, ...body(BacktestBody) },
      responses: { 200: json(z.record(z.string(), z.unknown()), "Backtest"), ...problemResponses(400, 401, 404) },
    }),
    async (c) => {
      const { id } = c.req.valid("param");
      const icp = await mustGet(c, id);
      const b = c.req.valid("json");
      const version = b.version ?? icp.version;
      const definition = b.definition ?? (await mustGetVersion(c, id, version)).definition;
      let labelled: LabelledAccount[];
      if (b.source === "history") {
        labelled = (await allAccounts(c.get("store"), c.get("workspaceId")))
          .filter((a) => a.outcome)
          .map((a) => ({ domain: a.domain, facts: a.facts, outcome: a.outcome?.outcome ?? "lost" }));
      } else {
        labelled = (b.accounts ?? []).map(({ outcome, contacts: _c, ...facts }) => ({
          domain: facts.domain,
          facts,
          outcome,
        }));
      }
      const stats = backtest({ ...definition, id, version }, labelled, Date.now());
      return c.json({ icpId: id, version: b.definition ? "draft" : version, source: b.source, ...stats }, 200);
    },
  )
  .openapi(
    createRoute({
      method: "get",
      path: "/v1/icps/{id}/review",
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
    }),
    async (c) => {
      const { id } = c.req.valid("param");
      const icp = await mustGet(c, id);
      const now = Date.now();
      const q = c.req.valid("query");
      const period = {
        from: q.from ?? new Date(now - 90 * 86_400_000).toISOString().slice(0, 10),
        to: `${q.to ?? new Date(now).toISOString().slice(0, 10)}T23:59:59.999Z`,
      };
      const [current, previous, accounts] = await Promise.all([
        mustGetVersion(c, id, icp.version),
        icp.version > 1 ? getIcpVersion(c.get("store"), c.get("workspaceId"), id, icp.version - 1) : undefined,
        allAccounts(c.get("store"), c.get("workspaceId")),
      ]);
      const review = (v: IcpVersionRecord) =>
        reviewVersion({ ...v.definition, id, version: v.version, createdAt: v.createdAt }, accounts, period, now);
      return c.json(
        {
          icpId: id,
          period: { from: period.from, to: period.to.slice(0, 10) },
          current: review(current),
          previous: previous ? review(previous) : null,
          changes: previous ? diffIcp(previous.definition, current.definition) : [],
          ...reviewReminder(current.createdAt, now),
        },
        200,
      );
    },
  );
