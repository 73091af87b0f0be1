import { BatchGetCommand, BatchWriteCommand } from "@aws-sdk/lib-dynamodb";
import type { Store } from "./clients.js";

type Item = Record<string, unknown>;
type Key = { pk: string; sk: string };

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** Full-jitter exponential backoff, as AWS recommends for UnprocessedItems. */
const backoff = (attempt: number) => sleep(Math.random() * Math.min(2000, 25 * 2 ** attempt));
const MAX_ATTEMPTS = 10;

async function inParallel<T>(jobs: readonly T[], limit: number, run: (job: T) => Promise<void>) {
  let next = 0;
  const worker = async () => {
    while (next < jobs.length) await run(jobs[next++] as T);
  };
  await Promise.all(Array.from({ length: Math.min(limit, jobs.length) }, worker));
}

function chunks<T>(xs: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < xs.length; i += size) out.push(xs.slice(i, i + size));
  return out;
}

/** Put many items, 25 per request, retrying UnprocessedItems with backoff until all are written. */
export async function batchPut(store: Store, items: readonly Item[], concurrency = 4): Promise<void> {
  const table = store.cfg.tableName;
  await inParallel(chunks(items, 25), concurrency, async (batch) => {
    let pending: Item[] = batch.map((Item) => ({ PutRequest: { Item } }));
    for (let attempt = 0; pending.length; attempt++) {
      if (attempt >= MAX_ATTEMPTS)
        throw new Error(`BatchWriteItem: ${pending.length} items unprocessed after ${attempt} attempts`);
      if (attempt > 0) await backoff(attempt);
      const res = await store.ddb.send(new BatchWriteCommand({ RequestItems: { [table]: pending } }));
      pending = (res.UnprocessedItems?.[table] ?? []) as Item[];
    }
  });
}

/** Get many items by key, 100 per request, retrying UnprocessedKeys; missing keys are absent from the map. */
export async function batchGet(store: Store, keyList: readonly Key[], concurrency = 4): Promise<Map<string, Item>> {
  const table = store.cfg.tableName;
  const found = new Map<string, Item>();
  await inParallel(chunks(keyList, 100), concurrency, async (batch) => {
    let pending: Key[] = batch;
    for (let attempt = 0; pending.length; attempt++) {
      if (attempt >= MAX_ATTEMPTS)
        throw new Error(`BatchGetItem: ${pending.length} keys unprocessed after ${attempt} attempts`);
      if (attempt > 0) await backoff(attempt);
      const res = await store.ddb.send(
        new BatchGetCommand({ RequestItems: { [table]: { Keys: pending, ConsistentRead: true } } }),
      );
      for (const item of res.Responses?.[table] ?? []) found.set(`${item.pk}|${item.sk}`, item);
      pending = (res.UnprocessedKeys?.[table]?.Keys ?? []) as Key[];
    }
  });
  return found;
}

export { chunks, inParallel, sleep };
