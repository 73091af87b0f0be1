/**
 * AWS requests per ingested account, counted on the store's own clients while an upload goes
 * through the whole pipeline on a local stack: submitImport (what POST /v1/imports does) ->
 * IngestQueue -> ingestChunk (what functions/ingest.ts does) -> RouteQueue -> route worker.
 * The queues are drained here the way Lambda's SQS event source mapping does it (receive a
 * batch of the manifest's size, invoke, delete), so its billed receives and deletes count too.
 * DynamoDB Local reports consumed capacity, GSI writes and transactions included, which is
 * what on-demand billing charges. Then: the monthly cost at 10k and 100k accounts.
 *
 *   npx tsx bench/requests.ts [--json bench/out/requests.json]     env: BENCH_ACCOUNTS (1000)
 */
import { DescribeTableCommand } from "@aws-sdk/client-dynamodb";
import { DeleteMessageBatchCommand, type Message, ReceiveMessageCommand } from "@aws-sdk/client-sqs";
import { DEMO_ICP, demoAccountsCsv, IcpDefinition, IngestChunkMessage, parseCsv } from "@icp/core";
import { createQueues, startDynamoLocal } from "@icp/local";
import {
  API,
  createIcp,
  createStore,
  createTable,
  ensureWorkspace,
  getImport,
  ingestChunk,
  QUEUES,
  type QueueName,
  SCHEDULES,
  type Store,
  type StoreConfig,
  submitImport,
  TABLE,
} from "@icp/store";
import { startFauxqs } from "fauxqs";
import { type BenchResult, fmt, isMain, log, runAsScript } from "./lib.js";

const ACCOUNTS = Number(process.env.BENCH_ACCOUNTS ?? 1000);
const WS = "bench";

/** us-east-1 on-demand list prices (USD), free tier ignored. */
export const PRICES = {
  ddbWritePerMillion: 1.25,
  ddbReadPerMillion: 0.25,
  sqsPerMillion: 0.4,
  lambdaPerMillion: 0.2,
  lambdaPerGbSecond: 0.0000166667,
  apiPerMillion: 1.0,
  alarmPerMonth: 0.1,
  ddbStoragePerGbMonth: 0.25,
};
/** SST's default function memory; only the API sets its own (manifest). */
const WORKER_MEMORY_GB = 1;
/** API calls behind one upload: the POST, ~10 progress polls (the CLI polls every 300 ms), 2 summary reads. */
const API_CALLS_PER_IMPORT = 13;
/** Lambda keeps 5 long-polling (20 s) receivers per SQS event source while idle. */
const IDLE_RECEIVES_PER_QUEUE_MONTH = 5 * 3 * 60 * 24 * 30;

const WRITES = /^(Put|Update|Delete|BatchWrite|TransactWrite)/;
const SQS_CHUNK = 64 * 1024;

type Counts = {
  ddb: Record<string, number>;
  sqs: Record<string, number>;
  wru: number;
  rru: number;
  /** Write units by where they land: the table itself or each GSI (projections are paid per write). */
  wruBy: Record<string, number>;
  /** SQS bills each 64 KB of payload as one request. */
  sqsBilled: number;
};

type Capacity = {
  CapacityUnits?: number;
  Table?: { CapacityUnits?: number };
  GlobalSecondaryIndexes?: Record<string, { CapacityUnits?: number }>;
};
type ReadInput = {
  ConsistentRead?: boolean;
  RequestItems?: Record<string, { Keys?: unknown[]; ConsistentRead?: boolean }>;
};
/**
 * AWS bills a read of an absent item too (0.5 RRU, 1 if consistent) where DynamoDB Local
 * reports nothing; ingest's first look-up of new accounts is exactly that.
 */
function readFloor(input: ReadInput): number {
  const unit = (consistent?: boolean) => (consistent ? 1 : 0.5);
  if (input.RequestItems)
    return Object.values(input.RequestItems).reduce((n, r) => n + (r.Keys?.length ?? 0) * unit(r.ConsistentRead), 0);
  return unit(input.ConsistentRead);
}

type Item = Record<string, unknown>;
/** Write units by destination: "table" or a GSI's name. */
type Units = Record<string, number>;
const sum = (u: Units) => Object.values(u).reduce((a, b) => a + b, 0);

/** DynamoDB's size of a value: UTF-8 bytes, ~1 byte per 2 digits of a number, 3 + elements for lists and maps. */
function valueSize(v: unknown): number {
  if (typeof v === "string") return Buffer.byteLength(v);
  if (typeof v === "number" || typeof v === "bigint") return Math.ceil(String(v).replace(/[-.e+]/g, "").length / 2) + 1;
  if (v instanceof Uint8Array) return v.byteLength;
  if (v instanceof Set) return [...v].reduce((n: number, x) => n + valueSize(x), 0);
  if (Array.isArray(v)) return 3 + v.reduce((n: number, x) => n + 1 + valueSize(x), 0);
  if (v && typeof v === "object") return 3 + itemSize(v as Item);
  return 1; // boolean, null
}
const itemSize = (item: Item) => Object.entries(item).reduce((n, [k, v]) => n + Buffer.byteLength(k) + valueSize(v), 0);

