/**
 * Ingest throughput through the whole local pipeline (API -> ingest queue -> scoring ->
 * DynamoDB Local), against raw BatchWriteItem of the same items into the same DynamoDB Local
 * measured in the same run.
 *
 *   npx tsx bench/ingest.ts [--json bench/out/ingest.json]
 *   env: BENCH_ACCOUNTS (10000), BENCH_REPS (3), BENCH_BASELINE_CONCURRENCY (8)
 */
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { loadavg } from "node:os";
import { CreateQueueCommand, GetQueueAttributesCommand, ReceiveMessageCommand } from "@aws-sdk/client-sqs";
import {
  accountId,
  type CompiledIcp,
  compileIcp,
  DEMO_ICP,
  demoAccountsCsv,
  IcpDefinition,
  type ImportRow,
  matchPersona,
  mergeByDomain,
  parseCsv,
} from "@icp/core";
import { type Stack, startStack } from "@icp/local";
import {
  accountItem,
  batchPut,
  CHUNK_ROWS,
  createStore,
  ensureWorkspace,
  putApiKey,
  type Store,
  storeFromEnv,
} from "@icp/store";
import { contactItems, nextState } from "./compat.js";
import { type BenchResult, fmt, isMain, log, median, ratio, runAsScript, sleep, targetLines } from "./lib.js";

const ACCOUNTS = Number(process.env.BENCH_ACCOUNTS ?? 10_000);
const REPS = Math.max(2, Number(process.env.BENCH_REPS ?? 3));
const BASELINE_CONCURRENCY = Number(process.env.BENCH_BASELINE_CONCURRENCY ?? 8);
const WARMUP_ACCOUNTS = 2_000;
const TARGET_RATIO = 0.7;
/**
 * Status polls: the end of an import is its server-side `completedAt` (same machine, same clock),
 * so polling faster would only load the measured stack (at 25 ms: ~1,000 requests per import).
 */
const POLL_MS = 250;

type Item = Record<string, unknown>;

// ---------------------------------------------------------------- CPU accounting

/** CPU seconds (user+sys) a process has used so far, from /proc (Linux). */
export function procCpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    // fields[11] = utime, fields[12] = stime (fields 14 and 15 of stat(5), counted from 1).
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return Number.NaN;
  }
}

function childPids(pid: number): number[] {
  try {
    return execFileSync("pgrep", ["-P", String(pid)], { encoding: "utf8" })
      .split("\n")
      .filter(Boolean)
      .map(Number);
  } catch {
    return [];
  }
}

/** The DynamoDB Local JVM this process started (this process -> sh watchdog -> java). */
export function findOwnJava(): number | undefined {
  for (const sh of childPids(process.pid))
    for (const p of childPids(sh)) {
      try {
        if (readFileSync(`/proc/${p}/cmdline`, "utf8").includes("DynamoDBLocal.jar")) return p;
      } catch {}
    }
  return undefined;
}

/** CPU used over the measurement: seconds, and percent of one core (wall-time based). */
type Cpu = { nodeS: number; javaS: number; nodePct: number; javaPct: number };

/** Measures node's and the JVM's CPU use (percent of one core) over an interval. */
function cpuMeter(javaPid: number | undefined) {
  const n0 = process.cpuUsage();
  const j0 = javaPid ? procCpuSeconds(javaPid) : Number.NaN;
  const t0 = performance.now();
  return (): Cpu => {
    const wall = (performance.now() - t0) / 1000;
    const n = process.cpuUsage(n0);
    const j = javaPid ? procCpuSeconds(javaPid) - j0 : Number.NaN;
    const nodeS = (n.user + n.system) / 1e6;
    return { nodeS, javaS: j, nodePct: Math.round((nodeS / wall) * 100), javaPct: Math.round((j / wall) * 100) };
  };
}

// ---------------------------------------------------------------- request counting

