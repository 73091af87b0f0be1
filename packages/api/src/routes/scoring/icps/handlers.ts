import type { RouteHandler } from "@hono/zod-openapi";
import { diffIcp, type LabelledAccount, reviewReminder, reviewVersion, backtest as runBacktest } from "@icp/core";
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
} from "@icp/store";
import type { Context } from "hono";
import type { AppEnv } from "../../../context.js";
import { Problem } from "../../../problem.js";
import type * as routes from "./routes.js";

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

export const create: RouteHandler<typeof routes.create, AppEnv> = async (c) => {
  const store = c.get("store");
  const ws = c.get("workspaceId");
  const icp = await createIcp(store, ws, c.req.valid("json"), c.get("actor"));
  const rescore = await rescoreFor(c, icp, `ICP ${icp.id} created`);
  c.header("location", `/v1/icps/${icp.id}`);
  return c.json({ ...(await view(store, ws, icp)), rescoreId: rescore.id }, 201);
};

export const list: RouteHandler<typeof routes.list, AppEnv> = async (c) => {
  const store = c.get("store");
  const ws = c.get("workspaceId");
  const items = await Promise.all((await listIcps(store, ws)).map((i) => view(store, ws, i)));
  return c.json({ items }, 200);
};

export const get: RouteHandler<typeof routes.get, AppEnv> = async (c) =>
  c.json(await view(c.get("store"), c.get("workspaceId"), await mustGet(c, c.req.valid("param").id)), 200);

export const update: RouteHandler<typeof routes.update, AppEnv> = async (c) => {
  const { id } = c.req.valid("param");
  const activate = c.req.valid("query").activate === "true";
  const store = c.get("store");
  const ws = c.get("workspaceId");
  // A concurrent save (VersionConflictError) is a 409, mapped in errors.ts.
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
};

export const activate: RouteHandler<typeof routes.activate, AppEnv> = async (c) => {
  const { id, version } = c.req.valid("param");
  await mustGet(c, id);
  const icp = await activateIcpVersion(c.get("store"), c.get("workspaceId"), id, version, c.get("actor"));
  if (!icp) throw new Problem("not-found", `ICP ${id} has no version ${version}`);
  const rescore = await rescoreFor(c, icp, `ICP ${id} version ${version} activated`);
  return c.json({ ...(await view(c.get("store"), c.get("workspaceId"), icp)), rescoreId: rescore.id }, 200);
};

export const listVersions: RouteHandler<typeof routes.listVersions, AppEnv> = async (c) => {
  const { id } = c.req.valid("param");
  const items = await listIcpVersions(c.get("store"), c.get("workspaceId"), id);
  if (!items.length) throw new Problem("not-found", `no ICP ${id} in this workspace`);
  return c.json({ items }, 200);
};

export const getVersion: RouteHandler<typeof routes.getVersion, AppEnv> = async (c) => {
  const { id, version } = c.req.valid("param");
  return c.json(await mustGetVersion(c, id, version), 200);
};

export const diff: RouteHandler<typeof routes.diff, AppEnv> = async (c) => {
  const { id } = c.req.valid("param");
  const icp = await mustGet(c, id);
  const q = c.req.valid("query");
  const to = q.to ?? icp.version;
  const from = q.from ?? Math.max(1, to - 1);
  const [a, b] = await Promise.all([mustGetVersion(c, id, from), mustGetVersion(c, id, to)]);
  return c.json({ from, to, changes: diffIcp(a.definition, b.definition) }, 200);
};

export const dryRun: RouteHandler<typeof routes.dryRun, AppEnv> = async (c) => {
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
};

export const backtest: RouteHandler<typeof routes.backtest, AppEnv> = async (c) => {
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
  const stats = runBacktest({ ...definition, id, version }, labelled, Date.now());
  return c.json({ icpId: id, version: b.definition ? "draft" : version, source: b.source, ...stats }, 200);
};

export const review: RouteHandler<typeof routes.review, AppEnv> = async (c) => {
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
};
