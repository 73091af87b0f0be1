/**
 * Where does ingest time go? Runs instrumented copies of ingestChunk (bench/profile/) directly
 * on the chunks submitImport would publish, with the stack's route poller consuming the
 * tier-change events, and compares variants with raw batchPut of the same items, all on one
 * DynamoDB Local in one run. Not part of run-all (investigation tool).
 *
 *   npx tsx bench/ingest-profile.ts [--json bench/out/ingest-profile.json]
 *   env: BENCH_ACCOUNTS (10000), BENCH_VARIANTS (comma list of names, default all)
 */

import { GetQueueAttributesCommand } from "@aws-sdk/client-sqs";
import {
  type CompiledIcp,
  compileIcp,
  DEMO_ICP,
  demoAccountsCsv,
  IcpDefinition,
  type IngestChunkMessage,
  mergeByDomain,
  newId,
  parseCsv,
} from "@icp/core";
import { type Stack, startStack } from "@icp/local";
import {
  batchPut,
  createIcp,
  createImport,
  createStore,
  ensureWorkspace,
  getImport,
  inParallel,
  type Store,
} from "@icp/store";
import { ingestItems } from "./ingest.js";
import { type BenchResult, fmt, isMain, log, runAsScript, sleep } from "./lib.js";
import { emptyTimings, ingestChunkVariant, PHASES, type Timings, type Variant } from "./profile/ingest-variants.js";

const ACCOUNTS = Number(process.env.BENCH_ACCOUNTS ?? 10_000);

type Case = Variant & { chunkRows: number; chunkConcurrency: number };

const current: Case = {
  name: "current (copy): put x16/chunk, 20 chunks at once, 100 rows",
  accountWrite: "put",
  putConcurrency: 16,
  transactSize: 25,
  contactsWithAccounts: false,
  batchConcurrency: 4,
  publishParallel: false,
  chunkRows: 100,
  chunkConcurrency: 20,
};

const CASES: Record<string, Case> = {
  current,
  "chunks-4": { ...current, name: "current, 4 chunks at once", chunkConcurrency: 4 },
  "chunks-8": { ...current, name: "current, 8 chunks at once", chunkConcurrency: 8 },
  "put-4": { ...current, name: "current, put x4/chunk", putConcurrency: 4 },
  "publish-par": { ...current, name: "current + parallel publish", publishParallel: true },
  "transact-25": {
    ...current,
    name: "transact 25 conditional puts/request",
    accountWrite: "transact",
    transactSize: 25,
  },
  "transact-100": {
    ...current,
    name: "transact 100 conditional puts/request",
    accountWrite: "transact",
    transactSize: 100,
  },
  "transact-25-c8": {
    ...current,
    name: "transact 25, 8 chunks at once",
    accountWrite: "transact",
    transactSize: 25,
    chunkConcurrency: 8,
  },
  "tx100-c4-pub": {
    ...current,
    name: "transact 100 (1 request/chunk), 4 chunks at once, parallel publish",
    accountWrite: "transact",
    transactSize: 100,
    chunkConcurrency: 4,
    publishParallel: true,
  },
  "tx100-c8-pub": {
    ...current,
    name: "transact 100 (1 request/chunk), 8 chunks at once, parallel publish",
    accountWrite: "transact",
    transactSize: 100,
    chunkConcurrency: 8,
    publishParallel: true,
  },
  "tx100-c20-pub": {
    ...current,
    name: "transact 100 (1 request/chunk), 20 chunks at once, parallel publish",
    accountWrite: "transact",
    transactSize: 100,
    publishParallel: true,
  },
  "batch-c4-pub": {
    ...current,
    name: "unconditional batchPut accounts, 4 chunks at once, parallel publish (unsafe upper bound)",
    accountWrite: "batch",
    chunkConcurrency: 4,
    publishParallel: true,
  },
  batch: { ...current, name: "unconditional batchPut accounts (unsafe upper bound)", accountWrite: "batch" },
  "batch-c8": {
    ...current,
    name: "unconditional batchPut accounts, 8 chunks at once, one stream",
    accountWrite: "batch",
    contactsWithAccounts: true,
    chunkConcurrency: 8,
  },
};

type CaseRun = {
  name: string;
  key: string;
  ms: number;
  accountsPerSecond: number;
  drainMs: number;
  timings: Timings;
  /** Share of summed chunk time per phase. */
  share: Record<string, number>;
};

function chunkMessages(ws: string, importId: string, csv: string, at: string, chunkRows: number): IngestChunkMessage[] {
  const rows = mergeByDomain(parseCsv(csv, new Date(at)).rows);
  const messages: IngestChunkMessage[] = [];
  for (let i = 0; i < rows.length; i += chunkRows)
    messages.push({
      kind: "ingest-chunk",
      workspaceId: ws,
      importId,
      chunk: messages.length,
      rows: rows.slice(i, i + chunkRows),
      at,
      rowCount: Math.min(chunkRows, rows.length - i),
    });
  return messages;
}

async function drain(stack: Stack): Promise<number> {
  const t0 = performance.now();
  for (;;) {
    const res = await stack.store.sqs.send(
      new GetQueueAttributesCommand({
        QueueUrl: stack.queues.RouteQueue?.url,
        AttributeNames: ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
      }),
    );
    const a = res.Attributes ?? {};
    if (Number(a.ApproximateNumberOfMessages ?? 0) + Number(a.ApproximateNumberOfMessagesNotVisible ?? 0) === 0)
      return performance.now() - t0;
    await sleep(50);
  }
}