type Counts = Record<string, number>;
type WithMiddleware = { middlewareStack: { add(mw: unknown, opts: { step: string; name: string }): void } };

/** Counts every request a client sends, by command name ("ddb:PutCommand", "sqs:SendMessageBatchCommand"…). */
function countRequests(client: unknown, prefix: string, counts: Counts): void {
  (client as WithMiddleware).middlewareStack.add(
    (next: (a: unknown) => Promise<unknown>, context: { commandName?: string }) => async (args: unknown) => {
      const k = `${prefix}:${context.commandName ?? "?"}`;
      counts[k] = (counts[k] ?? 0) + 1;
      // Messages sent (a SendMessageBatch carries up to 10), by queue: "msg:<queue name>".
      const input = (args as { input?: { QueueUrl?: string; Entries?: unknown[]; MessageBody?: string } }).input;
      if (input?.QueueUrl && context.commandName?.startsWith("SendMessage")) {
        const q = `msg:${input.QueueUrl.split("/").pop()}`;
        counts[q] = (counts[q] ?? 0) + (input.Entries?.length ?? 1);
      }
      return next(args);
    },
    { step: "initialize", name: `benchCount${prefix}` },
  );
}

const diff = (after: Counts, before: Counts): Counts =>
  Object.fromEntries(
    Object.entries(after)
      .map(([k, v]) => [k, v - (before[k] ?? 0)] as const)
      .filter(([, v]) => v > 0)
      .sort((a, b) => b[1] - a[1]),
  );

const sum = (c: Counts, prefix: string) =>
  Object.entries(c).reduce((n, [k, v]) => (k.startsWith(prefix) ? n + v : n), 0);

// ---------------------------------------------------------------- API helpers

async function api(
  stack: Stack,
  key: string,
  path: string,
  init: RequestInit & { json?: unknown; csv?: string } = {},
): Promise<Response> {
  const headers = new Headers(init.headers);
  headers.set("authorization", `Bearer ${key}`);
  let body = init.body;
  if (init.json !== undefined) {
    headers.set("content-type", "application/json");
    body = JSON.stringify(init.json);
  } else if (init.csv !== undefined) {
    headers.set("content-type", "text/csv");
    body = init.csv;
  }
  return fetch(`${stack.url}${path}`, { ...init, headers, body: body ?? null });
}

/** A workspace with its own API key and the demo ICP created through the API. */
async function workspaceWithIcp(stack: Stack, ws: string): Promise<string> {
  const key = `bench-key-${ws}`;
  await ensureWorkspace(stack.store, ws, `bench ${ws}`);
  await putApiKey(stack.store, ws, key, "bench");
  const res = await api(stack, key, "/v1/icps", { method: "POST", json: DEMO_ICP });
  if (res.status !== 201) throw new Error(`POST /v1/icps: ${res.status} ${await res.text()}`);
  // Creating an ICP starts a background re-score of the workspace: let it finish first.
  await drain(stack);
  return key;
}

/**
 * Give a workspace its first accounts (50, none of them in the measured CSV), so that the measured
 * import is a later one: the workspace is no longer pristine and the ingest reads before it writes.
 */
async function populate(stack: Stack, ws: string, key: string): Promise<void> {
  const res = await api(stack, key, "/v1/imports", {
    method: "POST",
    csv: demoAccountsCsv(50, 9).replaceAll(".example.com", ".example.org"),
  });
  const { id } = (await res.json()) as { id: string };
  for (;;) {
    const job = (await (await api(stack, key, `/v1/imports/${id}?errorsLimit=0`)).json()) as { status: string };
    if (job.status === "completed") break;
    if (job.status === "failed") throw new Error(`populating ${ws} failed`);
    await sleep(POLL_MS);
  }
  await drain(stack);
}

async function queueDepth(stack: Stack, url: string): Promise<number> {
  const res = await stack.store.sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: url,
      AttributeNames: ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    }),
  );
  const a = res.Attributes ?? {};
  return Number(a.ApproximateNumberOfMessages ?? 0) + Number(a.ApproximateNumberOfMessagesNotVisible ?? 0);
}

