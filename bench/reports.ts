/**
 * Engagement report from counters vs the same report computed by scanning the events, in the
 * same run on the same DynamoDB Local.
 *
 *   npx tsx bench/reports.ts            env: BENCH_EVENTS (100000), BENCH_ACCOUNTS (10000), BENCH_REQUESTS (60)
 *
 * Load (not timed as a target): accounts, timeline events and counters are computed in memory with
 * the worker's own code (core applyEvent, store timelineItem) and written with BatchWriteItem.
 */
import { loadavg } from "node:os";
import {
  applyEvent,
  type Deltas,
  type EngagementState,
  type EventDims,
  emptyEngagement,
  engagementRow,
  mergeDeltas,
  parseDeltaKey,
  prng,
  type StoredEvent,
  totalsRow,
} from "@icp/core";
import { startStack } from "@icp/local";
import { accountItem, batchPut, ensureWorkspace, eventsBetween, keys, putApiKey, timelineItem } from "@icp/store";
import { recomputeCounters } from "../test/support/events.js";
import { benchAccount } from "./lib.js";

const N_EVENTS = Number(process.env.BENCH_EVENTS ?? 100_000);
const N_ACCOUNTS = Number(process.env.BENCH_ACCOUNTS ?? 10_000);
const N_REQUESTS = Number(process.env.BENCH_REQUESTS ?? 60);
const log = (...a: unknown[]) => console.error("[bench:reports]", ...a);

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)] as number;
};

