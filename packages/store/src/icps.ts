import { GetCommand, QueryCommand, TransactWriteCommand } from "@aws-sdk/lib-dynamodb";
import { type CompiledIcp, compileIcp, type Icp, type IcpDefinition, newId } from "@icp/core";
import type { Store } from "./clients.js";
import { keys } from "./keys.js";

export type StoredIcp = Icp & { createdAt: string; updatedAt: string };
export type IcpVersionRecord = {
  id: string;
  version: number;
  definition: IcpDefinition;
  createdAt: string;
  createdBy: string;
};

export class VersionConflictError extends Error {}

function toIcp(item: Record<string, unknown>): StoredIcp {
  return {
    ...(item.definition as IcpDefinition),
    id: item.id as string,
    version: item.version as number,
    createdAt: item.createdAt as string,
    updatedAt: item.updatedAt as string,
  };
}

/**
 * Write version `version` of an ICP: the immutable version item and the head (current
 * definition) in one transaction, conditioned on the head still being at `version - 1`,
 * so two concurrent edits cannot both become version n.
 */
async function writeVersion(
  store: Store,
  ws: string,
  id: string,
  version: number,
  def: IcpDefinition,
  actor: string,
  createdAt: string,
) {
  const now = new Date().toISOString();
  const table = store.cfg.tableName;
  try {
    await store.ddb.send(
      new TransactWriteCommand({
        TransactItems: [
          {
            Put: {
              TableName: table,
              Item: {
                ...keys.icpVersion(ws, id, version),
                type: "icp-version",
                v: 1,
                id,
                version,
                definition: def,
                createdAt: now,
                createdBy: actor,
              },
              ConditionExpression: "attribute_not_exists(pk)",
            },
          },
          {
            Put: {
              TableName: table,
              Item: {
                ...keys.icpHead(ws, id),
                type: "icp",
                v: 1,
                id,
                version,
                status: def.status,
                definition: def,
                createdAt,
                updatedAt: now,
              },
              ConditionExpression: version === 1 ? "attribute_not_exists(pk)" : "version = :prev",
              ...(version === 1 ? {} : { ExpressionAttributeValues: { ":prev": version - 1 } }),
            },
          },
        ],
      }),
    );
  } catch (e) {
    if ((e as Error).name === "TransactionCanceledException")
      throw new VersionConflictError(`ICP ${id} changed meanwhile; retry`);
    throw e;
  }
  return { ...def, id, version, createdAt, updatedAt: now } satisfies StoredIcp;
}

export async function createIcp(store: Store, ws: string, def: IcpDefinition, actor: string): Promise<StoredIcp> {
  return writeVersion(store, ws, newId("icp"), 1, def, actor, new Date().toISOString());
}

/** New version of an existing ICP; undefined when it does not exist. */
export async function updateIcp(
  store: Store,
  ws: string,
  id: string,
  def: IcpDefinition,
  actor: string,
): Promise<StoredIcp | undefined> {
  const head = await getIcp(store, ws, id);
  if (!head) return undefined;
  return writeVersion(store, ws, id, head.version + 1, def, actor, head.createdAt);
}

export async function getIcp(store: Store, ws: string, id: string): Promise<StoredIcp | undefined> {
  const res = await store.ddb.send(
    new GetCommand({ TableName: store.cfg.tableName, Key: keys.icpHead(ws, id), ConsistentRead: true }),
  );
  return res.Item ? toIcp(res.Item) : undefined;
}

async function queryAll(store: Store, pk: string, skPrefix: string): Promise<Record<string, unknown>[]> {
  const out: Record<string, unknown>[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const res = await store.ddb.send(
      new QueryCommand({
        TableName: store.cfg.tableName,
        KeyConditionExpression: "pk = :pk AND begins_with(sk, :p)",
        ExpressionAttributeValues: { ":pk": pk, ":p": skPrefix },
        ConsistentRead: true,
        ExclusiveStartKey: start,
      }),
    );
    out.push(...(res.Items ?? []));
    start = res.LastEvaluatedKey;
  } while (start);
  return out;
}

export async function listIcps(store: Store, ws: string): Promise<StoredIcp[]> {
  const k = keys.icpHeadPrefix(ws);
  return (await queryAll(store, k.pk, k.skPrefix)).map(toIcp);
}

export async function listIcpVersions(store: Store, ws: string, id: string): Promise<IcpVersionRecord[]> {
  const k = keys.icpVersionPrefix(ws, id);
  return (await queryAll(store, k.pk, k.skPrefix)).map((i) => ({
    id: i.id as string,
    version: i.version as number,
    definition: i.definition as IcpDefinition,
    createdAt: i.createdAt as string,
    createdBy: i.createdBy as string,
  }));
}

const compiled = new Map<string, CompiledIcp>();

/** The workspace's active ICPs, compiled; compiled forms are reused per (id, version). */
export async function activeIcps(store: Store, ws: string): Promise<CompiledIcp[]> {
  const icps = (await listIcps(store, ws)).filter((i) => i.status === "active");
  return icps.map((icp) => {
    const key = `${ws}|${icp.id}|${icp.version}`;
    let c = compiled.get(key);
    if (!c) {
      if (compiled.size > 1000) compiled.clear();
      c = compileIcp(icp);
      compiled.set(key, c);
    }
    return c;
  });
}

export { queryAll };
