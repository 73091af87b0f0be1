import { GetQueueAttributesCommand } from "@aws-sdk/client-sqs";
import { ScanCommand } from "@aws-sdk/lib-dynamodb";
import { dimsOf, type EventDims, type StoredEvent, scopesOf, UNIQUE_TYPES } from "@icp/core";
import { keys, type Store } from "@icp/store";
import { eventually, type TestStack } from "./stack.js";

/** Wait until a queue has nothing visible and nothing in flight. */
export async function drained(s: TestStack, queue: "EventQueue" | "RouteQueue" | "IngestQueue", ms = 60_000) {
  let zeroes = 0;
  await eventually(
    async () => {
      const a = await s.store.sqs.send(
        new GetQueueAttributesCommand({
          QueueUrl: s.queues[queue]?.url,
          AttributeNames: ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        }),
      );
      const left =
        Number(a.Attributes?.ApproximateNumberOfMessages) + Number(a.Attributes?.ApproximateNumberOfMessagesNotVisible);
      zeroes = left === 0 ? zeroes + 1 : 0;
      return zeroes >= 3 ? true : undefined;
    },
    ms,
    `${queue} drained`,
  );
}

type Key = string;
export type CounterMap = Map<Key, Record<string, number>>;
const k = (scope: string, dim: string, day: string, value: string) => `${scope}\t${dim}\t${day}\t${value}`;
const add = (m: CounterMap, key: Key, metric: string, n: number) => {
  const r = m.get(key) ?? {};
  r[metric] = (r[metric] ?? 0) + n;
  m.set(key, r);
};

/**
 * Recompute the counters from the stored events (independently of the worker's incremental
 * code): events per dimension value, and unique accounts/contacts counted on the day of their
 * earliest event in that value, in the scopes of that event. The sales-cycle histogram is left out.
 */
export function recomputeCounters(events: readonly Record<string, unknown>[]): CounterMap {
  const out: CounterMap = new Map();
  const firsts = new Map<string, { at: string; dims: EventDims; dim: string; value: string; metric: string }>();
  const byId = new Map<string, Record<string, unknown>>();
  for (const e of events) if (!byId.has(String(e.id))) byId.set(String(e.id), e);
  for (const raw of byId.values()) {
    const e = raw as unknown as StoredEvent & { dims: EventDims };
    const day = e.at.slice(0, 10);
    const contact = e.contactId ?? e.contactEmail;
    for (const [dim, value] of dimsOf(e.dims, e)) {
      for (const scope of scopesOf(e.dims)) {
        add(out, k(scope, dim, day, value), `n_${e.type}`, 1);
        if (e.type === "won" && e.amount) add(out, k(scope, dim, day, value), "amt", e.amount);
      }
      const types = ["touched", ...((UNIQUE_TYPES as readonly string[]).includes(e.type) ? [e.type] : [])];
      for (const t of types) {
        const who = [`a:${e.accountId}`, ...(contact ? [`c:${e.accountId}:${contact}`] : [])];
        for (const w of who) {
          const fk = `${w}|${dim}|${value}|${t}`;
          const held = firsts.get(fk);
          if (!held || e.at < held.at) firsts.set(fk, { at: e.at, dims: e.dims, dim, value, metric: `${w[0]}_${t}` });
        }
      }
    }
  }
  for (const f of firsts.values())
    for (const scope of scopesOf(f.dims)) add(out, k(scope, f.dim, f.at.slice(0, 10), f.value), f.metric, 1);
  return out;
}

/** Every counter item of a workspace, shards summed, zero metrics and the cycle histogram dropped. */
export async function storedCounters(store: Store, ws: string): Promise<CounterMap> {
  const prefix = `${keys.workspace(ws).pk}#CNT#`;
  const out: CounterMap = new Map();
  let start: Record<string, unknown> | undefined;
  do {
    const res = await store.ddb.send(
      new ScanCommand({
        TableName: store.cfg.tableName,
        FilterExpression: "begins_with(pk, :p)",
        ExpressionAttributeValues: { ":p": prefix },
        ExclusiveStartKey: start,
      }),
    );
    for (const item of res.Items ?? []) {
      const [scope, ...dimParts] = String(item.pk).slice(prefix.length).split("#");
      // scope never contains "#" unless a segment or ICP id does; the dimension is the last part.
      const dim = dimParts.pop() as string;
      const fullScope = [scope, ...dimParts].join("#");
      const sk = String(item.sk);
      const rest = sk.slice(11);
      const value = rest.slice(0, rest.lastIndexOf("#"));
      for (const [m, n] of Object.entries(item))
        if (/^(n|a|c)_|^amt$/.test(m) && typeof n === "number")
          add(out, k(fullScope, dim, sk.slice(0, 10), value), m, n);
    }
    start = res.LastEvaluatedKey;
  } while (start);
  return normalize(out);
}

export function normalize(m: CounterMap): CounterMap {
  const out: CounterMap = new Map();
  for (const [key, metrics] of [...m.entries()].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const kept = Object.fromEntries(
      Object.entries(metrics)
        .filter(([name, n]) => n !== 0 && !name.startsWith("cy_"))
        .map(([name, n]) => [name, Math.round(n * 100) / 100])
        .sort(([a], [b]) => (String(a) < String(b) ? -1 : 1)),
    );
    if (Object.keys(kept).length) out.set(key, kept);
  }
  return out;
}