/** Wait until the route queue (fed with tier changes by the ingest) is empty, so the next measurement runs on a quiet machine. */
async function drain(stack: Stack, timeoutMs = 120_000): Promise<number> {
  const t0 = performance.now();
  const urls = Object.values(stack.queues).map((q) => q.url);
  for (;;) {
    let depth = 0;
    for (const u of urls) depth += await queueDepth(stack, u);
    if (depth === 0) return performance.now() - t0;
    if (performance.now() - t0 > timeoutMs) throw new Error(`queues not drained after ${timeoutMs} ms (${depth} left)`);
    await sleep(50);
  }
}

async function dlqDepth(stack: Stack): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const [name, q] of Object.entries(stack.queues)) {
    const n = await queueDepth(stack, q.dlqUrl);
    if (n) {
      out[name] = n;
      const peek = await stack.store.sqs.send(
        new ReceiveMessageCommand({ QueueUrl: q.dlqUrl, MaxNumberOfMessages: 1, VisibilityTimeout: 0 }),
      );
      log(`${n} message(s) in the ${name} DLQ, e.g. ${peek.Messages?.[0]?.Body?.slice(0, 300)}`);
    }
  }
  return out;
}

// ---------------------------------------------------------------- the two measurements

export type IngestRun = {
  kind: "ingest";
  workspace: string;
  importId: string;
  accounts: number;
  items: number;
  ms: number;
  acceptMs: number;
  serverMs: number;
  chunks: number;
  drainMs: number;
  accountsPerSecond: number;
  itemsPerSecond: number;
  cpu: Cpu;
  /** 1-minute load average of the machine before and after the run. */
  load: [number, number];
  /** Requests sent by the stack (handlers, pollers, API) until completed; GetItem includes the status polls. */
  requests: Counts;
};

export type BaselineRun = {
  kind: "baseline";
  workspace: string;
  accounts: number;
  items: number;
  ms: number;
  accountsPerSecond: number;
  itemsPerSecond: number;
  cpu: Cpu;
  load: [number, number];
  requests: Counts;
};

/** POST the CSV, poll until completed: time from request to completed. */
async function measureIngest(
  stack: Stack,
  ws: string,
  key: string,
  csv: string,
  accounts: number,
  items: number,
  javaPid: number | undefined,
  counts: Counts,
): Promise<IngestRun> {
  const c0 = { ...counts };
  const load0 = loadavg()[0] ?? 0;
  const cpu = cpuMeter(javaPid);
  const t0 = performance.now();
  const t0Wall = Date.now();
  const res = await api(stack, key, "/v1/imports", { method: "POST", csv });
  const acceptMs = performance.now() - t0;
  const accepted = (await res.json()) as { id?: string; status?: string };
  if (res.status !== 202 || !accepted.id)
    throw new Error(`POST /v1/imports: ${res.status} ${JSON.stringify(accepted)}`);
  let job: Record<string, unknown>;
  for (;;) {
    const r = await api(stack, key, `/v1/imports/${accepted.id}?errorsLimit=0`);
    job = (await r.json()) as Record<string, unknown>;
    if (job.status === "completed" || job.status === "failed") break;
    if (performance.now() - t0 > 240_000)
      throw new Error(`import ${accepted.id} not completed after 240 s: ${JSON.stringify(job)}`);
    await sleep(POLL_MS);
  }
  // From the request to the server's completedAt (not to the poll that saw it).
  const ms = Math.min(performance.now() - t0, Math.max(acceptMs, Date.parse(String(job.completedAt)) - t0Wall));
  const usage = cpu();
  const load: [number, number] = [load0, loadavg()[0] ?? 0];
  const requests = diff(counts, c0);
  if (job.status !== "completed" || job.accepted !== accounts || job.accounts !== accounts)
    throw new Error(`import ${accepted.id} ended ${job.status}: ${JSON.stringify(job).slice(0, 500)}`);
  const drainMs = await drain(stack);
  return {
    kind: "ingest",
    workspace: ws,
    importId: accepted.id,
    accounts,
    items,
    ms,
    acceptMs,
    serverMs: Date.parse(String(job.completedAt)) - Date.parse(String(job.createdAt)),
    chunks: Number(job.chunks),
    drainMs,
    accountsPerSecond: accounts / (ms / 1000),
    itemsPerSecond: items / (ms / 1000),
    cpu: usage,
    load,
    requests,
  };
}

