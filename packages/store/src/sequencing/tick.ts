import { randomUUID } from "node:crypto";
import { QueryCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import type { SendStepMessage } from "@icp/core";
import type { Store } from "../infra/index.js";
import { chunks, coalescing, conditionFailed, DUE_SHARDS, inParallel, keys, publish } from "../infra/index.js";

/** Claims older than this whose step has not completed are put on the send queue again. */
export const STALE_CLAIM_MS = 10 * 60_000;

export type ClaimOptions = {
  /** Most steps claimed by this call. */
  limit: number;
  /** Partitions of the due index to read (default all). */
  shards?: readonly number[];
  /** Conditional updates in flight at once (default 100). */
  concurrency?: number;
};

/**
 * Claim steps due at or before `now`, across workspaces, from the due index. Each claim is a
 * conditional update (active, unclaimed, due) that sets a fresh claim token and takes the
 * enrollment out of the due index: two ticks racing on one step never both win it.
 */
export async function claimDueSteps(store: Store, now: Date | number, opts: ClaimOptions): Promise<SendStepMessage[]> {
  const nowIso = new Date(now).toISOString();
  const shards = opts.shards ?? Array.from({ length: DUE_SHARDS }, (_, i) => i);
  // Start at a random shard so concurrent ticks spread over different partitions first.
  const offset = Math.floor(Math.random() * shards.length);
  const order = shards.map((_, i) => shards[(i + offset) % shards.length] as number);
  const claimed: SendStepMessage[] = [];
  let reserved = 0;
  // Claims in flight together are merged into transactions (coalesce.ts): one request for many.
  const tx = coalescing(store);
  const perShard = Math.max(1, Math.ceil((opts.concurrency ?? 100) / Math.min(order.length, 4)));
  await inParallel(order, Math.min(order.length, 4), async (shard) => {
    let start: Record<string, unknown> | undefined;
    do {
      if (reserved >= opts.limit) return;
      const res = await store.ddb.send(
        new QueryCommand({
          TableName: store.cfg.tableName,
          IndexName: "gsi5",
          KeyConditionExpression: "gsi5pk = :pk AND gsi5sk < :bound",
          ExpressionAttributeValues: { ":pk": keys.duePartition(shard), ":bound": `${nowIso}$` },
          ProjectionExpression: "gsi5sk, stepId, stepIndex",
          Limit: Math.min(200, Math.max(10, opts.limit - reserved)),
          ...(start ? { ExclusiveStartKey: start } : {}),
        }),
      );
      start = res.LastEvaluatedKey;
      await inParallel(res.Items ?? [], perShard, async (item) => {
        if (reserved >= opts.limit) return;
        const [, ws, id] = String(item.gsi5sk).split("#");
        if (!ws || !id || typeof item.stepId !== "string" || typeof item.stepIndex !== "number") return;
        reserved++;
        const msg = await claimOne(tx, ws, id, nowIso, item.stepIndex, item.stepId);
        if (msg) claimed.push(msg);
        else reserved--;
      });
    } while (start);
  });
  return claimed;
}

/**
 * The claim: a conditional update (active, unclaimed, due, and still at the step the index
 * showed, which is eventually consistent) with a fresh claim token.
 */
async function claimOne(
  store: Store,
  ws: string,
  id: string,
  nowIso: string,
  stepIndex: number,
  stepId: string,
): Promise<SendStepMessage | undefined> {
  const claim = randomUUID();
  try {
    await store.ddb.send(
      new UpdateCommand({
        TableName: store.cfg.tableName,
        Key: keys.enrollment(ws, id),
        UpdateExpression:
          "SET #claim = :claim, #claimedAt = :now, #rev = #rev + :one, gsi4pk = :cpk, gsi4sk = :csk REMOVE gsi5pk, gsi5sk",
        ConditionExpression:
          "#st = :active AND attribute_not_exists(#claim) AND #due <= :now AND #si = :si AND #sid = :sid",
        ExpressionAttributeNames: {
          "#claim": "claim",
          "#claimedAt": "claimedAt",
          "#rev": "rev",
          "#st": "status",
          "#due": "dueAt",
          "#si": "stepIndex",
          "#sid": "stepId",
        },
        ExpressionAttributeValues: {
          ":claim": claim,
          ":now": nowIso,
          ":one": 1,
          ":active": "active",
          ":cpk": keys.enrollmentClaimed(ws, id, nowIso).gsi4pk,
          ":csk": keys.enrollmentClaimed(ws, id, nowIso).gsi4sk,
          ":si": stepIndex,
          ":sid": stepId,
        },
      }),
    );
    return { kind: "send-step", workspaceId: ws, enrollmentId: id, stepIndex, stepId, claim };
  } catch (e) {
    if (conditionFailed(e)) return undefined; // another tick won it, or it changed since indexed
    throw e;
  }
}

/**
 * Claims older than `olderThanMs` whose step never completed (a send worker crashed, or the
 * tick died between claiming and publishing): refresh their claim time and return their
 * messages to publish again with the same claim. The sender's send record (one per enrollment
 * step) makes a second delivery harmless.
 */
export async function staleClaims(
  store: Store,
  now: Date | number,
  opts: { olderThanMs?: number; limit?: number } = {},
): Promise<SendStepMessage[]> {
  const nowIso = new Date(now).toISOString();
  const cutoff = new Date(new Date(now).getTime() - (opts.olderThanMs ?? STALE_CLAIM_MS)).toISOString();
  const limit = opts.limit ?? 1000;
  const out: SendStepMessage[] = [];
  await inParallel(
    Array.from({ length: DUE_SHARDS }, (_, i) => i),
    4,
    async (shard) => {
      let start: Record<string, unknown> | undefined;
      do {
        if (out.length >= limit) return;
        const res = await store.ddb.send(
          new QueryCommand({
            TableName: store.cfg.tableName,
            IndexName: "gsi4",
            KeyConditionExpression: "gsi4pk = :pk AND gsi4sk < :bound",
            ExpressionAttributeValues: { ":pk": keys.claimedPartition(shard), ":bound": `${cutoff}$` },
            ProjectionExpression: "gsi4sk, #claim, claimedAt, stepId, stepIndex",
            ExpressionAttributeNames: { "#claim": "claim" },
            Limit: 100,
            ...(start ? { ExclusiveStartKey: start } : {}),
          }),
        );
        start = res.LastEvaluatedKey;
        for (const item of res.Items ?? []) {
          const [, ws, id] = String(item.gsi4sk).split("#");
          if (!ws || !id || typeof item.claim !== "string" || typeof item.stepId !== "string") continue;
          try {
            const sk = keys.enrollmentClaimed(ws, id, nowIso);
            await store.ddb.send(
              new UpdateCommand({
                TableName: store.cfg.tableName,
                Key: keys.enrollment(ws, id),
                UpdateExpression: "SET #claimedAt = :now, gsi4sk = :csk, #rev = #rev + :one",
                ConditionExpression: "#claim = :claim AND #claimedAt = :old AND #st = :active",
                ExpressionAttributeNames: {
                  "#claim": "claim",
                  "#claimedAt": "claimedAt",
                  "#rev": "rev",
                  "#st": "status",
                },
                ExpressionAttributeValues: {
                  ":now": nowIso,
                  ":csk": sk.gsi4sk,
                  ":one": 1,
                  ":claim": item.claim,
                  ":old": item.claimedAt,
                  ":active": "active",
                },
              }),
            );
            out.push({
              kind: "send-step",
              workspaceId: ws,
              enrollmentId: id,
              stepIndex: Number(item.stepIndex),
              stepId: item.stepId,
              claim: item.claim,
            });
          } catch (e) {
            if (!conditionFailed(e)) throw e;
          }
        }
      } while (start);
    },
  );
  return out;
}

export type TickResult = { claimed: number; requeued: number; pages: number };

/**
 * One scheduler tick: claim due steps page by page (all shards) and put them on the send queue,
 * until nothing more is due or the time budget is spent; then re-queue stale claims. Delays
 * live in the table, never in SQS: a message is only published for a step that is due.
 */
export async function runTick(
  store: Store,
  now: () => Date = () => new Date(),
  opts: { pageSize?: number; budgetMs?: number; concurrency?: number } = {},
): Promise<TickResult> {
  const pageSize = opts.pageSize ?? 500;
  const until = Date.now() + (opts.budgetMs ?? 40_000);
  let claimed = 0;
  let pages = 0;
  for (;;) {
    const batch = await claimDueSteps(store, now(), {
      limit: pageSize,
      ...(opts.concurrency ? { concurrency: opts.concurrency } : {}),
    });
    // SQS takes 10 per request: a few requests in flight keep publishing off the critical path.
    await inParallel(chunks(batch, 50), 4, (part) => publish(store, "SendQueue", part));
    claimed += batch.length;
    pages++;
    if (batch.length < pageSize || Date.now() > until) break;
  }
  const stale = await staleClaims(store, now());
  if (stale.length) await publish(store, "SendQueue", stale);
  return { claimed, requeued: stale.length, pages };
}
