import { BatchGetCommand, BatchWriteCommand } from "@aws-sdk/lib-dynamodb";
import type { Store } from "./clients.js";
import { type Backoff, backoff } from "./retry.js";

type Item = Record<string, unknown>;
type Key = { pk: string; sk: string };

/** Full-jitter exponential backoff, as AWS recommends for UnprocessedItems. */
const UNPROCESSED: Backoff = { baseMs: 25, capMs: 2000 };
const MAX_ATTEMPTS = 10;

async function inParallel<T>(jobs: readonly T[], limit: number, run: (job: T) => Promise<void>) {
  let next = 0;
  const worker = async () => {
    while (next < jobs.length) await run(jobs[next++] as T);
  };
  await Promise.all(Array.from({ length: Math.min(limit, jobs.length) }, worker));
}

/**
 * A bound on how many requests of one kind a process has in flight: `run` waits for a free slot.
 * Shared by every caller in the process (the records of a batch, the batches of the local pollers).
 */
export function slots(n: number): <T>(run: () => Promise<T>) => Promise<T> {
  let free = n;
  const waiters: (() => void)[] = [];
  return async (run) => {
    if (free > 0) free--;
    else await new Promise<void>((r) => waiters.push(r));
    try {
      return await run();
    } finally {
      const next = waiters.shift();
      if (next) next();
      else free++;
    }
  };
}

function chunks<T>(xs: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < xs.length; i += size) out.push(xs.slice(i, i + size));
  return out;
}

/** Put many items, 25 per request, retrying UnprocessedItems with backoff until all are written. */
export const batchPut = (store: Store, items: readonly Item[], concurrency = 4) =>
  batchWrite(
    store,
    items.map((Item) => ({ PutRequest: { Item } })),
    concurrency,
  );

/** Delete many items by key (missing ones are fine), 25 per request, retrying UnprocessedItems. */
export const batchDelete = (store: Store, keyList: readonly Key[], concurrency = 4) =>
  batchWrite(
    store,
    keyList.map((k) => ({ DeleteRequest: { Key: { pk: k.pk, sk: k.sk } } })),
    concurrency,
  );

async function batchWrite(store: Store, requests: readonly Item[], concurrency: number): Promise<void> {
  const table = store.cfg.tableName;
  await inParallel(chunks(requests, 25), concurrency, async (batch) => {
    let pending: Item[] = batch;
    for (let attempt = 0; pending.length; attempt++) {
      if (attempt >= MAX_ATTEMPTS)
        throw new Error(`BatchWriteItem: ${pending.length} items unprocessed after ${attempt} attempts`);
      if (attempt > 0) await backoff(attempt, UNPROCESSED);
      const res = await store.ddb.send(new BatchWriteCommand({ RequestItems: { [table]: pending } }));
      pending = (res.UnprocessedItems?.[table] ?? []) as Item[];
    }
  });
}

/** Get many items by key, 100 per request, retrying UnprocessedKeys; missing keys are absent from the map. */
export async function batchGet(
  store: Store,
  keyList: readonly Key[],
  concurrency = 4,
  /** Only these attributes (names are aliased, so reserved words are fine); pk and sk always come back. */
  attributes?: readonly string[],
): Promise<Map<string, Item>> {
  const names = attributes && Object.fromEntries(["pk", "sk", ...attributes].map((a, i) => [`#a${i}`, a]));
  const table = store.cfg.tableName;
  const found = new Map<string, Item>();
  await inParallel(chunks(keyList, 100), concurrency, async (batch) => {
    let pending: Key[] = batch;
    for (let attempt = 0; pending.length; attempt++) {
      if (attempt >= MAX_ATTEMPTS)
        throw new Error(`BatchGetItem: ${pending.length} keys unprocessed after ${attempt} attempts`);
      if (attempt > 0) await backoff(attempt, UNPROCESSED);
      const res = await store.ddb.send(
        new BatchGetCommand({
          RequestItems: {
            [table]: {
              Keys: pending,
              ConsistentRead: true,
              ...(names
                ? { ProjectionExpression: Object.keys(names).join(", "), ExpressionAttributeNames: names }
                : {}),
            },
          },
        }),
      );
      for (const item of res.Responses?.[table] ?? []) found.set(`${item.pk}|${item.sk}`, item);
      pending = (res.UnprocessedKeys?.[table]?.Keys ?? []) as Key[];
    }
  });
  return found;
}

export { chunks, inParallel };