/** A put: 1 unit per KB in the table (2 in a transaction) and per KB again in every GSI it lands in (all project ALL). */
function putUnits(item: Item, transact: boolean): Units {
  const kb = Math.max(1, Math.ceil(itemSize(item) / 1024));
  const u: Units = { table: kb * (transact ? 2 : 1) };
  for (const ix of TABLE.indexes)
    if (item[ix.partitionKey] !== undefined && item[ix.sortKey] !== undefined) u[ix.name] = kb;
  return u;
}

type WriteInput = {
  Item?: Item;
  RequestItems?: Record<string, { PutRequest?: { Item: Item } }[]>;
  TransactItems?: { Put?: { Item: Item } }[];
};
/**
 * Write units from the request itself, because DynamoDB Local under-reports transactions of
 * many items. Updates and deletes count their minimum (their item is not in the request).
 */
function writeUnits(cmd: string, input: WriteInput): Units {
  const add = (a: Units, b: Units) => {
    for (const [k, v] of Object.entries(b)) a[k] = (a[k] ?? 0) + v;
    return a;
  };
  if (cmd.startsWith("PutItem") && input.Item) return putUnits(input.Item, false);
  if (input.RequestItems)
    return Object.values(input.RequestItems)
      .flat()
      .reduce((u, r) => add(u, r.PutRequest ? putUnits(r.PutRequest.Item, false) : { table: 1 }), {} as Units);
  if (input.TransactItems)
    return input.TransactItems.reduce((u, t) => add(u, t.Put ? putUnits(t.Put.Item, true) : { table: 2 }), {} as Units);
  return { table: 1 };
}

/** Count every request a client sends, and what it is billed as. */
function instrument(store: Store, counts: Counts): void {
  store.ddb.middlewareStack.add(
    (next, ctx) => async (args) => {
      const cmd = ctx.commandName ?? "?";
      (args.input as Record<string, unknown>).ReturnConsumedCapacity = "INDEXES";
      counts.ddb[cmd] = (counts.ddb[cmd] ?? 0) + 1;
      const res = await next(args);
      const cc = [(res.output as { ConsumedCapacity?: Capacity | Capacity[] }).ConsumedCapacity ?? []].flat();
      const units = cc.reduce((n, c) => n + (c.CapacityUnits ?? 0), 0);
      if (WRITES.test(cmd)) {
        // The larger of what DynamoDB Local reports and what the request must cost.
        const reported: Units = {};
        for (const c of cc) {
          reported.table = (reported.table ?? 0) + (c.Table?.CapacityUnits ?? 0);
          for (const [ix, u] of Object.entries(c.GlobalSecondaryIndexes ?? {}))
            reported[ix] = (reported[ix] ?? 0) + (u.CapacityUnits ?? 0);
        }
        const estimated = writeUnits(cmd, args.input as WriteInput);
        const used = sum(estimated) > Math.max(units, sum(reported)) ? estimated : reported;
        counts.wru += Math.max(sum(used), units);
        for (const [k, v] of Object.entries(used)) counts.wruBy[k] = (counts.wruBy[k] ?? 0) + v;
      } else counts.rru += Math.max(units, readFloor(args.input as ReadInput));
      return res;
    },
    { step: "initialize", name: "benchRequestCounter" },
  );
  store.sqs.middlewareStack.add(
    (next, ctx) => async (args) => {
      const cmd = ctx.commandName ?? "?";
      counts.sqs[cmd] = (counts.sqs[cmd] ?? 0) + 1;
      const res = await next(args);
      const input = args.input as { MessageBody?: string; Entries?: { MessageBody?: string }[] };
      const output = res.output as { Messages?: Message[] };
      const bytes = [input.MessageBody ?? "", ...(input.Entries ?? []).map((e) => e.MessageBody ?? "")]
        .concat((output.Messages ?? []).map((m) => m.Body ?? ""))
        .reduce((n, b) => n + Buffer.byteLength(b), 0);
      counts.sqsBilled += Math.max(1, Math.ceil(bytes / SQS_CHUNK));
      return res;
    },
    { step: "initialize", name: "benchRequestCounter" },
  );
}

