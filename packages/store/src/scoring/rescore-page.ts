/** One page of one shard of a rescore job (the RescoreQueue worker). */
import { GetCommand, QueryCommand, TransactWriteCommand } from "@aws-sdk/lib-dynamodb";
import { type CompiledIcp, compileIcp, type RescorePageMessage, scoreAll, type TierChangedEvent } from "@icp/core";
import { toAccount } from "../accounts/index.js";
import type { Store } from "../infra/index.js";
import { batchGet, cancelledBy, inParallel, keys, publish, publishTierChanges } from "../infra/index.js";
import { activeIcps, getIcp } from "./icps.js";
import { rescoreAccount } from "./rescore-account.js";
import {
  completeIfDone,
  getRescore,
  pageMessage,
  RESCORE_PAGE,
  type RescoreJob,
  type ShardState,
} from "./rescore-job.js";

const SAMPLES_PER_PAGE = 2;

/**
 * Process one page of one shard; idempotent under redelivery and duplicate messages: the shard's
 * cursor moves in the same transaction as the job's counters, conditioned on the page.
 */
export async function processRescorePage(store: Store, msg: RescorePageMessage): Promise<void> {
  const ws = msg.workspaceId;
  const state = await shardState(store, msg);
  if (!state || state.done || state.page > msg.page + 1 || state.page < msg.page) return;
  if (state.page === msg.page + 1) {
    // This page was done but its successor may never have been sent (crash in between).
    await publish(store, "RescoreQueue", [pageMessage(ws, msg.jobId, msg.shard, state.page, state.after)]);
    return;
  }
  const job = await getRescore(store, ws, msg.jobId);
  if (!job) return;
  const icps = await icpsFor(store, ws, job);
  const page = await readPage(store, msg); // the shard's next RESCORE_PAGE account ids
  const tally = await rescorePage(store, ws, job, icps, page.ids); // write changes (unless a dry run), count
  await publishTierChanges(store, tally.events);
  if (!(await recordPage(store, msg, page, tally))) return; // a duplicate message did this page
  if (page.after !== undefined) {
    await publish(store, "RescoreQueue", [pageMessage(ws, msg.jobId, msg.shard, msg.page + 1, page.after)]);
    return;
  }
  await completeIfDone(store, ws, msg.jobId);
}

