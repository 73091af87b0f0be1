/**
 * Where does ingest time go, and what would make it faster? Each variant runs the whole
 * pipeline like bench/ingest.ts — the same API app (createApp) on its own port, POST the CSV,
 * an SQS queue, a poller invoking an SQS handler (functions/lib/sqs-batch), DynamoDB Local,
 * tier changes to the stack's live route queue — but the ingest queue's handler is an
 * instrumented copy of ingestChunk (bench/profile/ingest-variants.ts) with switches.
 * Raw batchPut of the same items is measured in the same run, between the variants.
 * Not part of run-all (investigation tool).
 *
 *   npx tsx bench/ingest-profile.ts [--json bench/out/ingest-profile.json]
 *   env: BENCH_ACCOUNTS (10000), BENCH_VARIANTS (comma list of names, default: all)
 */
import type { AddressInfo } from "node:net";
import { CreateQueueCommand, GetQueueAttributesCommand } from "@aws-sdk/client-sqs";
import { serve } from "@hono/node-server";
import { createApp } from "@icp/api";
import {
  type CompiledIcp,
  compileIcp,
  DEMO_ICP,
  demoAccountsCsv,
  IcpDefinition,
  IngestChunkMessage,
  parseCsv,
  TierChangedEvent,
} from "@icp/core";
import { type SqsLambda, type Stack, startPoller, startStack } from "@icp/local";
import { batchPut, createIcp, createStore, ensureWorkspace, putApiKey, type Store, type StoreConfig } from "@icp/store";
import { z } from "zod";
import { logger, sqsHandler } from "../functions/lib/sqs-batch.js";
import { findOwnJava, ingestItems, procCpuSeconds } from "./ingest.js";
import { type BenchResult, fmt, isMain, log, median, runAsScript, sleep } from "./lib.js";
import { emptyTimings, ingestChunkVariant, PHASES, type Timings, type Variant } from "./profile/ingest-variants.js";

const ACCOUNTS = Number(process.env.BENCH_ACCOUNTS ?? 10_000);

/** A variant of the handler plus the poller settings of its queue. */
type Case = Variant & {
  batchSize: number;
  pollers: number;
  /** Measure a second import of the same file into the same workspace (every account exists). */
  reimport: boolean;
};

/** The ingest before this investigation: one conditional PutItem per account, one route message per tier change. */
const previous: Case = {
  name: "previous code (copy): PutItem per account x16, 1 route message per event",
  accountWrite: "put",
  putConcurrency: 16,
  transactSize: 100,
  contactsWithAccounts: false,
  batchConcurrency: 4,
  publishParallel: false,
  publishEvents: true,
  routeBatch: false,
  optimisticNew: false,
  skipChunkCheck: false,
  icpCacheMs: 0,
  batchSize: 5,
  pollers: 4,
  reimport: false,
};
/** What packages/store/src/ingest/ingest-chunk.ts does now: A (TransactWriteItems of <= 100) + B (tier changes batched per chunk). */
const now: Case = {
  ...previous,
  name: "A+B (= current store code): TransactWriteItems per 100 accounts, 1 route message per chunk",
  accountWrite: "transact",
  routeBatch: true,
};
const lean: Case = {
  ...now,
  name: "A+B+C+D+E: and no BatchGet for new accounts, no isChunkDone read, ICPs cached 5 s (the chunk is now always counted by 1 UpdateItem)",
  optimisticNew: true,
  skipChunkCheck: true,
  icpCacheMs: 5000,
};

const CASES: Record<string, Case> = {
  previous,
  "previous-p2": { ...previous, name: "previous code, 2 pollers x 5", pollers: 2 },
  "a-only": { ...now, name: "A only: TransactWriteItems per 100, 1 route message per event", routeBatch: false },
  now,
  "now-p2": { ...now, name: "A+B, 2 pollers x 5", pollers: 2 },
  "now-p8": { ...now, name: "A+B, 8 pollers x 5", pollers: 8 },
  "now-c": {
    ...now,
    name: "A+B+C: and no BatchGet for new accounts (write as new, read on conflict)",
    optimisticNew: true,
  },
  "now-cd": {
    ...now,
    name: "A+B+C+D: and no isChunkDone read, ICPs cached 5 s",
    optimisticNew: true,
    skipChunkCheck: true,
    icpCacheMs: 5000,
  },
  lean,
  "now-reimport": { ...now, name: "A+B, re-import of the same file (every account exists)", reimport: true },
  "lean-reimport": { ...lean, name: "A+B+C+D+E, re-import of the same file (every account exists)", reimport: true },
  bound: {
    ...lean,
    name: "bound: unconditional BatchWriteItem for accounts + B+D+E (UNSAFE, for reference)",
    accountWrite: "batch",
    optimisticNew: false,
  },
};
const DEFAULT_CASES = ["now", "now-c", "now-cd", "lean", "bound"];