/** Lambda's SQS event source mapping, in short: receive a batch, invoke, delete. */
async function drain(
  store: Store,
  queue: QueueName,
  invoke: (bodies: unknown[]) => Promise<void>,
): Promise<{ invocations: number; messages: number; ms: number[] }> {
  const spec = QUEUES.find((q) => q.name === queue);
  const url = store.cfg.queues[queue];
  const out = { invocations: 0, messages: 0, ms: [] as number[] };
  for (;;) {
    const res = await store.sqs.send(
      new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: spec?.batchSize ?? 10, WaitTimeSeconds: 0 }),
    );
    const msgs = res.Messages ?? [];
    if (!msgs.length) return out;
    const t0 = performance.now();
    await invoke(msgs.map((m) => JSON.parse(m.Body ?? "null")));
    out.ms.push(performance.now() - t0);
    out.invocations++;
    out.messages += msgs.length;
    await store.sqs.send(
      new DeleteMessageBatchCommand({
        QueueUrl: url,
        Entries: msgs.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle ?? "" })),
      }),
    );
  }
}

const perMonth = (rate: string) => {
  const m = /^rate\((\d+) (minute|hour|day)s?\)$/.exec(rate);
  return m ? (30 * 24 * 60) / (Number(m[1]) * { minute: 1, hour: 60, day: 1440 }[m[2] as "minute"]) : Number.NaN;
};

export async function run(): Promise<BenchResult> {
  const startedAt = new Date().toISOString();
  const t0 = performance.now();
  const dynamo = await startDynamoLocal();
  const sqsServer = await startFauxqs({ port: 0, logger: false });
  try {
    const base = {
      tableName: "bench-requests",
      region: "us-east-1",
      dynamoEndpoint: dynamo.endpoint,
      sqsEndpoint: `http://127.0.0.1:${sqsServer.port}`,
    };
    const bootstrap = createStore({ ...base, queues: {} as StoreConfig["queues"] });
    const local = await createQueues(bootstrap.sqs, "bench-");
    const store = createStore({
      ...base,
      queues: Object.fromEntries(Object.values(local).map((q) => [q.spec.name, q.url])) as StoreConfig["queues"],
    });
    await createTable(store);
    await ensureWorkspace(store, WS, "bench");
    await createIcp(store, WS, IcpDefinition.parse(DEMO_ICP), "bench");

    const counts: Counts = { ddb: {}, sqs: {}, wru: 0, rru: 0, wruBy: {}, sqsBilled: 0 };
    instrument(store, counts);
    log(`importing ${ACCOUNTS} accounts`);
    const tApi = performance.now();
    const parsed = parseCsv(demoAccountsCsv(ACCOUNTS, 7), new Date());
    const { job } = await submitImport(store, WS, parsed, { format: "csv", filename: "bench.csv" });
    const apiMs = performance.now() - tApi;
    const ingest = await drain(store, "IngestQueue", async (bodies) => {
      for (const b of bodies) await ingestChunk(store, IngestChunkMessage.parse(b));
    });
    const route = await drain(store, "RouteQueue", async () => {}); // validates and acknowledges today
    const done = await getImport(store, WS, job.id);
    if (done?.status !== "completed") throw new Error(`import ended ${done?.status}`);
    const { Table } = await bootstrap.ddb.send(new DescribeTableCommand({ TableName: base.tableName })); // not counted
    const storedBytes =
      (Table?.TableSizeBytes ?? 0) +
      (Table?.GlobalSecondaryIndexes ?? []).reduce((n, i) => n + (i.IndexSizeBytes ?? 0), 0);
    return report({ counts, ingest, route, apiMs, storedBytes, chunks: job.chunks, startedAt, t0 });
  } finally {
    await sqsServer.stop();
    await dynamo.stop();
  }
}

