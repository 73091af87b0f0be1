/**
 * DynamoDB Local CPU per request of the ingest's per-chunk bookkeeping (quick-start JVM, like
 * startStack): what each small request costs next to writing the chunk's 100 accounts.
 *
 *   npx tsx bench/profile/chunk-requests.ts
 *   env: BENCH_REPEAT (200 requests per kind)
 */
import { GetCommand, QueryCommand, TransactWriteCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import { QUICK_START_JVM_OPTIONS } from "@icp/local";
import { batchGet, batchPut, inParallel } from "@icp/store";
import { findOwnJava, procCpuSeconds } from "../ingest.js";
import { fmt, log } from "../lib.js";
import { MICRO_TABLE, microSetup } from "./micro-setup.js";

const REPEAT = Number(process.env.BENCH_REPEAT ?? 200);
const { dynamo, store, items } = await microSetup(2000, QUICK_START_JVM_OPTIONS);
const T = MICRO_TABLE;
const accounts = () => items("account");
const javaPid = findOwnJava();

async function measure(name: string, n: number, f: (i: number) => Promise<unknown>, per = 1) {
  if (per === 1) for (let i = 0; i < 20; i++) await f(i); // warm-up
  const j0 = javaPid ? procCpuSeconds(javaPid) : Number.NaN;
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  await inParallel(
    Array.from({ length: n }, (_, i) => i),
    4,
    async (i) => {
      await f(i);
    },
  );
  const ms = performance.now() - t0;
  const j = ((javaPid ? procCpuSeconds(javaPid) : Number.NaN) - j0) * 1000;
  const c = process.cpuUsage(c0);
  console.log(
    `| ${name} | ${fmt(j / n / per, 3)} | ${fmt((c.user + c.system) / 1000 / n / per, 3)} | ${fmt(ms / n, 2)} |`,
  );
}

console.log("| request | JVM CPU ms / unit | Node CPU ms / unit | wall ms / request (x4) |\n|---|---:|---:|---:|");
// Setup: a lease-like item, a job item, an ICP-like partition with 2 items.
await store.ddb.send(
  new UpdateCommand({
    TableName: T,
    Key: { pk: "W#x", sk: "LEASE" },
    UpdateExpression: "SET n = :n",
    ExpressionAttributeValues: { ":n": 0 },
  }),
);
const existing = accounts();
await batchPut(store, existing, 8);
const keysOf = (xs: Record<string, unknown>[]) => xs.map((i) => ({ pk: i.pk as string, sk: i.sk as string }));
for (const conc of [8, 32, 80]) {
  const items = accounts();
  await measure(
    `batchPut 2,000 new accounts x${conc} in flight, per account`,
    1,
    async () => {
      await batchPut(store, items, conc);
    },
    items.length,
  );
}
await measure("BatchGetItem 100 absent keys, consistent", REPEAT, async (i) => {
  await batchGet(
    store,
    keysOf(existing.slice(0, 100)).map((k) => ({ pk: `${k.pk}x${i}`, sk: k.sk })),
    1,
  );
});
await measure("BatchGetItem 100 absent keys, keys only", REPEAT, async (i) => {
  await batchGet(
    store,
    keysOf(existing.slice(0, 100)).map((k) => ({ pk: `${k.pk}x${i}`, sk: k.sk })),
    1,
    [],
  );
});
await measure("BatchGetItem 100 present accounts, consistent", REPEAT / 4, async (i) => {
  const s = (i * 100) % 1900;
  await batchGet(store, keysOf(existing.slice(s, s + 100)), 1);
});
await measure("BatchGetItem 100 present accounts, keys only", REPEAT / 4, async (i) => {
  const s = (i * 100) % 1900;
  await batchGet(store, keysOf(existing.slice(s, s + 100)), 1, []);
});
await measure("GetItem consistent (absent)", REPEAT, async (i) => {
  await store.ddb.send(new GetCommand({ TableName: T, Key: { pk: `W#x`, sk: `C#${i}` }, ConsistentRead: true }));
});
await measure("UpdateItem ADD (one hot item)", REPEAT, async () => {
  await store.ddb.send(
    new UpdateCommand({
      TableName: T,
      Key: { pk: "W#x", sk: "LEASE" },
      UpdateExpression: "ADD n :one",
      ConditionExpression: "attribute_exists(pk)",
      ExpressionAttributeValues: { ":one": 1 },
    }),
  );
});
await measure("Query (partition of 1 item)", REPEAT, async () => {
  await store.ddb.send(
    new QueryCommand({ TableName: T, KeyConditionExpression: "pk = :pk", ExpressionAttributeValues: { ":pk": "W#x" } }),
  );
});
await measure("TransactWriteItems Put + Update", REPEAT, async (i) => {
  await store.ddb.send(
    new TransactWriteCommand({
      TransactItems: [
        {
          Put: {
            TableName: T,
            Item: { pk: "W#x", sk: `CH#${i}#${Math.random()}`, type: "import-chunk" },
            ConditionExpression: "attribute_not_exists(pk)",
          },
        },
        {
          Update: {
            TableName: T,
            Key: { pk: "W#x", sk: "LEASE" },
            UpdateExpression: "ADD n :one",
            ExpressionAttributeValues: { ":one": 1 },
          },
        },
      ],
    }),
  );
});
log("done");
await dynamo.stop();
