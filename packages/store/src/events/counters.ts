/** The events worker's counters: a batch's summed increments, applied once per (batch, part). */
import { TransactWriteCommand } from "@aws-sdk/lib-dynamodb";
import { type Deltas, parseDeltaKey } from "@icp/core";
import type { Store } from "../infra/index.js";
import { batchGet, cancelledBy, inParallel, keys, retry } from "../infra/index.js";
import { expiresAt } from "./claims.js";
import { COUNTER_SHARDS, shardOf } from "./shards.js";

/** Counter updates per transaction (one slot is the batch marker). */
const COUNTERS_PER_TX = 99;

/**
 * Counter transactions of this process run one at a time: they all touch the same hot items,
 * and DynamoDB Local fails concurrent transactions on one item after waiting for its lock
 * (AWS cancels them with TransactionConflict, retried below as well).
 */
let counterChain: Promise<unknown> = Promise.resolve();
function serially<T>(run: () => Promise<T>): Promise<T> {
  const next = counterChain.then(run, run);
  counterChain = next.catch(() => {});
  return next;
}

/** A transaction that lost to another writer of its hot items (not a failed condition): worth again. */
function lostToConcurrentWrite(e: unknown): boolean {
  const err = e as Error & { CancellationReasons?: { Code?: string }[] };
  return (
    err.name === "TransactionConflictException" ||
    (err.name === "InternalServerError" && /lock/i.test(err.message)) ||
    (err.name === "TransactionCanceledException" &&
      (err.CancellationReasons ?? []).some((r) => r.Code === "TransactionConflict" || r.Code === "ThrottlingError"))
  );
}

/**
 * Apply a batch's summed increments with atomic ADD, each transaction guarded by a (batch, part)
 * marker. Nothing is applied when the batch is done already: its shares may have been dropped
 * from engagement items since, so a late copy's sum could differ from what was applied.
 */
export async function applyCounters(store: Store, ws: string, batchKey: string, deltas: Deltas): Promise<number> {
  const shard = shardOf(batchKey, COUNTER_SHARDS);
  const entries = Object.entries(deltas)
    .filter(([, m]) => Object.keys(m).length)
    .sort(([a], [b]) => (a < b ? -1 : 1));
  const parts: (typeof entries)[] = [];
  for (let i = 0; i < entries.length; i += COUNTERS_PER_TX) parts.push(entries.slice(i, i + COUNTERS_PER_TX));
  const markerExpiry = expiresAt();
  // A redelivered batch skips the parts it already applied without a (costly) cancelled transaction.
  const claimKey = keys.eventBatch(ws, batchKey);
  const markers = parts.length
    ? await batchGet(store, [claimKey, ...parts.map((_, i) => keys.counterBatch(ws, batchKey, i))])
    : new Map();
  if (markers.get(`${claimKey.pk}|${claimKey.sk}`)?.st === "done") return 0;
  const applied = (i: number) => {
    const k = keys.counterBatch(ws, batchKey, i);
    return markers.has(`${k.pk}|${k.sk}`);
  };
  await inParallel(
    parts.map((p, i) => [p, i] as const).filter(([, i]) => !applied(i)),
    2,
    async ([part, i]) => {
      const items = part.map(([k, metrics]) => {
        const { scope, dim, day, value } = parseDeltaKey(k);
        const names: Record<string, string> = { "#ty": "type", "#v": "v" };
        const values: Record<string, unknown> = { ":ty": "counter", ":one": 1 };
        const adds = Object.entries(metrics).map(([m, n], j) => {
          names[`#m${j}`] = m;
          values[`:m${j}`] = n;
          return `#m${j} :m${j}`;
        });
        return {
          Update: {
            TableName: store.cfg.tableName,
            Key: keys.counter(ws, scope, dim, day, value, shard),
            UpdateExpression: `SET #ty = :ty, #v = :one ADD ${adds.join(", ")}`,
            ExpressionAttributeNames: names,
            ExpressionAttributeValues: values,
          },
        };
      });
      const marker = {
        Put: {
          TableName: store.cfg.tableName,
          Item: { ...keys.counterBatch(ws, batchKey, i), type: "counter-batch", v: 1, expiresAt: markerExpiry },
          ConditionExpression: "attribute_not_exists(pk)",
        },
      };
      await retry(
        () =>
          serially(() => store.ddb.send(new TransactWriteCommand({ TransactItems: [marker, ...items] }))).catch((e) => {
            if (!cancelledBy(e, 0)) throw e; // else this part was applied before (redelivery)
          }),
        { attempts: 13, baseMs: 10, capMs: 1000, retryIf: lostToConcurrentWrite },
      );
    },
  );
  return entries.length;
}
