/** A rescore job: its record, its shards' cursors, starting and resuming it, completing it. */
import { GetCommand, PutCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import { type Coverage, coverage, type IcpDefinition, newId, type RescorePageMessage, type Tier } from "@icp/core";
import type { Store } from "../infra/index.js";
import { conditionFailed, inParallel, keys, publish, queryAll, SHARDS, withoutKeys } from "../infra/index.js";
import { setIcpVersionCoverage } from "./icps.js";

/** Accounts read per rescore message. */
export const RESCORE_PAGE = 100;

export type RescoreJob = {
  id: string;
  status: "running" | "completed";
  dryRun: boolean;
  reason: string;
  /** The ICP (and version) whose change started the job, if any. */
  icpId?: string;
  icpVersion?: number;
  /** Dry runs of a version that is not active (or not saved): score with this in place of the ICP's active one. */
  override?: { icpId: string; version: number | "draft"; definition: IcpDefinition };
  /** "now" for scoring, fixed at the start so redeliveries score alike. */
  at: string;
  shards: number;
  shardsDone: number;
  processed: number;
  changed: number;
  qualified: number;
  /** Accounts qualifying against each ICP, for per-version coverage. */
  icpQualified: Record<string, number>;
  /** Counts of tier transitions, "nurture->priority". */
  transitions: Record<string, number>;
  samples: Record<string, { id: string; domain: string; from: Tier; to: Tier; score: number }[]>;
  createdAt: string;
  updatedAt: string;
  completedAt?: string;
  coverage?: Coverage;
};

/**
 * Start re-scoring every account of the workspace in the background: one message per shard
 * of the account index, each walking its shard a page at a time. Dry runs compute the same
 * transitions without writing accounts or emitting events.
 */
export async function startRescore(
  store: Store,
  ws: string,
  opts: { reason: string; dryRun?: boolean; icpId?: string; icpVersion?: number; override?: RescoreJob["override"] },
): Promise<RescoreJob> {
  const now = new Date().toISOString();
  const job: RescoreJob = {
    id: newId("rsc"),
    status: "running",
    dryRun: opts.dryRun ?? false,
    reason: opts.reason,
    ...(opts.icpId ? { icpId: opts.icpId } : {}),
    ...(opts.icpVersion ? { icpVersion: opts.icpVersion } : {}),
    ...(opts.override ? { override: opts.override } : {}),
    at: now,
    shards: SHARDS,
    shardsDone: 0,
    processed: 0,
    changed: 0,
    qualified: 0,
    icpQualified: {},
    transitions: {},
    samples: {},
    createdAt: now,
    updatedAt: now,
  };
  await store.ddb.send(
    new PutCommand({
      TableName: store.cfg.tableName,
      Item: { ...keys.rescoreJob(ws, job.id), type: "rescore", v: 1, ...job },
    }),
  );
  const shards = Array.from({ length: SHARDS }, (_, shard) => shard);
  await inParallel(shards, 8, async (shard) => {
    await store.ddb.send(
      new PutCommand({
        TableName: store.cfg.tableName,
        Item: {
          ...keys.rescoreShard(ws, job.id, shard),
          type: "rescore-shard",
          v: 1,
          shard,
          page: 0,
          done: false,
          processed: 0,
        },
      }),
    );
  });
  await publish(
    store,
    "RescoreQueue",
    shards.map((shard) => pageMessage(ws, job.id, shard, 0)),
  );
  return job;
}

export const pageMessage = (
  ws: string,
  jobId: string,
  shard: number,
  page: number,
  after?: string,
): RescorePageMessage => ({
  kind: "rescore-page",
  workspaceId: ws,
  jobId,
  shard,
  page,
  ...(after ? { after } : {}),
});

export async function getRescore(store: Store, ws: string, id: string): Promise<RescoreJob | undefined> {
  const res = await store.ddb.send(
    new GetCommand({ TableName: store.cfg.tableName, Key: keys.rescoreJob(ws, id), ConsistentRead: true }),
  );
  return res.Item ? (withoutKeys(res.Item) as RescoreJob) : undefined;
}

export type ShardState = { shard: number; page: number; after?: string; done: boolean; processed: number };

async function shardStates(store: Store, ws: string, id: string): Promise<ShardState[]> {
  const k = keys.rescoreShardPrefix(ws, id);
  return (await queryAll(store, k.pk, k.skPrefix)).map((i) => withoutKeys(i) as ShardState);
}

/** Re-publish the next page of every unfinished shard: resumes a job whose messages were lost or dead-lettered. */
export async function resumeRescore(store: Store, ws: string, id: string): Promise<number> {
  const open = (await shardStates(store, ws, id)).filter((s) => !s.done);
  await publish(
    store,
    "RescoreQueue",
    open.map((s) => pageMessage(ws, id, s.shard, s.page, s.after)),
  );
  return open.length;
}

/** Mark the job completed once every shard is done, and record the coverage it measured. */
export async function completeIfDone(store: Store, ws: string, id: string): Promise<void> {
  const now = new Date().toISOString();
  let job: RescoreJob;
  try {
    const res = await store.ddb.send(
      new UpdateCommand({
        TableName: store.cfg.tableName,
        Key: keys.rescoreJob(ws, id),
        UpdateExpression: "SET #s = :done, completedAt = :now",
        ConditionExpression: "shardsDone = shards AND #s = :running",
        ExpressionAttributeNames: { "#s": "status" },
        ExpressionAttributeValues: { ":done": "completed", ":running": "running", ":now": now },
        ReturnValues: "ALL_NEW",
      }),
    );
    job = withoutKeys(res.Attributes ?? {}) as RescoreJob;
  } catch (e) {
    if (conditionFailed(e)) return;
    throw e;
  }
  // The coverage of the version this job scored with becomes part of that version's record.
  const icpId = job.override?.icpId ?? job.icpId;
  const cov = coverage(job.processed, icpId ? (job.icpQualified[icpId] ?? 0) : job.qualified);
  await store.ddb.send(
    new UpdateCommand({
      TableName: store.cfg.tableName,
      Key: keys.rescoreJob(ws, id),
      UpdateExpression: "SET coverage = :c",
      ExpressionAttributeValues: { ":c": cov },
    }),
  );
  const version = job.override ? job.override.version : job.icpVersion;
  if (icpId && typeof version === "number" && !job.dryRun) await setIcpVersionCoverage(store, ws, icpId, version, cov);
}