async function main() {
  const t0 = Date.now();
  const stack = await startStack({ port: 0, seed: false, schedules: false, onWorkerError: () => {} });
  const ws = "benchreports";
  const key = "bench-reports-key-123456";
  await ensureWorkspace(stack.store, ws, "bench");
  await putApiKey(stack.store, ws, key, "bench");
  log(
    `stack up in ${Date.now() - t0} ms, load ${loadavg()
      .map((x) => x.toFixed(1))
      .join(" ")}`,
  );

  const r = prng(7);
  const segments = ["saas-scaleups", "fintech", "industrial", "healthcare", "retail"];
  const tiers = ["priority", "nurture", "generic", "disqualified"];
  const now = new Date().toISOString();
  const accounts = Array.from({ length: N_ACCOUNTS }, (_, i) => {
    const tier = tiers[Math.floor(r() ** 1.5 * 4)] as string;
    return benchAccount(i, "bench", now, {
      score: tier === "priority" ? 80 : tier === "nurture" ? 55 : 20,
      tier,
      qualified: tier === "priority" || (tier === "nurture" && r() < 0.5),
      segment: segments[i % segments.length] as string,
    });
  });
  const types = [
    "sent",
    "delivered",
    "opened",
    "opened",
    "clicked",
    "replied",
    "meeting_booked",
    "won",
    "bounced",
  ] as const;
  const byAccount = new Map<string, StoredEvent[]>();
  for (let i = 0; i < N_EVENTS; i++) {
    const a = accounts[Math.floor(r() * N_ACCOUNTS)] as (typeof accounts)[number];
    const type = i % 3 === 0 ? "sent" : (types[Math.floor(r() * types.length)] as StoredEvent["type"]);
    const seq = Math.floor(r() * 3);
    const e: StoredEvent = {
      id: `bev_${i}`,
      type,
      accountId: a.id,
      contactEmail: `p${Math.floor(r() * 3)}@${a.domain}`,
      sequenceId: `seq_${seq}`,
      sequenceVersion: 1,
      stepId: `s${1 + Math.floor(r() * 3)}`,
      variant: r() < 0.5 ? "A" : "B",
      channel: r() < 0.8 ? "email" : "linkedin_message",
      ...(type === "won" ? { amount: Math.round(r() * 40_000) } : {}),
      at: new Date(Date.UTC(2026, 5, 1 + Math.floor(r() * 30), Math.floor(r() * 24))).toISOString(),
    };
    byAccount.set(a.id, [...(byAccount.get(a.id) ?? []), e]);
  }
  // What the worker would compute, event by event.
  const deltas: Deltas = {};
  const timeline: Record<string, unknown>[] = [];
  const engagement: Record<string, unknown>[] = [];
  for (const a of accounts) {
    const evs = byAccount.get(a.id);
    if (!evs) continue;
    const dims: EventDims = {
      segment: a.segment,
      tier: a.tier,
      qualified: a.qualified,
      icpId: a.icpId,
      icpVersion: a.icpVersion,
    };
    const st: EngagementState = emptyEngagement();
    const d: Deltas = {};
    for (const e of evs) {
      applyEvent(st, dims, e, d);
      timeline.push(timelineItem(ws, e, dims));
    }
    mergeDeltas(deltas, d);
    engagement.push({
      ...keys.engagement(ws, a.id),
      type: "engagement",
      v: 1,
      ...st,
      accountId: a.id,
      rev: 1,
      ids: evs.map((e) => e.id),
      pending: {},
    });
  }
  const counters = Object.entries(deltas).map(([k, m]) => {
    const { scope, dim, day, value } = parseDeltaKey(k);
    return { ...keys.counter(ws, scope, dim, day, value, 0), type: "counter", v: 1, ...m };
  });
  const accountItems = accounts.map((a) => accountItem(ws, a as never));
  log(
    `writing ${accountItems.length} accounts, ${timeline.length} events, ${engagement.length} engagement items, ${counters.length} counters`,
  );
  const tw = Date.now();
  await batchPut(stack.store, [...accountItems, ...timeline, ...engagement, ...counters], 8);
  const loadMs = Date.now() - tw;
  log(`loaded in ${loadMs} ms`);

  const from = "2026-06-01";
  const to = "2026-06-30";
  const url = `${stack.url}/v1/reports/engagement?groupBy=segment&from=${from}&to=${to}`;
  const get = async () => {
    const t = performance.now();
    const res = await fetch(url, { headers: { authorization: `Bearer ${key}` } });
    const body = await res.json();
    if (res.status !== 200) throw new Error(JSON.stringify(body));
    return { ms: performance.now() - t, body };
  };
  for (let i = 0; i < 10; i++) await get(); // warm-up
  const times: number[] = [];
  let report: { totals: Record<string, number>; groups: { group: string }[] } | undefined;
  for (let i = 0; i < N_REQUESTS; i++) {
    const g = await get();
    times.push(g.ms);
    report = g.body;
  }
  // Baseline: the same report by reading every event of the range and aggregating in memory.
  const scan = async () => {
    const t = performance.now();
    const events = await eventsBetween(stack.store, ws, from, to);
    const c = recomputeCounters(events);
    const groups = new Map<string, Record<string, number>>();
    for (const [k, m] of c) {
      const [scope, dim, , value] = k.split("\t");
      if (scope !== "all" || dim !== "segment") continue;
      const g = groups.get(value as string) ?? {};
      for (const [name, n] of Object.entries(m)) g[name] = (g[name] ?? 0) + n;
      groups.set(value as string, g);
    }
    const rows = [...groups].map(([v, m]) => engagementRow(v, m));
    return { ms: performance.now() - t, totals: totalsRow(rows), events: events.length };
  };
  const scans = [];
  for (let i = 0; i < 3; i++) scans.push(await scan());
  const scanMs = scans.map((s) => s.ms).sort((a, b) => a - b)[1] as number;
  const p50 = pct(times, 50);
  const p95 = pct(times, 95);
  const same = JSON.stringify(scans[0]?.totals) === JSON.stringify({ ...report?.totals }) ? "identical" : "DIFFERENT";
  const result = {
    machine: { load: loadavg().map((x) => Math.round(x * 10) / 10), cpus: (await import("node:os")).cpus().length },
    events: N_EVENTS,
    accounts: N_ACCOUNTS,
    counterItems: counters.length,
    loadMs,
    requests: N_REQUESTS,
    p50Ms: Math.round(p50 * 10) / 10,
    p95Ms: Math.round(p95 * 10) / 10,
    maxMs: Math.round(Math.max(...times) * 10) / 10,
    scanMs: scans.map((s) => Math.round(s.ms)),
    scanEventsRead: scans[0]?.events,
    speedupP95VsScanMedian: Math.round((scanMs / p95) * 10) / 10,
    totalsCountersVsScan: same,
    totals: report?.totals,
    targets: { p95Under100ms: p95 < 100, atLeast20x: scanMs / p95 >= 20 },
  };
  console.log(JSON.stringify(result, null, 2));
  await stack.stop();
}

main().then(
  () => process.exit(0),
  (e) => {
    console.error(e);
    process.exit(1);
  },
);
