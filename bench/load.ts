/**
 * Load on the local API: a stack (startStack: DynamoDB Local, local SQS, workers, API; seeded
 * with the demo workspace) runs in a child process so that it does not share an event loop
 * with the load generator; autocannon then drives a mix for 60 s at 200 connections and for
 * 60 s at 50:
 *
 *   70% reads   GET /v1/accounts?tier=priority&limit=20 (20%), GET /v1/accounts/{domain} (25%),
 *               GET /v1/icps (10%), GET /v1/imports/{id} (15%)
 *   20% writes  POST /v1/imports, JSON with 5 accounts (one of them an existing demo account)
 *   10% events  POST /v1/accounts/{domain}/signals (5%), POST /v1/events with 5 engagement events (5%)
 *
 * Then a fresh stack with ICP_MAX_IN_FLIGHT=32 takes 200 connections for 15 s, so that load
 * shedding (503) happens for real. Records requests/s, p50/p90/p99 latency (also of served and
 * of refused answers apart) and the answers by status and kind, then asserts (exit 1 if not):
 * no 5xx other than 503, every 503/429 with Retry-After, no request unanswered after 10 s,
 * no errors, and every run's served p99 under 2 s.
 *
 *   npx tsx bench/load.ts [--record] [--json bench/out/load.json]
 *   env: LOAD_SECONDS (60), LOAD_CONNECTIONS (200,50), LOAD_SHED_SECONDS (15; 0 skips the shedding run),
 *        LOAD_TIMING=<file> (the server's own view of its latency, rewritten every 2 s)
 *   --record replaces the "## Load" section of bench/RESULTS.md with this run's summary.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { type IncomingMessage, Server, type ServerResponse } from "node:http";
import { createRequire } from "node:module";
import { loadavg } from "node:os";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { recordSection } from "./fuzz.js";
import { type BenchResult, fmt, isMain, log, machine, runAsScript } from "./lib.js";

const SECONDS = Number(process.env.LOAD_SECONDS ?? 60);
const CONNECTIONS = (process.env.LOAD_CONNECTIONS ?? "200,50").split(",").map(Number);
/** A last, shorter run with a low in-flight cap, so that shedding (503 + Retry-After) happens under real load. */
const SHED_SECONDS = Number(process.env.LOAD_SHED_SECONDS ?? 15);
const SHED_CAP = 32;
/** Every run's served (2xx) answers: p99 under this. */
const SERVED_P99_MS = 2000;
const API_KEY = "load-bench-key-0001";
const COMMAND = "npx tsx bench/load.ts --record";

// ---------------------------------------------------------------------------------------------
// autocannon has no type declarations: the part of its API used here.

type AcRequest = { method: string; path: string; headers?: Record<string, string>; body?: string };
type AcContext = Record<string, unknown>;
type AcOptions = {
  url: string;
  connections: number;
  duration: number;
  timeout?: number;
  headers?: Record<string, string>;
  requests: {
    setupRequest: (req: AcRequest, context: AcContext) => AcRequest;
    onResponse: (status: number, body: string, context: AcContext, headers: Record<string, string | string[]>) => void;
  }[];
};
type Histogram = { average: number; mean: number; p50: number; p90: number; p99: number; max: number; total: number };
type AcResult = {
  requests: Histogram & { sent: number };
  latency: Histogram;
  throughput: Histogram;
  errors: number;
  timeouts: number;
  non2xx: number;
  duration: number;
  statusCodeStats: Record<string, { count: number }>;
};
const autocannon = createRequire(import.meta.url)("autocannon") as (opts: AcOptions) => Promise<AcResult> & {
  stop?: () => void;
};

// ---------------------------------------------------------------------------------------------
// The stack, in a child process (`--serve`): prints one JSON line {url} when the demo data is in.

async function serve(): Promise<void> {
  process.env.POWERTOOLS_LOG_LEVEL ??= "ERROR";
  const timingFile = process.env.LOAD_TIMING;
  if (timingFile) {
    const timing = serverTiming();
    setInterval(() => writeFileSync(timingFile, `${JSON.stringify(timing())}\n`), 2000).unref();
  }
  const { startStack } = await import("@icp/local");
  const { getImport } = await import("@icp/store");
  const stack = await startStack({ port: 0, seed: true, apiKey: API_KEY, onWorkerError: () => {} });
  const importId = stack.seeded?.importId;
  for (let i = 0; importId && i < 600; i++) {
    if ((await getImport(stack.store, "demo", importId))?.status === "completed") break;
    await new Promise((r) => setTimeout(r, 100));
  }
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    await stack.stop();
    process.exit(0);
  };
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
  process.stdin.on("end", stop); // the parent died: do not leave DynamoDB Local behind
  process.stdin.resume();
  console.log(JSON.stringify({ url: stack.url, importId }));
}