async function shardState(store: Store, msg: RescorePageMessage): Promise<ShardState | undefined> {
  const res = await store.ddb.send(
    new GetCommand({
      TableName: store.cfg.tableName,
      Key: keys.rescoreShard(msg.workspaceId, msg.jobId, msg.shard),
      ConsistentRead: true,
    }),
  );
  return res.Item as ShardState | undefined;
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

type Page = { ids: string[]; after: string | undefined };

/** The next page of the shard's account ids; `after` is undefined on its last page. */
async function readPage(store: Store, msg: RescorePageMessage): Promise<Page> {
  const page = await store.ddb.send(
    new QueryCommand({
      TableName: store.cfg.tableName,
      IndexName: "gsi3",
      KeyConditionExpression: msg.after ? "gsi3pk = :pk AND gsi3sk > :after" : "gsi3pk = :pk",
      ExpressionAttributeValues: {
        ":pk": keys.accountShardPartition(msg.workspaceId, msg.shard),
        ...(msg.after ? { ":after": msg.after } : {}),
      },
      Limit: RESCORE_PAGE,
    }),
  );
  const ids = (page.Items ?? []).map((i) => i.gsi3sk as string);
  return { ids, after: page.LastEvaluatedKey ? ids[ids.length - 1] : undefined };
}

/** What a page adds to its job: counts, tier transitions with a few samples, and the events to publish. */
type Tally = {
  events: TierChangedEvent[];
  transitions: Record<string, number>;
  samples: Record<string, RescoreJob["samples"][string]>;
  icpQualified: Record<string, number>;
  changed: number;
  qualified: number;
};

/** Re-score the page's accounts (read fresh) and tally what changed. */
async function rescorePage(
  store: Store,
  ws: string,
  job: RescoreJob,
  icps: CompiledIcp[],
  ids: string[],
): Promise<Tally> {
  const fresh = await batchGet(
    store,
    ids.map((id) => keys.account(ws, id)),
  );
  const source = `rescore:${job.id}`;
  const now = Date.parse(job.at);
  const t: Tally = { events: [], transitions: {}, samples: {}, icpQualified: {}, changed: 0, qualified: 0 };
  await inParallel(ids, 16, async (id) => {
    const item = fresh.get(`${keys.account(ws, id).pk}|A`);
    if (!item) return;
    const prev = toAccount(item);
    const r = await rescoreAccount(store, ws, prev, icps, { source, now, at: job.at, write: !job.dryRun });
    if (r.event) t.events.push(r.event);
    if (r.account.qualified) t.qualified++;
    for (const s of scoreAll(icps, r.account.facts, r.account.domain, now).all)
      if (s.qualified) t.icpQualified[s.icpId] = (t.icpQualified[s.icpId] ?? 0) + 1;
    const from = prev.lastSource === source ? (r.event?.from ?? prev.tier) : prev.tier;
    // Applied by this job, now or by a duplicate delivery (seen here, or only on a stale write).
    if (r.changed || r.account.lastSource === source) t.changed++;
    if (from !== r.account.tier && from !== null) {
      const key = `${from}->${r.account.tier}`;
      t.transitions[key] = (t.transitions[key] ?? 0) + 1;
      const list = t.samples[key] ?? [];
      t.samples[key] = list;
      if (list.length < SAMPLES_PER_PAGE)
        list.push({ id, domain: r.account.domain, from, to: r.account.tier, score: r.account.score });
    }
  });
  return t;
}

/** The job item's update for a page: ADD its counts, append its samples. */
function jobCounters(t: Tally, processed: number, done: boolean) {
  const names: Record<string, string> = {};
  const values: Record<string, unknown> = {
    ":n": processed,
    ":changed": t.changed,
    ":q": t.qualified,
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
  for (const [tr, n] of Object.entries(t.transitions)) {
    names[`#t${i}`] = tr;
    values[`:t${i}`] = n;
    add.push(`#transitions.#t${i} :t${i}`);
    if (t.samples[tr]?.length) {
      values[`:s${i}`] = t.samples[tr];
      set.push(`#samples.#t${i} = list_append(if_not_exists(#samples.#t${i}, :empty), :s${i})`);
      values[":empty"] = [];
    }
    i++;
  }
  for (const [icpId, n] of Object.entries(t.icpQualified)) {
    names[`#q${i}`] = icpId;
    values[`:q${i}`] = n;
    add.push(`#icpQualified.#q${i} :q${i}`);
    i++;
  }
  const update = `SET ${set.join(", ")} ADD ${add.join(", ")}`;
  // DynamoDB refuses names the expression does not use.
  return { update, names: Object.fromEntries(Object.entries(names).filter(([k]) => update.includes(k))), values };
}

/**
 * Move the shard's cursor past the page (conditioned on the page) and add the page to the job's
 * counters, in one transaction. False when a duplicate message did this page already.
 */
async function recordPage(store: Store, msg: RescorePageMessage, page: Page, t: Tally): Promise<boolean> {
  const ws = msg.workspaceId;
  const { after } = page;
  const job = jobCounters(t, page.ids.length, after === undefined);
  try {
    await store.ddb.send(
      new TransactWriteCommand({
        TransactItems: [
          {
            Update: {
              TableName: store.cfg.tableName,
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
                ":isDone": after === undefined,
                ":page": msg.page,
                ":n": page.ids.length,
                ...(after ? { ":after": after } : {}),
              },
            },
          },
          {
            Update: {
              TableName: store.cfg.tableName,
              Key: keys.rescoreJob(ws, msg.jobId),
              UpdateExpression: job.update,
              ExpressionAttributeNames: job.names,
              ExpressionAttributeValues: job.values,
            },
          },
        ],
      }),
    );
    return true;
  } catch (e) {
    // Only a failed page condition means a duplicate message did this page. A cancellation for
    // throttling or a conflicting transaction (the job item is shared by every shard) is retried.
    if (cancelledBy(e, 0)) return false;
    throw e;
  }
}