type CaseRun = {
  key: string;
  name: string;
  ms: number;
  accountsPerSecond: number;
  drainMs: number;
  cpuNodeS: number;
  /** CPU seconds of the DynamoDB Local JVM during the import. */
  cpuJavaS: number;
  timings: Timings;
  /** Share of the summed wall time of all chunks per phase. */
  share: Record<string, number>;
};

async function queueDepth(store: Store, url: string): Promise<number> {
  const res = await store.sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: url,
      AttributeNames: ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    }),
  );
  const a = res.Attributes ?? {};
  return Number(a.ApproximateNumberOfMessages ?? 0) + Number(a.ApproximateNumberOfMessagesNotVisible ?? 0);
}

async function drain(store: Store, url: string): Promise<number> {
  const t0 = performance.now();
  while ((await queueDepth(store, url)) > 0) await sleep(50);
  return performance.now() - t0;
}

let caseNo = 0;
let javaPid: number | undefined;

async function queue(stack: Stack, name: string): Promise<{ url: string; arn: string }> {
  const q = await stack.store.sqs.send(
    new CreateQueueCommand({ QueueName: name, Attributes: { VisibilityTimeout: "360" } }),
  );
  const url = q.QueueUrl ?? "";
  const res = await stack.store.sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ["QueueArn"] }),
  );
  return { url, arn: res.Attributes?.QueueArn ?? "" };
}

/** What functions/route.ts does per event, for a message carrying a chunk's tier changes. */
const TierChangedBatch = z.object({ kind: z.literal("tier-changed-batch"), events: z.array(TierChangedEvent) });
const routeBatchHandler = sqsHandler("RouteQueue", TierChangedBatch, async (m) => {
  for (const evt of m.events)
    logger.debug("tier changed", { accountId: evt.accountId, from: evt.from, to: evt.to, eventId: evt.eventId });
});