/**
 * The items the ingest writes for these rows into a fresh workspace: each account's final
 * state (scored, with its first tier change) and its contact items, built with the store's
 * own functions. Computed before timing.
 */
export function ingestItems(ws: string, rows: readonly ImportRow[], icps: readonly CompiledIcp[], at: string): Item[] {
  const now = Date.parse(at);
  const personas = icps.flatMap((c) => c.icp.personas);
  const importId = "imp_BENCHBASELINE000000000000";
  const items: Item[] = [];
  mergeByDomain(rows).forEach((r, i) => {
    const id = accountId(ws, r.account.domain);
    const source = `import:${importId}#${Math.floor(i / CHUNK_ROWS)}`;
    items.push(...contactItems(ws, id, r.account.contacts ?? [], (c) => matchPersona(personas, c)));
    items.push(accountItem(ws, nextState(ws, id, undefined, r.account, icps, now, source, at)));
  });
  return items;
}

async function measureBaseline(
  store: Store,
  ws: string,
  items: Item[],
  accounts: number,
  javaPid: number | undefined,
  counts: Counts,
): Promise<BaselineRun> {
  const c0 = { ...counts };
  const load0 = loadavg()[0] ?? 0;
  const cpu = cpuMeter(javaPid);
  const t0 = performance.now();
  await batchPut(store, items, BASELINE_CONCURRENCY);
  const ms = performance.now() - t0;
  const load: [number, number] = [load0, loadavg()[0] ?? 0];
  return {
    kind: "baseline",
    workspace: ws,
    accounts,
    items: items.length,
    ms,
    accountsPerSecond: accounts / (ms / 1000),
    itemsPerSecond: items.length / (ms / 1000),
    cpu: cpu(),
    load,
    requests: diff(counts, c0),
  };
}

// ---------------------------------------------------------------- the bench

