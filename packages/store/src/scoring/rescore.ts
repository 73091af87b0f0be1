import { GetCommand, PutCommand, QueryCommand, TransactWriteCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import {
  type AccountFacts,
  type CompiledIcp,
  type Coverage,
  compileIcp,
  coverage,
  type IcpDefinition,
  newId,
  type RescorePageMessage,
  scoreAll,
  stableJson,
  type Tier,
  type TierChangedEvent,
} from "@icp/core";
import { type AccountRecord, tierChangedEvent, toAccount, writeWithRetry } from "../accounts/index.js";
import type { Store } from "../infra/index.js";
import {
  batchGet,
  cancelledBy,
  conditionFailed,
  inParallel,
  keys,
  publish,
  publishTierChanges,
  queryAll,
  SHARDS,
  withoutKeys,
} from "../infra/index.js";
import { nextAccountState } from "./account-state.js";
import { activeIcps, getIcp, setIcpVersionCoverage } from "./icps.js";

/** Accounts read per rescore message. */
export const RESCORE_PAGE = 100;
const SAMPLES_PER_PAGE = 2;

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

const pageMessage = (ws: string, jobId: string, shard: number, page: number, after?: string): RescorePageMessage => ({
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

type ShardState = { shard: number; page: number; after?: string; done: boolean; processed: number };

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

async function icpsFor(store: Store, ws: string, job: RescoreJob): Promise<CompiledIcp[]> {
  const active = await activeIcps(store, ws);
  const o = job.override;
  if (!o) return active;
  const head = await getIcp(store, ws, o.icpId);
  const version = o.version === "draft" ? (head?.latestVersion ?? 0) + 1 : o.version;
  const others = active.filter((c) => c.icp.id !== o.icpId);
  return o.definition.status === "active" ? [...others, compileIcp({ ...o.definition, id: o.icpId, version })] : others;
}

/** Has anything the user sees changed? Re-scoring an account to the same result writes nothing. */
const sameScore = (a: AccountRecord, b: AccountRecord) =>
  a.tier === b.tier &&
  a.score === b.score &&
  a.qualified === b.qualified &&
  a.segment === b.segment &&
  a.icpId === b.icpId &&
  a.icpVersion === b.icpVersion &&
  a.agingAt === b.agingAt &&
  stableJson(a.breakdown) === stableJson(b.breakdown) &&
  stableJson(a.disqualifiedBy) === stableJson(b.disqualifiedBy);

export type RescoreOutcome = { account: AccountRecord; changed: boolean; event?: TierChangedEvent };

/**
 * Re-score one account (optionally after changing its facts) and write it if the result
 * differs, retrying on a concurrent write. The tier-change event, if any, is returned for
 * the caller to publish (so a page publishes one batch).
 */
export async function rescoreAccount(
  store: Store,
  ws: string,
  prev: AccountRecord,
  icps: readonly CompiledIcp[],
  opts: { source: string; now: number; at: string; write: boolean; mutate?: (f: AccountFacts) => AccountFacts },
): Promise<RescoreOutcome> {
  const eventOf = (a: AccountRecord) => {
    const last = a.tierHistory[a.tierHistory.length - 1];
    return last?.source === opts.source ? { event: tierChangedEvent(ws, a, last) } : {};
  };
  return writeWithRetry<RescoreOutcome>(store, ws, prev.id, prev, (current) => {
    if (!current) throw new Error(`account ${prev.id} disappeared while re-scoring`);
    // Applied by an earlier delivery of this very work: re-emit its event, change nothing.
    if (current.lastSource === opts.source) return { done: { account: current, changed: false, ...eventOf(current) } };
    const facts = opts.mutate ? opts.mutate(current.facts) : current.facts;
    const next = nextAccountState(
      current.id,
      current,
      { ...facts, domain: current.domain },
      icps,
      opts.now,
      opts.source,
      opts.at,
    );
    next.facts = facts;
    if (!opts.mutate && sameScore(current, next)) return { done: { account: current, changed: false } };
    if (!opts.write) return { done: { account: next, changed: true } };
    return { write: next, result: { account: next, changed: true, ...eventOf(next) } };
  });
}

/** Process one page of one shard; idempotent under redelivery and duplicate messages. */
export async function processRescorePage(store: Store, msg: RescorePageMessage): Promise<void> {
  const ws = msg.workspaceId;
  const table = store.cfg.tableName;
  const stateRes = await store.ddb.send(
    new GetCommand({ TableName: table, Key: keys.rescoreShard(ws, msg.jobId, msg.shard), ConsistentRead: true }),
  );
  const state = stateRes.Item as ShardState | undefined;
  if (!state || state.done || state.page > msg.page + 1 || state.page < msg.page) return;
  if (state.page === msg.page + 1) {
    // This page was done but its successor may never have been sent (crash in between).
    await publish(store, "RescoreQueue", [pageMessage(ws, msg.jobId, msg.shard, state.page, state.after)]);
    return;
  }
  const job = await getRescore(store, ws, msg.jobId);
  if (!job) return;
  const icps = await icpsFor(store, ws, job);

  const page = await store.ddb.send(
    new QueryCommand({
      TableName: table,
      IndexName: "gsi3",
      KeyConditionExpression: msg.after ? "gsi3pk = :pk AND gsi3sk > :after" : "gsi3pk = :pk",
      ExpressionAttributeValues: {
        ":pk": keys.accountShardPartition(ws, msg.shard),
        ...(msg.after ? { ":after": msg.after } : {}),
      },
      Limit: RESCORE_PAGE,
    }),
  );
  const ids = (page.Items ?? []).map((i) => i.gsi3sk as string);
  const fresh = await batchGet(
    store,
    ids.map((id) => keys.account(ws, id)),
  );
  const source = `rescore:${job.id}`;
  const now = Date.parse(job.at);
  const events: TierChangedEvent[] = [];
  const transitions: Record<string, number> = {};
  const samples: Record<string, RescoreJob["samples"][string]> = {};
  const icpQualified: Record<string, number> = {};
  let changed = 0;
  let qualified = 0;
  await inParallel(ids, 16, async (id) => {
    const item = fresh.get(`${keys.account(ws, id).pk}|A`);
    if (!item) return;
    const prev = toAccount(item);
    const r = await rescoreAccount(store, ws, prev, icps, { source, now, at: job.at, write: !job.dryRun });
    if (r.event) events.push(r.event);
    if (r.account.qualified) qualified++;
    for (const s of scoreAll(icps, r.account.facts, r.account.domain, now).all)
      if (s.qualified) icpQualified[s.icpId] = (icpQualified[s.icpId] ?? 0) + 1;
    const from = prev.lastSource === source ? (r.event?.from ?? prev.tier) : prev.tier;
    // Applied by this job, now or by a duplicate delivery (seen here, or only on a stale write).
    if (r.changed || r.account.lastSource === source) changed++;
    if (from !== r.account.tier && from !== null) {
      const t = `${from}->${r.account.tier}`;
      transitions[t] = (transitions[t] ?? 0) + 1;
      const list = samples[t] ?? [];
      samples[t] = list;
      if (list.length < SAMPLES_PER_PAGE)
        list.push({ id, domain: r.account.domain, from, to: r.account.tier, score: r.account.score });
    }
  });
  await publishTierChanges(store, events);

  const after = page.LastEvaluatedKey ? ids[ids.length - 1] : undefined;
  const done = after === undefined;
  const names: Record<string, string> = {};
  const values: Record<string, unknown> = {
    ":n": ids.length,
    ":changed": changed,
    ":q": qualified,
    ":done": done ? 1 : 0,
    ":now": new Date().toISOString(),
  };
  // Every attribute is aliased: DynamoDB reserves plain words such as "processed".
  Object.assign(names, {
    "#processed": "processed",
    "#changed": "changed",
    "#qualified": "qualified",
    "#shardsDone": "shardsDone",
    "#updatedAt": "updatedAt",
    "#transitions": "transitions",
    "#samples": "samples",
    "#icpQualified": "icpQualified",
  });
  const add = ["#processed :n", "#changed :changed", "#qualified :q", "#shardsDone :done"];
  const set = ["#updatedAt = :now"];
  let i = 0;
  for (const [t, n] of Object.entries(transitions)) {
    names[`#t${i}`] = t;
    values[`:t${i}`] = n;
    add.push(`#transitions.#t${i} :t${i}`);
    if (samples[t]?.length) {
      values[`:s${i}`] = samples[t];
      set.push(`#samples.#t${i} = list_append(if_not_exists(#samples.#t${i}, :empty), :s${i})`);
      values[":empty"] = [];
    }
    i++;
  }
  for (const [icpId, n] of Object.entries(icpQualified)) {
    names[`#q${i}`] = icpId;
    values[`:q${i}`] = n;
    add.push(`#icpQualified.#q${i} :q${i}`);
    i++;
  }
  const jobUpdate = `SET ${set.join(", ")} ADD ${add.join(", ")}`;
  try {
    await store.ddb.send(
      new TransactWriteCommand({
        TransactItems: [
          {
            Update: {
              TableName: table,
              Key: keys.rescoreShard(ws, msg.jobId, msg.shard),
              UpdateExpression: `SET #page = :next, #done = :isDone${after ? ", #after = :after" : ""} ADD #processed :n`,
              ConditionExpression: "#page = :page",
              ExpressionAttributeNames: {
                "#page": "page",
                "#done": "done",
                "#processed": "processed",
                ...(after ? { "#after": "after" } : {}),
              },
              ExpressionAttributeValues: {
                ":next": msg.page + 1,
                ":isDone": done,
                ":page": msg.page,
                ":n": ids.length,
                ...(after ? { ":after": after } : {}),
              },
            },
          },
          {
            Update: {
              TableName: table,
              Key: keys.rescoreJob(ws, msg.jobId),
              UpdateExpression: jobUpdate,
              // DynamoDB refuses names the expression does not use.
              ExpressionAttributeNames: Object.fromEntries(
                Object.entries(names).filter(([k]) => jobUpdate.includes(k)),
              ),
              ExpressionAttributeValues: values,
            },
          },
        ],
      }),
    );
  } catch (e) {
    // Only a failed page condition means a duplicate message did this page. A cancellation for
    // throttling or a conflicting transaction (the job item is shared by every shard) is retried.
    if (cancelledBy(e, 0)) return;
    throw e;
  }
  if (!done) {
    await publish(store, "RescoreQueue", [pageMessage(ws, msg.jobId, msg.shard, msg.page + 1, after)]);
    return;
  }
  await completeIfDone(store, ws, msg.jobId);
}

async function completeIfDone(store: Store, ws: string, id: string): Promise<void> {
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
