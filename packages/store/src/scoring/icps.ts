import { GetCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import {
  type CompiledIcp,
  type Coverage,
  compileIcp,
  diffIcp,
  type Icp,
  type IcpChange,
  type IcpDefinition,
  newId,
} from "@icp/core";
import type { Store } from "../infra/index.js";
import { keys, queryAll, writeVersion } from "../infra/index.js";

/**
 * An ICP's head: the active version's definition (what scores accounts) plus bookkeeping.
 * `version` is the active version; `latestVersion` the newest saved (it may be a draft).
 */
export type StoredIcp = Icp & {
  latestVersion: number;
  createdAt: string;
  updatedAt: string;
  activatedAt: string;
  activatedBy: string;
};

export type IcpVersionRecord = {
  id: string;
  version: number;
  definition: IcpDefinition;
  createdAt: string;
  createdBy: string;
  /** What changed against the previous version. */
  changes: IcpChange[];
  /** Share of the workspace's accounts this version qualifies, from its last full re-scoring. */
  coverage?: Coverage & { at: string };
};

export class VersionConflictError extends Error {}

function toIcp(item: Record<string, unknown>): StoredIcp {
  return {
    ...(item.definition as IcpDefinition),
    id: item.id as string,
    version: item.version as number,
    latestVersion: (item.latestVersion ?? item.version) as number,
    createdAt: item.createdAt as string,
    updatedAt: item.updatedAt as string,
    activatedAt: (item.activatedAt ?? item.updatedAt) as string,
    activatedBy: (item.activatedBy ?? "") as string,
  };
}

function toVersion(i: Record<string, unknown>): IcpVersionRecord {
  const v: IcpVersionRecord = {
    id: i.id as string,
    version: i.version as number,
    definition: i.definition as IcpDefinition,
    createdAt: i.createdAt as string,
    createdBy: i.createdBy as string,
    changes: (i.changes ?? []) as IcpChange[],
  };
  if (i.coverage) v.coverage = i.coverage as IcpVersionRecord["coverage"];
  return v;
}

export async function createIcp(store: Store, ws: string, def: IcpDefinition, actor: string): Promise<StoredIcp> {
  const id = newId("icp");
  const now = new Date().toISOString();
  const head = {
    id,
    version: 1,
    latestVersion: 1,
    status: def.status,
    definition: def,
    createdAt: now,
    updatedAt: now,
    activatedAt: now,
    activatedBy: actor,
  };
  const created = await writeVersion(
    store,
    {
      key: keys.icpVersion(ws, id, 1),
      item: {
        type: "icp-version",
        v: 1,
        id,
        version: 1,
        definition: def,
        createdAt: now,
        createdBy: actor,
        changes: [],
      },
    },
    { create: { ...keys.icpHead(ws, id), type: "icp", v: 1, ...head } },
  );
  if (!created) throw new Error(`ICP id ${id} already taken`);
  return toIcp(head);
}

/**
 * Save a new version (numbered after the latest). With `activate` it also becomes the
 * version that scores accounts. The head's `latestVersion` condition makes two concurrent
 * saves unable to both become version n.
 */
export async function saveIcpVersion(
  store: Store,
  ws: string,
  id: string,
  def: IcpDefinition,
  actor: string,
  activate: boolean,
): Promise<{ icp: StoredIcp; version: IcpVersionRecord } | undefined> {
  const head = await getIcp(store, ws, id);
  if (!head) return undefined;
  const latest = await getIcpVersion(store, ws, id, head.latestVersion);
  const n = head.latestVersion + 1;
  const now = new Date().toISOString();
  const version: IcpVersionRecord = {
    id,
    version: n,
    definition: def,
    createdAt: now,
    createdBy: actor,
    changes: latest ? diffIcp(latest.definition, def) : [],
  };
  const set = ["latestVersion = :n", "updatedAt = :now"];
  const values: Record<string, unknown> = { ":n": n, ":now": now };
  if (activate) {
    set.push("version = :n", "#def = :def", "#s = :status", "activatedAt = :now", "activatedBy = :actor");
    Object.assign(values, { ":def": def, ":status": def.status, ":actor": actor });
  }
  const saved = await writeVersion(
    store,
    { key: keys.icpVersion(ws, id, n), item: { type: "icp-version", v: 1, ...version } },
    {
      key: keys.icpHead(ws, id),
      set,
      versionAttr: "latestVersion",
      prev: head.latestVersion,
      ...(activate ? { names: { "#s": "status", "#def": "definition" } } : {}),
      values,
    },
  );
  if (!saved) throw new VersionConflictError(`ICP ${id} changed meanwhile; reload it and retry`);
  const icp: StoredIcp = activate
    ? { ...head, ...def, version: n, latestVersion: n, updatedAt: now, activatedAt: now, activatedBy: actor }
    : { ...head, latestVersion: n, updatedAt: now };
  return { icp, version };
}

/** Make an existing version the active one (a rollback is activating an older version). */
export async function activateIcpVersion(
  store: Store,
  ws: string,
  id: string,
  version: number,
  actor: string,
): Promise<StoredIcp | undefined> {
  const v = await getIcpVersion(store, ws, id, version);
  if (!v) return undefined;
  const now = new Date().toISOString();
  const res = await store.ddb.send(
    new UpdateCommand({
      TableName: store.cfg.tableName,
      Key: keys.icpHead(ws, id),
      UpdateExpression:
        "SET version = :v, #def = :def, #s = :status, activatedAt = :now, activatedBy = :actor, updatedAt = :now",
      ConditionExpression: "attribute_exists(pk)",
      ExpressionAttributeNames: { "#s": "status", "#def": "definition" },
      ExpressionAttributeValues: {
        ":v": version,
        ":def": v.definition,
        ":status": v.definition.status,
        ":now": now,
        ":actor": actor,
      },
      ReturnValues: "ALL_NEW",
    }),
  );
  return res.Attributes ? toIcp(res.Attributes) : undefined;
}

export async function getIcp(store: Store, ws: string, id: string): Promise<StoredIcp | undefined> {
  const res = await store.ddb.send(
    new GetCommand({ TableName: store.cfg.tableName, Key: keys.icpHead(ws, id), ConsistentRead: true }),
  );
  return res.Item ? toIcp(res.Item) : undefined;
}

export async function getIcpVersion(
  store: Store,
  ws: string,
  id: string,
  version: number,
): Promise<IcpVersionRecord | undefined> {
  const res = await store.ddb.send(
    new GetCommand({ TableName: store.cfg.tableName, Key: keys.icpVersion(ws, id, version), ConsistentRead: true }),
  );
  return res.Item ? toVersion(res.Item) : undefined;
}

export async function setIcpVersionCoverage(
  store: Store,
  ws: string,
  id: string,
  version: number,
  cov: Coverage,
): Promise<void> {
  await store.ddb.send(
    new UpdateCommand({
      TableName: store.cfg.tableName,
      Key: keys.icpVersion(ws, id, version),
      UpdateExpression: "SET coverage = :c",
      ConditionExpression: "attribute_exists(pk)",
      ExpressionAttributeValues: { ":c": { ...cov, at: new Date().toISOString() } },
    }),
  );
}

export async function listIcps(store: Store, ws: string): Promise<StoredIcp[]> {
  const k = keys.icpHeadPrefix(ws);
  return (await queryAll(store, k.pk, k.skPrefix)).map(toIcp);
}

export async function listIcpVersions(store: Store, ws: string, id: string): Promise<IcpVersionRecord[]> {
  const k = keys.icpVersionPrefix(ws, id);
  return (await queryAll(store, k.pk, k.skPrefix)).map(toVersion);
}

const compiled = new Map<string, CompiledIcp>();

/** Compiled forms are reused per (workspace, id, version): definitions of a version never change. */
export function compiledIcp(ws: string, icp: Icp): CompiledIcp {
  const key = `${ws}|${icp.id}|${icp.version}`;
  let c = compiled.get(key);
  if (!c) {
    if (compiled.size > 1000) compiled.clear();
    c = compileIcp(icp);
    compiled.set(key, c);
  }
  return c;
}

/** The workspace's active ICPs, at their active versions, compiled. */
export async function activeIcps(store: Store, ws: string): Promise<CompiledIcp[]> {
  return (await listIcps(store, ws)).filter((i) => i.status === "active").map((icp) => compiledIcp(ws, icp));
}