/**
 * Where a request's time goes, seen from the server: from the 'request' event (headers parsed)
 * to the response's 'finish', and the event loop's delay. With LOAD_TIMING=<file>, the child
 * rewrites that file every 2 s (a diagnosis aid: is the time spent before or after the handler?).
 */
function serverTiming(): () => Record<string, unknown> {
  const served: number[] = [];
  const refused: number[] = [];
  const aborted: number[] = [];
  const arrival: number[] = [];
  const loop = monitorEventLoopDelay({ resolution: 10 });
  loop.enable();
  const emit = Server.prototype.emit;
  Server.prototype.emit = function (this: Server, event: string, ...args: unknown[]) {
    if (event === "request") {
      const t0 = performance.now();
      const res = args[1] as ServerResponse;
      // From the load generator's write to Node's 'request' event (same machine, same clock).
      const sent = Number((args[0] as IncomingMessage).headers["x-bench-sent"]);
      if (Number.isFinite(sent)) arrival.push(Date.now() - sent);
      // 'close' also ends a request whose client gave up (it never 'finish'es): count those too.
      res.once("close", () => {
        const ms = performance.now() - t0;
        if (!res.writableFinished) aborted.push(ms);
        else (res.statusCode < 300 ? served : refused).push(ms);
      });
    }
    return emit.apply(this, [event, ...args] as Parameters<typeof emit>);
  } as typeof emit;
  const stats = (xs: number[]) => {
    const sorted = [...xs].sort((a, b) => a - b);
    const at = (q: number) => Math.round(sorted[Math.floor(q * (sorted.length - 1))] ?? 0);
    const over = (ms: number) => sorted.filter((d) => d > ms).length;
    return { n: sorted.length, p50: at(0.5), p99: at(0.99), max: at(1), over2s: over(2000), over10s: over(10_000) };
  };
  return () => ({
    served: stats(served),
    refused: stats(refused),
    aborted: stats(aborted),
    arrival: stats(arrival),
    loopDelayP99: Math.round(loop.percentile(99) / 1e6),
    loopDelayMax: Math.round(loop.max / 1e6),
  });
}

async function startServer(
  env: Record<string, string> = {},
): Promise<{ child: ChildProcess; url: string; importId?: string }> {
  const tsxCli = createRequire(import.meta.url).resolve("tsx/cli");
  const child = spawn(process.execPath, [tsxCli, fileURLToPath(import.meta.url), "--serve"], {
    stdio: ["pipe", "pipe", "inherit"],
    // Shed requests are logged as errors, one line each: thousands of them would bury the report.
    env: { POWERTOOLS_LOG_LEVEL: "CRITICAL", ...process.env, ...env, NODE_NO_WARNINGS: "1" },
  });
  const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
  return new Promise((resolve, reject) => {
    child.once("exit", (code) => reject(new Error(`stack exited with ${code} before it was ready`)));
    lines.on("line", (line) => {
      if (!line.startsWith("{")) return;
      const ready = JSON.parse(line) as { url: string; importId?: string };
      resolve({ child, ...ready });
    });
  });
}

async function stopServer(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((r) => child.once("exit", r));
  child.kill("SIGINT");
  await Promise.race([exited, new Promise((r) => setTimeout(r, 20_000))]);
  if (child.exitCode === null) child.kill("SIGKILL");
}

// ---------------------------------------------------------------------------------------------
// The mix

type Kind = "list" | "account" | "icps" | "import-status" | "import" | "signal" | "event";
const MIX: [Kind, number][] = [
  ["list", 20],
  ["account", 25],
  ["icps", 10],
  ["import-status", 15],
  ["import", 20],
  ["signal", 5],
  ["event", 5],
];