async function runCase(stack: Stack, key: string, c: Case, csv: string, n: number): Promise<CaseRun> {
  caseNo++;
  const ws = `prof${caseNo}`;
  const apiKey = `bench-key-prof-${caseNo}`;
  await ensureWorkspace(stack.store, ws, "profile");
  await putApiKey(stack.store, ws, apiKey, "bench");
  // Created in the store directly: the API's POST would also start a background re-score.
  await createIcp(stack.store, ws, IcpDefinition.parse(DEMO_ICP), "bench");

  // This variant's ingest queue (and route queue for per-chunk route messages), store, API app and pollers.
  const ingestQ = await queue(stack, `bench-ingest-${caseNo}`);
  const routeQ = c.routeBatch
    ? await queue(stack, `bench-route-batch-${caseNo}`)
    : { url: stack.cfg.queues.RouteQueue, arn: "" };
  const cfg: StoreConfig = {
    ...stack.cfg,
    queues: { ...stack.cfg.queues, IngestQueue: ingestQ.url, RouteQueue: routeQ.url },
  };
  const store = createStore(cfg);
  const app = createApp({ store: () => store });
  const server = serve({ fetch: app.fetch, port: 0, hostname: "127.0.0.1" });
  await new Promise<void>((r) => server.once("listening", () => r()));
  const apiUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const t = emptyTimings();
  const handler = sqsHandler("IngestQueue", IngestChunkMessage, (msg) => ingestChunkVariant(store, msg, c, t));
  const pollers = [
    startPoller({
      sqs: store.sqs,
      queueUrl: ingestQ.url,
      queueArn: ingestQ.arn,
      handler: handler as unknown as SqsLambda,
      batchSize: c.batchSize,
      concurrency: c.pollers,
      visibilityTimeout: 360,
      retryDelay: 1,
      onError: (e) => log(`${key}: worker error`, e),
    }),
  ];
  if (c.routeBatch)
    // Same settings as the stack's route queue (2 pollers x 10 messages).
    pollers.push(
      startPoller({
        sqs: store.sqs,
        queueUrl: routeQ.url,
        queueArn: routeQ.arn,
        handler: routeBatchHandler as unknown as SqsLambda,
        batchSize: 10,
        concurrency: 2,
        visibilityTimeout: 180,
        retryDelay: 1,
        onError: (e) => log(`${key}: route worker error`, e),
      }),
    );
  const auth = { authorization: `Bearer ${apiKey}` };
  const importOnce = async () => {
    const t0 = performance.now();
    const res = await fetch(`${apiUrl}/v1/imports`, {
      method: "POST",
      headers: { ...auth, "content-type": "text/csv" },
      body: csv,
    });
    const id = ((await res.json()) as { id?: string }).id;
    if (res.status !== 202 || !id) throw new Error(`${key}: POST /v1/imports ${res.status}`);
    for (;;) {
      const job = (await (await fetch(`${apiUrl}/v1/imports/${id}?errorsLimit=0`, { headers: auth })).json()) as {
        status: string;
      };
      if (job.status === "completed") break;
      if (job.status === "failed" || performance.now() - t0 > 300_000)
        throw new Error(`${key}: import ${JSON.stringify(job)}`);
      await sleep(25);
    }
    return performance.now() - t0;
  };
  try {
    if (c.reimport) {
      await importOnce();
      await drain(store, routeQ.url);
      Object.assign(t, emptyTimings());
    }
    const cpu0 = process.cpuUsage();
    const java0 = javaPid ? procCpuSeconds(javaPid) : Number.NaN;
    const ms = await importOnce();
    const cpu = process.cpuUsage(cpu0);
    const cpuJavaS = javaPid ? procCpuSeconds(javaPid) - java0 : Number.NaN;
    const drainMs = await drain(store, routeQ.url);
    const share: Record<string, number> = {};
    for (const p of PHASES) share[p] = Math.round((t[p] / t.chunkMs) * 1000) / 10;
    return {
      key,
      name: c.name,
      ms,
      accountsPerSecond: n / (ms / 1000),
      drainMs,
      cpuNodeS: (cpu.user + cpu.system) / 1e6,
      cpuJavaS,
      timings: t,
      share,
    };
  } finally {
    for (const p of pollers) await p.stop();
    await new Promise<void>((r) => server.close(() => r()));
    store.ddb.destroy();
    store.sqs.destroy();
  }
}

type BaseRun = { accountsPerSecond: number; cpuJavaS: number };

async function baseline(store: Store, csv: string, icps: CompiledIcp[], n: number): Promise<BaseRun> {
  caseNo++;
  const ws = `profbase${caseNo}`;
  const at = new Date().toISOString();
  const items = ingestItems(ws, parseCsv(csv, new Date(at)).rows, icps, at);
  const java0 = javaPid ? procCpuSeconds(javaPid) : Number.NaN;
  const t0 = performance.now();
  await batchPut(store, items, 8);
  const ms = performance.now() - t0;
  return { accountsPerSecond: n / (ms / 1000), cpuJavaS: javaPid ? procCpuSeconds(javaPid) - java0 : Number.NaN };
}

const REPS = Number(process.env.BENCH_PROFILE_REPS ?? 2);