async function runCase(stack: Stack, key: string, c: Case, csv: string, n: number): Promise<CaseRun> {
  const ws = `prof${key.replace(/[^a-z0-9]/g, "")}${Math.floor(Math.random() * 1e6)}`;
  await ensureWorkspace(stack.store, ws, "profile");
  await createIcp(stack.store, ws, IcpDefinition.parse(DEMO_ICP), "bench");
  const at = new Date().toISOString();
  const id = newId("imp");
  const messages = chunkMessages(ws, id, csv, at, c.chunkRows);
  await createImport(stack.store, ws, {
    id,
    format: "csv",
    total: n,
    rejected: 0,
    accounts: n,
    chunks: messages.length,
    rowsAccepted: n,
  });
  const t = emptyTimings();
  const t0 = performance.now();
  await inParallel(messages, c.chunkConcurrency, (m) => ingestChunkVariant(stack.store, m, c, t));
  const ms = performance.now() - t0;
  const job = await getImport(stack.store, ws, id);
  if (job?.status !== "completed") throw new Error(`${key}: import not completed: ${JSON.stringify(job)}`);
  const drainMs = await drain(stack);
  const share: Record<string, number> = {};
  for (const p of PHASES) share[p] = Math.round((t[p] / t.chunkMs) * 1000) / 10;
  return { name: c.name, key, ms, accountsPerSecond: n / (ms / 1000), drainMs, timings: t, share };
}

async function baseline(
  store: Store,
  csv: string,
  icps: CompiledIcp[],
  n: number,
): Promise<{ ms: number; accountsPerSecond: number }> {
  const ws = `profbase${Math.floor(Math.random() * 1e6)}`;
  const at = new Date().toISOString();
  const items = ingestItems(ws, parseCsv(csv, new Date(at)).rows, icps, at);
  const t0 = performance.now();
  await batchPut(store, items, 8);
  const ms = performance.now() - t0;
  return { ms, accountsPerSecond: n / (ms / 1000) };
}

export async function run(): Promise<BenchResult> {
  const started = Date.now();
  const startedAt = new Date().toISOString();
  const stack = await startStack({ port: 0, seed: false, apiKey: "bench-unused-demo-key" });
  try {
    const csv = demoAccountsCsv(ACCOUNTS, 7);
    const icps = [compileIcp({ ...IcpDefinition.parse(DEMO_ICP), id: "icp_BENCHBASELINE000000000000", version: 1 })];
    const baseStore = createStore({ ...stack.cfg });
    const names = (process.env.BENCH_VARIANTS ?? Object.keys(CASES).join(",")).split(",").filter((k) => CASES[k]);
    // Warm-up: a small run of the current code and of the baseline.
    await runCase(stack, "warm", current, demoAccountsCsv(1000, 9), 1000);
    await baseline(baseStore, demoAccountsCsv(1000, 9), icps, 1000);

    const bases: number[] = [];
    const runs: CaseRun[] = [];
    const b0 = await baseline(baseStore, csv, icps, ACCOUNTS);
    bases.push(b0.accountsPerSecond);
    log(`baseline: ${fmt(b0.ms)} ms, ${fmt(b0.accountsPerSecond)} accounts/s`);
    for (const [i, k] of names.entries()) {
      const r = await runCase(stack, k, CASES[k] as Case, csv, ACCOUNTS);
      runs.push(r);
      log(
        `${k}: ${fmt(r.ms)} ms, ${fmt(r.accountsPerSecond)} accounts/s; drain +${fmt(r.drainMs)} ms; share ${JSON.stringify(r.share)}`,
      );
      if (i % 3 === 2) {
        const b = await baseline(baseStore, csv, icps, ACCOUNTS);
        bases.push(b.accountsPerSecond);
        log(`baseline: ${fmt(b.ms)} ms, ${fmt(b.accountsPerSecond)} accounts/s`);
      }
    }
    const b1 = await baseline(baseStore, csv, icps, ACCOUNTS);
    bases.push(b1.accountsPerSecond);
    log(`baseline: ${fmt(b1.ms)} ms, ${fmt(b1.accountsPerSecond)} accounts/s`);
    baseStore.ddb.destroy();
    const base = [...bases].sort((a, b) => a - b)[Math.floor(bases.length / 2)] as number;
    const summary = `### Ingest profile (${fmt(ACCOUNTS)} accounts, chunks processed in-process without the ingest queue; route queue live)
Baseline batchPut x8 of the same items: ${bases.map((b) => fmt(b)).join(", ")} accounts/s (median ${fmt(base)}).

| variant | ms | accounts/s | ratio vs baseline | ${PHASES.join(" | ")} |
|---|---:|---:|---:|${PHASES.map(() => "---:").join("|")}|
${runs
  .map(
    (r) =>
      `| ${r.name} | ${fmt(r.ms)} | ${fmt(r.accountsPerSecond)} | ${(r.accountsPerSecond / base).toFixed(3)} | ${PHASES.map((p) => `${r.share[p]}%`).join(" | ")} |`,
  )
  .join("\n")}

Phase columns: share of the summed wall time of all chunks spent in that phase (chunks overlap, so this is where a chunk waits, not CPU).`;
    return {
      name: "ingest-profile",
      command: "npx tsx bench/ingest-profile.ts",
      startedAt,
      durationMs: Date.now() - started,
      targets: [],
      summary,
      data: { accounts: ACCOUNTS, baselines: bases, medianBaseline: base, runs },
    };
  } finally {
    await stack.stop();
  }
}

if (isMain(import.meta.url)) await runAsScript(run);