type Tally = {
  byKind: Record<string, Record<string, number>>;
  /** Requests built per kind: sent minus answered is what timed out (or was cut at the end). */
  sent: Record<string, number>;
  unexpected5xx: { kind: string; status: number; body: string }[];
  retryAfterMissing: number;
  /** Latency (ms) of each answer, from the request's setup to its response: served (2xx) and refused (429/503). */
  served: number[];
  refused: number[];
};

function mix(domains: string[], importIds: string[], tally: Tally, runId: string) {
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(Math.random() * xs.length)] as T;
  const total = MIX.reduce((n, [, w]) => n + w, 0);
  const kindOf = () => {
    let r = Math.random() * total;
    for (const [k, w] of MIX) {
      r -= w;
      if (r < 0) return k;
    }
    return "list" as Kind;
  };
  let n = 0;
  const today = new Date().toISOString().slice(0, 10);
  const json = { "content-type": "application/json" };
  const build = (req: AcRequest, context: AcContext): AcRequest => {
    const kind = kindOf();
    context.kind = kind;
    context.t0 = performance.now();
    tally.sent[kind] = (tally.sent[kind] ?? 0) + 1;
    n++;
    switch (kind) {
      case "list":
        return { ...req, method: "GET", path: "/v1/accounts?tier=priority&limit=20" };
      case "account":
        return { ...req, method: "GET", path: `/v1/accounts/${pick(domains)}` };
      case "icps":
        return { ...req, method: "GET", path: "/v1/icps" };
      case "import-status":
        return { ...req, method: "GET", path: `/v1/imports/${pick(importIds)}?errorsLimit=10` };
      case "import": {
        const accounts = Array.from({ length: 5 }, (_, i) =>
          i === 0
            ? { domain: pick(domains), technologies: ["HubSpot"] }
            : {
                domain: `load-${runId}-${n}-${i}.example.com`,
                name: `Load ${n}-${i}`,
                industry: pick(["SaaS", "Fintech", "Manufacturing"]),
                employees: 20 + ((n * 7 + i * 31) % 900),
                country: pick(["France", "Germany", "United States"]),
                technologies: ["Salesforce", "Slack"],
              },
        );
        return {
          ...req,
          method: "POST",
          path: "/v1/imports",
          headers: { ...req.headers, ...json },
          body: JSON.stringify({ accounts }),
        };
      }
      case "signal":
        return {
          ...req,
          method: "POST",
          path: `/v1/accounts/${pick(domains)}/signals`,
          headers: { ...req.headers, ...json },
          body: JSON.stringify({ signals: [{ type: "site_visit", at: today, detail: `pricing page ${n % 20}` }] }),
        };
      case "event":
        return {
          ...req,
          method: "POST",
          path: "/v1/events",
          headers: { ...req.headers, ...json },
          body: JSON.stringify(
            Array.from({ length: 5 }, (_, i) => ({
              id: `load-${runId}-${n}-${i}`,
              type: pick(["opened", "clicked", "replied", "delivered"]),
              domain: pick(domains),
            })),
          ),
        };
    }
  };
  return {
    // The send time travels with the request, so the server can tell how long it took to arrive.
    setupRequest: (req: AcRequest, context: AcContext): AcRequest => {
      const built = build(req, context);
      return { ...built, headers: { ...built.headers, "x-bench-sent": String(Date.now()) } };
    },
    onResponse: (status: number, body: string, context: AcContext, headers: Record<string, string | string[]>) => {
      const kind = String(context.kind);
      const byStatus = tally.byKind[kind] ?? {};
      tally.byKind[kind] = byStatus;
      byStatus[status] = (byStatus[status] ?? 0) + 1;
      const ms = performance.now() - (context.t0 as number);
      if (status < 300) tally.served.push(ms);
      else if (status === 503 || status === 429) tally.refused.push(ms);
      if (status === 503 || status === 429) {
        const retryAfter = Object.entries(headers).find(([k]) => k.toLowerCase() === "retry-after")?.[1];
        if (!retryAfter) tally.retryAfterMissing++;
      } else if (status >= 500 && tally.unexpected5xx.length < 20)
        tally.unexpected5xx.push({ kind, status, body: body.slice(0, 300) });
      if (kind === "import" && status === 202 && importIds.length < 2000) {
        const id = (JSON.parse(body) as { id?: string }).id;
        if (id) importIds.push(id);
      }
    },
  };
}