export async function run(): Promise<BenchResult> {
  const started = Date.now();
  const startedAt = new Date().toISOString();
  const stack = await startStack({ port: 0, seed: false, apiKey: "bench-unused-demo-key" });
  try {
    javaPid = findOwnJava();
    const csv = demoAccountsCsv(ACCOUNTS, 7);
    const icps = [compileIcp({ ...IcpDefinition.parse(DEMO_ICP), id: "icp_BENCHBASELINE000000000000", version: 1 })];
    const baseStore = createStore({ ...stack.cfg });
    const names = (process.env.BENCH_VARIANTS ?? DEFAULT_CASES.join(",")).split(",").filter((k) => CASES[k]);
    // Warm-up: the current code and the baseline on 1,000 accounts.
    await runCase(stack, "warm", now, demoAccountsCsv(1000, 9), 1000);
    await baseline(baseStore, demoAccountsCsv(1000, 9), icps, 1000);

    const bases: BaseRun[] = [];
    const runs: CaseRun[] = [];
    const base = async () => {
      const b = await baseline(baseStore, csv, icps, ACCOUNTS);
      bases.push(b);
      log(`baseline: ${fmt(b.accountsPerSecond)} accounts/s, java CPU ${fmt(b.cpuJavaS, 1)} s`);
    };
    await base();
    // Re-imports once (they import twice); the others REPS times, in alternating order.
    let sinceBase = 0;
    for (let rep = 0; rep < REPS; rep++) {
      const order = rep % 2 === 0 ? names : [...names].reverse();
      for (const k of order) {
        const c = CASES[k] as Case;
        if (c.reimport && rep > 0) continue;
        const r = await runCase(stack, k, c, csv, ACCOUNTS);
        runs.push(r);
        log(
          `${k}: ${fmt(r.ms)} ms, ${fmt(r.accountsPerSecond)} accounts/s, CPU node ${fmt(r.cpuNodeS, 1)} s java ${fmt(r.cpuJavaS, 1)} s; route drained +${fmt(r.drainMs)} ms; ${r.timings.conflicts} cancelled transactions; ${JSON.stringify(r.share)}`,
        );
        if (++sinceBase % 2 === 0) await base();
      }
    }
    if (sinceBase % 2 === 1) await base();
    baseStore.ddb.destroy();
    const b = median(bases.map((x) => x.accountsPerSecond));
    const bJava = median(bases.map((x) => x.cpuJavaS));
    const rows = names.map((k) => {
      const rs = runs.filter((r) => r.key === k);
      const share: Record<string, number> = {};
      for (const p of PHASES)
        share[p] = Math.round((rs.reduce((n, r) => n + (r.share[p] ?? 0), 0) / rs.length) * 10) / 10;
      return {
        key: k,
        name: (CASES[k] as Case).name,
        n: rs.length,
        accountsPerSecond: median(rs.map((r) => r.accountsPerSecond)),
        all: rs.map((r) => r.accountsPerSecond),
        cpuJavaS: median(rs.map((r) => r.cpuJavaS)),
        cpuNodeS: median(rs.map((r) => r.cpuNodeS)),
        share,
      };
    });
    const summary = `### Ingest variants through the full pipeline (${fmt(ACCOUNTS)} accounts; API -> SQS -> poller -> variant handler -> DynamoDB Local)
Baseline batchPut x8 of the same items, between the variants: ${bases.map((x) => fmt(x.accountsPerSecond)).join(", ")} accounts/s (median ${fmt(b)}); DynamoDB Local CPU per baseline run: median ${fmt(bJava, 1)} s.

| variant | runs (accounts/s) | median accounts/s | ratio vs baseline | java CPU s (x baseline) | node CPU s | ${PHASES.join(" | ")} |
|---|---|---:|---:|---:|---:|${PHASES.map(() => "---:").join("|")}|
${rows
  .map(
    (r) =>
      `| ${r.name} | ${r.all.map((x) => fmt(x)).join(", ")} | ${fmt(r.accountsPerSecond)} | ${(r.accountsPerSecond / b).toFixed(3)} | ${fmt(r.cpuJavaS, 1)} (${(r.cpuJavaS / bJava).toFixed(2)}x) | ${fmt(r.cpuNodeS, 1)} | ${PHASES.map((p) => `${r.share[p]}%`).join(" | ")} |`,
  )
  .join("\n")}

Phase columns: share of the summed wall time of all chunks spent in each phase of ingestChunk, averaged over runs (chunks overlap, so this is where a chunk waits, not CPU).`;
    return {
      name: "ingest-profile",
      command: "npx tsx bench/ingest-profile.ts",
      startedAt,
      durationMs: Date.now() - started,
      targets: [],
      summary,
      data: {
        accounts: ACCOUNTS,
        reps: REPS,
        baselines: bases,
        medianBaseline: b,
        medianBaselineJavaS: bJava,
        variants: rows,
        runs,
      },
    };
  } finally {
    await stack.stop();
  }
}

if (isMain(import.meta.url)) await runAsScript(run);