export async function run(): Promise<BenchResult> {
  const started = Date.now();
  const startedAt = new Date().toISOString();
  let workerErrors = 0;
  const stack = await startStack({
    port: 0,
    seed: false,
    apiKey: "bench-unused-demo-key",
    onWorkerError: (e) => {
      workerErrors++;
      if (workerErrors <= 5) log("worker error:", e);
    },
  });
  try {
    // The ingest publishes its tier changes (100 messages per import) to a queue nobody consumes
    // during the bench: the route consumer (enrolment into sequences) is downstream of the ingest,
    // runs in Lambdas of its own in AWS, and locally would share this one Node process and
    // DynamoDB Local with the measured pipeline (it took > 110 s to drain 10,000 tier changes).
    const sink = await stack.store.sqs.send(new CreateQueueCommand({ QueueName: "bench-route-sink" }));
    process.env.SST_RESOURCE_RouteQueue = JSON.stringify({ url: sink.QueueUrl });
    const javaPid = findOwnJava();
    log(`ingest: stack up in ${fmt(Date.now() - started)} ms at ${stack.url}; DynamoDB Local pid ${javaPid ?? "?"}`);
    const baseStore = createStore({ ...stack.cfg });
    // The handlers and the API use storeFromEnv()'s store (same module, same config); the pollers use stack.store.sqs.
    const stackCounts: Counts = {};
    const baseCounts: Counts = {};
    const handlerStore = storeFromEnv();
    countRequests(handlerStore.ddb, "ddb", stackCounts);
    countRequests(handlerStore.sqs, "sqs", stackCounts);
    countRequests(stack.store.sqs, "sqs-poller", stackCounts);
    countRequests(baseStore.ddb, "ddb", baseCounts);
    const csv = demoAccountsCsv(ACCOUNTS, 7);
    const warmCsv = demoAccountsCsv(WARMUP_ACCOUNTS, 8);
    const at = new Date().toISOString();
    const rows = parseCsv(csv, new Date(at)).rows;
    const warmRows = parseCsv(warmCsv, new Date(at)).rows;
    const icps = [compileIcp({ ...IcpDefinition.parse(DEMO_ICP), id: "icp_BENCHBASELINE000000000000", version: 1 })];
    if (rows.length !== ACCOUNTS) throw new Error(`demo CSV parsed to ${rows.length} rows, expected ${ACCOUNTS}`);
    // How many items the ingest writes for these rows (account items, plus contact items while the store has them).
    const sample = ingestItems("bcount", rows, icps, at);
    const itemsPerImport = sample.length;
    const warmItems = ingestItems("bcount", warmRows, icps, at).length;
    const kinds: Record<string, number> = {};
    for (const i of sample) kinds[String(i.type)] = (kinds[String(i.type)] ?? 0) + 1;
    const itemKinds = Object.entries(kinds)
      .map(([k, n]) => `${fmt(n)} ${k}`)
      .join(" + ");
    const avgBytes = Math.round(sample.reduce((n, i) => n + JSON.stringify(i).length, 0) / sample.length);

    // Warm-up: the JIT of both processes, DynamoDB Local's tables and both code paths.
    const wKey = await workspaceWithIcp(stack, "bwarm");
    const warmIngest = await measureIngest(
      stack,
      "bwarm",
      wKey,
      warmCsv,
      WARMUP_ACCOUNTS,
      warmItems,
      javaPid,
      stackCounts,
    );
    const warmBase = await measureBaseline(
      baseStore,
      "bwarmbase",
      ingestItems("bwarmbase", warmRows, icps, at),
      WARMUP_ACCOUNTS,
      javaPid,
      baseCounts,
    );
    log(
      `warm-up: ingest ${fmt(warmIngest.accountsPerSecond)} accounts/s, baseline ${fmt(warmBase.accountsPerSecond)} accounts/s`,
    );

    // Alternating, ABBA-style (I B, B I, I B…) so neither side always runs on the fuller table.
    const runs: (IngestRun | BaselineRun)[] = [];
    const populated: IngestRun[] = [];
    for (let r = 0; r < REPS; r++) {
      const order = r % 2 === 0 ? (["ingest", "baseline"] as const) : (["baseline", "ingest"] as const);
      for (const kind of order) {
        if (kind === "ingest") {
          const ws = `bing${r}`;
          const key = await workspaceWithIcp(stack, ws);
          const res = await measureIngest(stack, ws, key, csv, ACCOUNTS, itemsPerImport, javaPid, stackCounts);
          runs.push(res);
          log(
            `ingest #${r + 1}: ${fmt(res.ms)} ms, ${fmt(res.accountsPerSecond)} accounts/s (${res.chunks} chunks; route queue drained ${fmt(res.drainMs)} ms later; CPU node ${res.cpu.nodePct}% java ${res.cpu.javaPct}%)`,
          );
          // The same 10,000 new accounts into a workspace that already has some: not its first
          // import, so every chunk reads its accounts first (the path of every later import).
          const pws = `bpop${r}`;
          const pkey = await workspaceWithIcp(stack, pws);
          await populate(stack, pws, pkey);
          const pop = await measureIngest(stack, pws, pkey, csv, ACCOUNTS, itemsPerImport, javaPid, stackCounts);
          populated.push(pop);
          log(
            `ingest into a populated workspace #${r + 1}: ${fmt(pop.ms)} ms, ${fmt(pop.accountsPerSecond)} accounts/s (CPU node ${pop.cpu.nodePct}% java ${pop.cpu.javaPct}%)`,
          );
        } else {
          const ws = `bbase${r}`;
          const items = ingestItems(ws, rows, icps, at);
          const res = await measureBaseline(baseStore, ws, items, ACCOUNTS, javaPid, baseCounts);
          runs.push(res);
          log(
            `baseline #${r + 1}: ${fmt(res.ms)} ms, ${fmt(res.accountsPerSecond)} accounts/s, ${fmt(res.itemsPerSecond)} items/s (CPU node ${res.cpu.nodePct}% java ${res.cpu.javaPct}%)`,
          );
        }
      }
    }
    const dlqs = await dlqDepth(stack);
    // The ingest's own queues; other queues' DLQs (e.g. the re-score an ICP creation starts) are reported, not judged here.
    const dlq = (dlqs.IngestQueue ?? 0) + (dlqs.RouteQueue ?? 0);
    baseStore.ddb.destroy();

    const ingests = runs.filter((r): r is IngestRun => r.kind === "ingest");
    const bases = runs.filter((r): r is BaselineRun => r.kind === "baseline");
    const ing = median(ingests.map((r) => r.accountsPerSecond));
    const base = median(bases.map((r) => r.accountsPerSecond));
    const ingItems = median(ingests.map((r) => r.itemsPerSecond));
    const baseItems = median(bases.map((r) => r.itemsPerSecond));
    const rt = ratio(ing, base);
    const pop = median(populated.map((r) => r.accountsPerSecond));
    const popRatio = ratio(pop, base);
    const first = ingests[0] as IngestRun;
    const firstBase = bases[0] as BaselineRun;
    const targets = [
      {
        name: `ingest of ${fmt(ACCOUNTS)} accounts (API -> queue -> scoring -> DynamoDB Local) vs raw BatchWriteItem of the same items`,
        target: `ratio >= ${TARGET_RATIO}`,
        value: `ratio ${rt.toFixed(3)} (${fmt(ing)} vs ${fmt(base)} accounts/s)`,
        met: rt >= TARGET_RATIO,
      },
      {
        name: "every import completes; nothing in the ingest/route DLQs; no worker errors",
        target: "completed, 0, 0",
        value: `completed, ${dlq}, ${workerErrors}${Object.keys(dlqs).length ? ` (all DLQs: ${JSON.stringify(dlqs)})` : ""}`,
        met: dlq === 0 && workerErrors === 0,
      },
    ];
    const cpuCell = (c: Cpu) => `${fmt(c.nodeS, 1)} / ${fmt(c.javaS, 1)} (${c.nodePct}% / ${c.javaPct}%)`;
    const nodeWork = ratio(median(ingests.map((r) => r.cpu.nodeS)), median(bases.map((r) => r.cpu.nodeS)));
    const javaWork = ratio(median(ingests.map((r) => r.cpu.javaS)), median(bases.map((r) => r.cpu.javaS)));
    const loadCell = (r: IngestRun | BaselineRun) => `load ${r.load[0].toFixed(1)} -> ${r.load[1].toFixed(1)}`;
    const row = (r: IngestRun | BaselineRun, i: number) =>
      r.kind === "ingest"
        ? `| ${i} | ingest (API) | ${fmt(r.ms)} | ${fmt(r.accountsPerSecond)} | ${fmt(r.itemsPerSecond)} | ${cpuCell(r.cpu)} | accepted ${fmt(r.acceptMs)} ms, server ${fmt(r.serverMs)} ms, route drained +${fmt(r.drainMs)} ms; ${loadCell(r)} |`
        : `| ${i} | baseline (batchPut x${BASELINE_CONCURRENCY}) | ${fmt(r.ms)} | ${fmt(r.accountsPerSecond)} | ${fmt(r.itemsPerSecond)} | ${cpuCell(r.cpu)} | ${loadCell(r)} |`;
    const summary = `### Ingest (${fmt(ACCOUNTS)} accounts = ${fmt(itemsPerImport)} items as the store writes them: ${itemKinds})
| # | measurement | ms | accounts/s | items/s | CPU s node / java (% of a core) | notes |
|---|---|---:|---:|---:|---|---|
${runs.map((r, i) => row(r, i + 1)).join("\n")}
${populated.map((r, i) => row(r, runs.length + i + 1).replace("ingest (API)", "ingest (API), populated workspace")).join("\n")}

Median: ingest **${fmt(ing)} accounts/s** (${fmt(ingItems)} items/s), baseline **${fmt(base)} accounts/s** (${fmt(baseItems)} items/s); **ratio ${rt.toFixed(3)}** (target >= ${TARGET_RATIO}).
Into a workspace that already has accounts (each of those runs right after the fresh-workspace ingest of its pair): **${fmt(pop)} accounts/s, ratio ${popRatio.toFixed(3)}** (reported, not judged).
CPU work for the same accounts, ingest / baseline (medians): DynamoDB Local JVM **${fmt(javaWork, 2)}x**, Node process **${fmt(nodeWork, 2)}x** (CPU seconds are less sensitive than wall time to other load on the machine).
Requests per import of ${fmt(ACCOUNTS)} accounts (run 1 of each): ingest ${fmt(sum(first.requests, "ddb:"))} DynamoDB + ${fmt(sum(first.requests, "sqs"))} SQS (${Object.entries(
      first.requests,
    )
      .filter(([k]) => !k.startsWith("msg:"))
      .map(([k, v]) => `${k} ${fmt(v)}`)
      .join(", ")}); baseline ${fmt(sum(firstBase.requests, "ddb:"))} DynamoDB (${Object.entries(firstBase.requests)
      .map(([k, v]) => `${k} ${fmt(v)}`)
      .join(", ")}).
Items average ${fmt(avgBytes)} bytes as JSON.
Per import: ${first.chunks} chunks of <= ${CHUNK_ROWS} rows; messages sent: ${Object.entries(first.requests)
      .filter(([k]) => k.startsWith("msg:"))
      .map(([k, v]) => `${fmt(v)} to ${k.slice(4)}`)
      .join(
        ", ",
      )} (tier changes: every account of a fresh workspace gets one; they go to a queue no consumer reads during the bench).
Warm-up (not counted): ingest of ${fmt(WARMUP_ACCOUNTS)} accounts ${fmt(warmIngest.accountsPerSecond)}/s, baseline ${fmt(warmBase.accountsPerSecond)}/s.

${targetLines(targets)}`;
    return {
      name: "ingest",
      command: "npx tsx bench/ingest.ts",
      startedAt,
      durationMs: Date.now() - started,
      targets,
      summary,
      data: {
        accounts: ACCOUNTS,
        reps: REPS,
        baselineConcurrency: BASELINE_CONCURRENCY,
        chunkRows: CHUNK_ROWS,
        itemsPerImport,
        itemKinds: kinds,
        avgItemJsonBytes: avgBytes,
        chunks: first.chunks,
        ingestMessages: first.chunks,
        routeMessages: ACCOUNTS,
        medianIngestAccountsPerSecond: ing,
        medianBaselineAccountsPerSecond: base,
        medianIngestItemsPerSecond: ingItems,
        medianBaselineItemsPerSecond: baseItems,
        ratio: rt,
        populatedRatio: popRatio,
        medianPopulatedAccountsPerSecond: pop,
        cpuWorkRatio: { java: javaWork, node: nodeWork },
        dlq: dlqs,
        workerErrors,
        warmup: { ingest: warmIngest, baseline: warmBase },
        runs,
        populated,
      },
    };
  } finally {
    await stack.stop();
  }
}

if (isMain(import.meta.url)) await runAsScript(run);