type RunSummary = {
  label: string;
  connections: number;
  seconds: number;
  total: number;
  rps: number;
  latency: { p50: number; p90: number; p99: number; max: number; average: number };
  statuses: Record<string, number>;
  errors: number;
  timeouts: number;
  byKind: Tally["byKind"];
  unanswered: Record<string, number>;
  unexpected5xx: Tally["unexpected5xx"];
  retryAfterMissing: number;
  /** Served (2xx) and refused (429/503) answers' latency, measured by the mix itself. */
  served: { p50: number; p99: number; max: number };
  refused: { count: number; p99: number; max: number };
  /** 1-minute load average before and after the run: the machine is shared. */
  loadavg: number[];
  /** Event-loop delay (ms) of the load generator itself during the run. */
  clientLoopDelay: { p99: number; max: number };
  /** The machine's TCP counters that explain delays ahead of the server (listen queue overflows, resets), over the run. */
  tcp: Record<string, number>;
};

/** Wait until the API answers /health quickly again: requests autocannon gave up on may still be in flight. */
async function drain(url: string): Promise<number> {
  const t0 = performance.now();
  let fast = 0;
  while (fast < 2 && performance.now() - t0 < 20_000) {
    const t = performance.now();
    try {
      await (await fetch(`${url}/health`, { signal: AbortSignal.timeout(5_000) })).text();
      fast = performance.now() - t < 300 ? fast + 1 : 0;
    } catch {
      fast = 0;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  return performance.now() - t0;
}

async function runLoad(
  url: string,
  connections: number,
  seconds: number,
  domains: string[],
  importIds: string[],
  label = `${connections}`,
) {
  const tally: Tally = { byKind: {}, sent: {}, unexpected5xx: [], retryAfterMissing: 0, served: [], refused: [] };
  const drainedMs = await drain(url);
  const loadBefore = loadavg();
  log(
    `${connections} connections for ${seconds} s (drained in ${fmt(drainedMs)} ms, load ${loadBefore[0]?.toFixed(1)})`,
  );
  // The load generator's own event loop: a late loop inflates every latency it measures.
  const clientLoop = monitorEventLoopDelay({ resolution: 10 });
  clientLoop.enable();
  const tcpBefore = tcpCounters();
  const result = await autocannon({
    url,
    connections,
    duration: seconds,
    headers: { authorization: `Bearer ${API_KEY}` },
    requests: [mix(domains, importIds, tally, `${connections}c${Date.now().toString(36)}`)],
  });
  clientLoop.disable();
  const statuses = Object.fromEntries(Object.entries(result.statusCodeStats).map(([s, v]) => [s, v.count]));
  const summary: RunSummary = {
    label,
    connections,
    seconds,
    total: result.requests.total,
    rps: result.requests.average,
    latency: {
      p50: result.latency.p50,
      p90: result.latency.p90,
      p99: result.latency.p99,
      max: result.latency.max,
      average: result.latency.average,
    },
    statuses,
    errors: result.errors,
    timeouts: result.timeouts,
    byKind: tally.byKind,
    unanswered: Object.fromEntries(
      Object.entries(tally.sent).map(([k, n]) => [
        k,
        n - Object.values(tally.byKind[k] ?? {}).reduce((a, c) => a + c, 0),
      ]),
    ),
    unexpected5xx: tally.unexpected5xx,
    retryAfterMissing: tally.retryAfterMissing,
    served: { p50: quantile(tally.served, 0.5), p99: quantile(tally.served, 0.99), max: quantile(tally.served, 1) },
    refused: { count: tally.refused.length, p99: quantile(tally.refused, 0.99), max: quantile(tally.refused, 1) },
    loadavg: [loadBefore[0] ?? 0, loadavg()[0] ?? 0],
    clientLoopDelay: { p99: Math.round(clientLoop.percentile(99) / 1e6), max: Math.round(clientLoop.max / 1e6) },
    tcp: Object.fromEntries(Object.entries(tcpCounters()).map(([k, v]) => [k, v - (tcpBefore[k] ?? 0)])),
  };
  log(JSON.stringify({ ...summary, byKind: undefined }));
  return summary;
}

/** Linux's TcpExt counters (/proc/net/netstat) that matter here; empty elsewhere. */
function tcpCounters(): Record<string, number> {
  const wanted = /^(ListenOverflows|ListenDrops|TCPSynRetrans|TCPTimeouts|TCPAbortOnData|TCPAbortOnClose)$/;
  try {
    const lines = readFileSync("/proc/net/netstat", "utf8").split("\n");
    const out: Record<string, number> = {};
    for (let i = 0; i + 1 < lines.length; i += 2) {
      const names = (lines[i] ?? "").split(/\s+/);
      const values = (lines[i + 1] ?? "").split(/\s+/);
      names.forEach((n, j) => {
        if (wanted.test(n)) out[n] = Number(values[j]);
      });
    }
    return out;
  } catch {
    return {};
  }
}

function quantile(xs: number[], q: number): number {
  const sorted = [...xs].sort((a, b) => a - b);
  return Math.round(sorted[Math.floor(q * (sorted.length - 1))] ?? 0);
}

const pct = (n: number, of: number) => (of ? `${((100 * n) / of).toFixed(2)}%` : "0%");

function table(runs: RunSummary[]): string {
  const columns = ["connections", "answered", "req/s", "p50", "p90", "p99", "max", "served p99", "served max"];
  columns.push("refused max", "timed out (> 10 s)", "errors", "by status", "load avg");
  const align = columns.map((c) => (c === "by status" ? " --- |" : " ---: |")).join("");
  const head = `| ${columns.join(" | ")} |\n|${align}`;
  const rows = runs.map((r) => {
    const statuses = Object.entries(r.statuses)
      .map(([s, c]) => `${s}: ${fmt(c)} (${pct(c, r.total)})`)
      .join(", ");
    const l = r.latency;
    const cells = [r.label, fmt(r.total), fmt(r.rps, 1)];
    const ms = [l.p50, l.p90, l.p99, l.max, r.served.p99, r.served.max, r.refused.max].map((x) => `${fmt(x)} ms`);
    cells.push(...ms, fmt(r.timeouts), fmt(r.errors), statuses, r.loadavg.map((x) => x.toFixed(1)).join(" → "));
    return `| ${cells.join(" | ")} |`;
  });
  const kinds = runs.map(
    (r) =>
      `- ${r.label} connections, answers by kind: ${Object.entries(r.byKind)
        .sort(([a], [b]) => a.localeCompare(b))
        .map(
          ([k, by]) =>
            `${k} ${Object.entries(by)
              .map(([s, c]) => `${s}×${fmt(c)}`)
              .join(" ")}${r.unanswered[k] ? ` unanswered×${fmt(r.unanswered[k] ?? 0)}` : ""}`,
        )
        .join("; ")}`,
  );
  return `${head}\n${rows.join("\n")}\n\n${kinds.join("\n")}`;
}

export async function run(): Promise<BenchResult> {
  const started = Date.now();
  const m = machine();
  const runs: RunSummary[] = [];
  log("starting the stack (child process, seeded demo workspace)");
  await session({}, async (url, domains, importIds) => {
    await runLoad(url, 20, 3, domains, importIds);
    for (const c of CONNECTIONS) runs.push(await runLoad(url, c, SECONDS, domains, importIds));
  });
  if (SHED_SECONDS > 0) {
    log(`restarting the stack with ICP_MAX_IN_FLIGHT=${SHED_CAP}`);
    await session({ ICP_MAX_IN_FLIGHT: String(SHED_CAP) }, async (url, domains, importIds) => {
      runs.push(await runLoad(url, 200, SHED_SECONDS, domains, importIds, `200 (cap ${SHED_CAP})`));
    });
  }
  const unexpected = runs.flatMap((r) => r.unexpected5xx);
  const fivexx = runs.reduce(
    (n, r) =>
      n +
      Object.entries(r.statuses)
        .filter(([s]) => s.startsWith("5") && s !== "503")
        .reduce((a, [, c]) => a + c, 0),
    0,
  );
  const shed = runs.reduce((n, r) => n + (r.statuses["503"] ?? 0), 0);
  const missing = runs.reduce((n, r) => n + r.retryAfterMissing, 0);
  const timeouts = runs.reduce((n, r) => n + r.timeouts, 0);
  const errors = runs.reduce((n, r) => n + r.errors, 0);
  const servedP99 = Math.max(...runs.map((r) => r.served.p99));
  const ok = fivexx === 0 && missing === 0 && timeouts === 0 && errors === 0 && servedP99 < SERVED_P99_MS;
  const totalS = fmt((Date.now() - started) / 1000);
  const unexpectedList = unexpected.length
    ? `\n\nUnexpected 5xx (first 20):\n${unexpected
        .map((u) => `- ${u.kind} ${u.status}: \`${u.body.replace(/\s+/g, " ").replaceAll("`", "'")}\``)
        .join("\n")}`
    : "";
  const summary = `Run ${m.date.slice(0, 10)} on ${m.cores} cores (${m.cpu}), Node ${m.node}; the stack (API, workers,
in-process SQS) in one child process, DynamoDB Local (Java) beside it, autocannon in the parent — all on this machine.
Command: \`${COMMAND}\` (${SECONDS} s per run after a 3 s warm-up at 20 connections, then ${SHED_SECONDS} s at 200
on a fresh stack started with ICP_MAX_IN_FLIGHT=${SHED_CAP} so that load shedding happens; total ${totalS} s).
Mix: 70% reads (accounts by tier 20%, account by domain 25%, ICPs 10%, import status 15%), 20% JSON imports of
5 accounts, 5% signals, 5% engagement events (POST /v1/events with 5 events). Latency percentiles are autocannon's, over answered requests (a request still unanswered
after 10 s is counted as timed out instead); "unanswered" per kind = timed out or still in flight when the run ended;
"load avg" is the machine's 1-minute load before → after the run (the machine is shared with other work).

${table(runs)}

Checks: 5xx other than 503: **${fivexx}**; 503 (load shedding): ${fmt(shed)}, refusals (503/429) without Retry-After:
**${missing}**; requests unanswered after 10 s: **${fmt(timeouts)}**; errors (timeouts included): **${fmt(errors)}**;
worst served p99: **${fmt(servedP99)} ms** (target < ${fmt(SERVED_P99_MS)} ms) — ${ok ? "passed" : "FAILED"}.${unexpectedList}`;
  if (process.argv.includes("--record")) recordSection("Load", summary);
  const main = runs.find((r) => r.label === "200") ?? runs[0];
  const result: BenchResult = {
    name: "load",
    command: COMMAND,
    startedAt: new Date(started).toISOString(),
    durationMs: Date.now() - started,
    targets: [
      { name: "no 5xx other than 503 under load", target: "0", value: String(fivexx), met: fivexx === 0 },
      { name: "every 503/429 carries Retry-After", target: "0 missing", value: String(missing), met: missing === 0 },
      { name: "requests unanswered after 10 s", target: "0", value: String(timeouts), met: timeouts === 0 },
      { name: "errors (timeouts included)", target: "0", value: String(errors), met: errors === 0 },
      {
        name: "served p99 (worst run)",
        target: `< ${SERVED_P99_MS} ms`,
        value: `${servedP99} ms`,
        met: servedP99 < SERVED_P99_MS,
      },
      ...(main
        ? [
            {
              name: `p99 at ${main.connections} connections`,
              target: "recorded",
              value: `${main.latency.p99} ms`,
              met: true,
            },
          ]
        : []),
    ],
    summary: `## Load\n\n${summary}`,
    data: { runs, machine: m },
  };
  if (!ok) {
    console.log(`\n${result.summary}`);
    throw new Error(
      `load check failed: ${fivexx} unexpected 5xx, ${missing} refusals without Retry-After, ${timeouts} timeouts, ${errors} errors, served p99 ${servedP99} ms`,
    );
  }
  return result;
}

/** A seeded stack in a child process for `body`, given its URL, the demo domains and an import id. */
async function session(
  env: Record<string, string>,
  body: (url: string, domains: string[], importIds: string[]) => Promise<void>,
): Promise<void> {
  const server = await startServer(env);
  try {
    const domains: string[] = [];
    let cursor: string | undefined;
    do {
      const page = (await (
        await fetch(`${server.url}/v1/accounts?limit=500${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`, {
          headers: { authorization: `Bearer ${API_KEY}` },
        })
      ).json()) as { items: { domain: string }[]; nextCursor?: string };
      domains.push(...page.items.map((a) => a.domain));
      cursor = page.nextCursor;
    } while (cursor);
    if (!domains.length || !server.importId) throw new Error("the demo data is missing: seeding failed");
    log(`${domains.length} demo accounts`);
    await body(server.url, domains, [server.importId]);
  } finally {
    await stopServer(server.child);
  }
}

if (isMain(import.meta.url)) {
  if (process.argv.includes("--serve")) await serve();
  else await runAsScript(run);
}
