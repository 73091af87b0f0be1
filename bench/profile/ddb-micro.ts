/**
 * DynamoDB Local request costs for the ingest's items: BatchWriteItem vs single PutItem
 * (with and without the account's condition) vs TransactWriteItems, same items, one run.
 *
 *   npx tsx bench/profile/ddb-micro.ts
 *   env: BENCH_ACCOUNTS (2000)
 */
import { PutCommand, TransactWriteCommand } from "@aws-sdk/lib-dynamodb";
import { batchGet, batchPut, inParallel } from "@icp/store";
import { findOwnJava, procCpuSeconds } from "../ingest.js";
import { fmt, log, median } from "../lib.js";
import { microSetup } from "./micro-setup.js";

const N = Number(process.env.BENCH_ACCOUNTS ?? 2000);
type Item = Record<string, unknown>;

const { dynamo, store, items } = await microSetup(N);
/** Account items only (contacts are separate items or inside the account item, whichever the store does). */
const accounts = () => items("account");
const contacts = () => items("contact");

function transact(size: number, concurrency: number) {
  return async (items: Item[]) => {
    const groups: Item[][] = [];
    for (let i = 0; i < items.length; i += size) groups.push(items.slice(i, i + size));
    await inParallel(groups, concurrency, async (g) => {
      await store.ddb.send(
        new TransactWriteCommand({
          TransactItems: g.map((Item) => ({
            Put: { TableName: "micro", Item, ConditionExpression: "attribute_not_exists(pk)" },
          })),
        }),
      );
    });
  };
}

const only = process.env.BENCH_WAYS?.split(",");
const all: Record<string, (items: Item[]) => Promise<void>> = {
  "batchPut x8 (25/request)": (items) => batchPut(store, items, 8),
  "batchPut x4 (25/request)": (items) => batchPut(store, items, 4),
  "PutItem x16, no condition": (items) =>
    inParallel(items, 16, async (Item) => {
      await store.ddb.send(new PutCommand({ TableName: "micro", Item }));
    }),
  "PutItem x16, attribute_not_exists": (items) =>
    inParallel(items, 16, async (Item) => {
      await store.ddb.send(
        new PutCommand({ TableName: "micro", Item, ConditionExpression: "attribute_not_exists(pk)" }),
      );
    }),
  "PutItem x4, attribute_not_exists": (items) =>
    inParallel(items, 4, async (Item) => {
      await store.ddb.send(
        new PutCommand({ TableName: "micro", Item, ConditionExpression: "attribute_not_exists(pk)" }),
      );
    }),
  "PutItem x1, attribute_not_exists": (items) =>
    inParallel(items, 1, async (Item) => {
      await store.ddb.send(
        new PutCommand({ TableName: "micro", Item, ConditionExpression: "attribute_not_exists(pk)" }),
      );
    }),
  "batchPut x1 (25/request)": (items) => batchPut(store, items, 1),
  "TransactWrite 25 x8, attribute_not_exists": transact(25, 8),
  "TransactWrite 100 x1, attribute_not_exists": transact(100, 1),
  "TransactWrite 100 x2, attribute_not_exists": transact(100, 2),
  "TransactWrite 100 x4, attribute_not_exists": transact(100, 4),
};

const ways = Object.fromEntries(Object.entries(all).filter(([k]) => !only || only.some((o) => k.startsWith(o))));
// Warm-up every path, then 3 alternating rounds.
for (const f of Object.values(ways)) await f(accounts().slice(0, 200));
const javaPid = findOwnJava();
const res: Record<string, number[]> = {};
/** DynamoDB Local CPU milliseconds per item written (less sensitive to other load than items/s). */
const cpuMsPerItem: Record<string, number[]> = {};
for (let round = 0; round < 3; round++)
  for (const [name, f] of Object.entries(ways)) {
    const items = accounts();
    const j0 = javaPid ? procCpuSeconds(javaPid) : Number.NaN;
    const t0 = performance.now();
    await f(items);
    const ms = performance.now() - t0;
    const list = res[name] ?? [];
    list.push(items.length / (ms / 1000));
    res[name] = list;
    const cpu = cpuMsPerItem[name] ?? [];
    cpu.push((((javaPid ? procCpuSeconds(javaPid) : Number.NaN) - j0) * 1000) / items.length);
    cpuMsPerItem[name] = cpu;
  }
// Reads the ingest does per chunk: one consistent BatchGetItem of its 100 account keys.
const readRates: number[] = [];
for (let round = 0; round < 3; round++) {
  const items = accounts();
  await batchPut(store, items, 8);
  const keyList = items.map((i) => ({ pk: i.pk as string, sk: i.sk as string }));
  const t0 = performance.now();
  await inParallel(
    Array.from({ length: Math.ceil(keyList.length / 100) }, (_, i) => keyList.slice(i * 100, i * 100 + 100)),
    4,
    async (ks) => {
      await batchGet(store, ks, 1);
    },
  );
  readRates.push(keyList.length / ((performance.now() - t0) / 1000));
}
const c = contacts();
let contactRate = Number.NaN;
if (c.length) {
  const t0 = performance.now();
  await batchPut(store, c, 8);
  contactRate = c.length / ((performance.now() - t0) / 1000);
}
const base = median(res["batchPut x8 (25/request)"] ?? []);
console.log(`### DynamoDB Local: ${fmt(N)} account items per run, items/s (median of 3)`);
const baseCpu = median(cpuMsPerItem["batchPut x8 (25/request)"] ?? []);
console.log(
  "| way | items/s | vs batchPut x8 | runs | DynamoDB Local CPU ms/item | vs batchPut x8 |\n|---|---:|---:|---|---:|---:|",
);
for (const [name, xs] of Object.entries(res)) {
  const cpu = median(cpuMsPerItem[name] ?? []);
  console.log(
    `| ${name} | ${fmt(median(xs))} | ${(median(xs) / base).toFixed(2)} | ${xs.map((x) => fmt(x)).join(", ")} | ${fmt(cpu, 2)} | ${(cpu / baseCpu).toFixed(2)} |`,
  );
}
console.log(
  `\nBatchGetItem (100 keys, consistent, x4) of account items: ${fmt(median(readRates))} items/s (${readRates.map((x) => fmt(x)).join(", ")})`,
);
if (c.length) console.log(`contact items with batchPut x8: ${fmt(contactRate)} items/s`);
console.log(`account item: ${fmt(JSON.stringify(accounts()[0]).length)} bytes as JSON`);
log("done");
await dynamo.stop();