function report(r: {
  counts: Counts;
  ingest: { invocations: number; messages: number; ms: number[] };
  route: { invocations: number; messages: number; ms: number[] };
  apiMs: number;
  /** Table + GSI bytes after the import (AWS adds ~100 bytes of overhead per item and index entry). */
  storedBytes: number;
  chunks: number;
  startedAt: string;
  t0: number;
}): BenchResult {
  const { counts: c } = r;
  const per = (n: number) => n / ACCOUNTS;
  const ddbRequests = Object.values(c.ddb).reduce((a, b) => a + b, 0);
  const sqsRequests = Object.values(c.sqs).reduce((a, b) => a + b, 0);
  const ingestSeconds = r.ingest.ms.reduce((a, b) => a + b, 0) / 1000;
  // Conservative: Lambda's poller often hands over fewer messages than the batch size, so one
  // invocation per message is assumed (the measured batches are in the data).
  const invocations = per(r.ingest.messages + r.route.messages) + per(API_CALLS_PER_IMPORT);
  const gbSeconds = per(ingestSeconds * WORKER_MEMORY_GB + (r.apiMs / 1000) * (API.memory / 1024));
  const perAccount = {
    ddbRequests: per(ddbRequests),
    wru: per(c.wru),
    rru: per(c.rru),
    sqsRequests: per(sqsRequests),
    sqsBilled: per(c.sqsBilled),
    lambdaInvocations: invocations,
    lambdaGbSeconds: gbSeconds,
    apiRequests: per(API_CALLS_PER_IMPORT),
    storedKb: per(r.storedBytes) / 1024,
  };
  const fixed =
    (QUEUES.length * IDLE_RECEIVES_PER_QUEUE_MONTH * PRICES.sqsPerMillion) / 1e6 +
    QUEUES.length * PRICES.alarmPerMonth +
    SCHEDULES.reduce((n, s) => {
      const runs = perMonth(s.schedule);
      return Number.isFinite(runs)
        ? n + (runs * PRICES.lambdaPerMillion) / 1e6 + runs * 1 * PRICES.lambdaPerGbSecond
        : n;
    }, 0);
  const cost = (accounts: number) => {
    const lines = {
      "DynamoDB writes": (accounts * perAccount.wru * PRICES.ddbWritePerMillion) / 1e6,
      "DynamoDB reads": (accounts * perAccount.rru * PRICES.ddbReadPerMillion) / 1e6,
      SQS: (accounts * perAccount.sqsBilled * PRICES.sqsPerMillion) / 1e6,
      "Lambda requests": (accounts * perAccount.lambdaInvocations * PRICES.lambdaPerMillion) / 1e6,
      "Lambda compute": accounts * perAccount.lambdaGbSeconds * PRICES.lambdaPerGbSecond,
      "API Gateway": (accounts * perAccount.apiRequests * PRICES.apiPerMillion) / 1e6,
      "DynamoDB storage (per month of accounts kept)":
        (accounts * perAccount.storedKb * PRICES.ddbStoragePerGbMonth) / 2 ** 20,
      "fixed (idle SQS polling, DLQ alarms, schedules)": fixed,
    };
    return { lines, total: Object.values(lines).reduce((a, b) => a + b, 0) };
  };
  const c10 = cost(10_000);
  const c100 = cost(100_000);
  const usd = (n: number) => `$${n < 1 ? n.toFixed(3) : n.toFixed(2)}`;
  const summary = `### Requests per ingested account (bench/requests.ts, ${fmt(ACCOUNTS)} accounts, ${r.chunks} chunks, demo ICP)

| per account | DynamoDB requests | WRU | RRU | SQS requests (billed) | Lambda invocations | Lambda GB-s | API requests | stored |
| --- | --- | --- | --- | --- | --- | --- | --- | --- |
| measured | ${fmt(perAccount.ddbRequests, 3)} | ${fmt(perAccount.wru, 2)} | ${fmt(perAccount.rru, 2)} | ${fmt(perAccount.sqsRequests, 3)} (${fmt(perAccount.sqsBilled, 3)}) | ${fmt(perAccount.lambdaInvocations, 3)} | ${fmt(perAccount.lambdaGbSeconds, 4)} | ${fmt(perAccount.apiRequests, 3)} | ${fmt(perAccount.storedKb, 1)} KB |

Write units per account by destination: ${Object.entries(c.wruBy)
    .map(([k, v]) => `${k} ${fmt(per(v), 2)}`)
    .join(", ")}. DynamoDB: ${Object.entries(c.ddb)
    .map(([k, v]) => `${k.replace(/Command$/, "")} ${v}`)
    .join(", ")}. SQS: ${Object.entries(c.sqs)
    .map(([k, v]) => `${k.replace(/Command$/, "")} ${v}`)
    .join(", ")}. Ingest: ${r.ingest.messages} chunk messages in ${r.ingest.invocations} batches, ${fmt(
    ingestSeconds * 1000,
  )} ms in ingestChunk on DynamoDB Local; route: ${r.route.messages} events in ${r.route.invocations} batches; upload (parse + submitImport) ${fmt(r.apiMs)} ms.

| monthly cost (us-east-1, on-demand) | 10k accounts | 100k accounts |
| --- | --- | --- |
${Object.keys(c10.lines)
  .map(
    (k) =>
      `| ${k} | ${usd(c10.lines[k as keyof typeof c10.lines])} | ${usd(c100.lines[k as keyof typeof c100.lines])} |`,
  )
  .join("\n")}
| **total** | **${usd(c10.total)}** | **${usd(c100.total)}** |
`;
  return {
    name: "requests",
    command: "npx tsx bench/requests.ts",
    startedAt: r.startedAt,
    durationMs: performance.now() - r.t0,
    targets: [],
    summary,
    data: {
      accounts: ACCOUNTS,
      counts: c,
      perAccount,
      ingest: r.ingest,
      route: r.route,
      apiMs: r.apiMs,
      prices: PRICES,
      cost: { c10, c100 },
    },
  };
}

if (isMain(import.meta.url)) await runAsScript(run);
