/**
 * Where the Node process's CPU goes during one ingest through the API (the stack runs in
 * this process, like `npm start`): V8 CPU profile of the measured import, self time summed
 * by package / file and by function. Writes bench/out/ingest.cpuprofile.
 *
 *   npx tsx bench/profile/ingest-cpu.ts
 *   env: BENCH_ACCOUNTS (10000)
 */

import { mkdirSync, writeFileSync } from "node:fs";
import { Session } from "node:inspector/promises";
import { CreateQueueCommand } from "@aws-sdk/client-sqs";
import { DEMO_ICP, demoAccountsCsv } from "@icp/core";
import { startStack } from "@icp/local";
import { ensureWorkspace, getImport, putApiKey } from "@icp/store";
import { fmt, sleep } from "../lib.js";

const N = Number(process.env.BENCH_ACCOUNTS ?? 10_000);

type Node = {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
};
type Profile = { nodes: Node[]; startTime: number; endTime: number; samples: number[]; timeDeltas: number[] };

function where(url: string): string {
  if (!url) return "(native/V8)";
  const nm = url.lastIndexOf("node_modules/");
  if (nm >= 0) {
    const rest = url.slice(nm + "node_modules/".length).split("/");
    return rest[0]?.startsWith("@") ? `${rest[0]}/${rest[1]}` : (rest[0] ?? url);
  }
  if (url.startsWith("node:")) return url;
  const m = /\/work\/main\/(.*)$/.exec(url);
  return m?.[1] ?? url;
}

const stack = await startStack({ port: 0, seed: false, apiKey: "bench-unused-demo-key" });
// Like bench/ingest.ts: tier changes go to a queue nobody consumes (the route consumer is not measured).
const sink = await stack.store.sqs.send(new CreateQueueCommand({ QueueName: "bench-route-sink" }));
process.env.SST_RESOURCE_RouteQueue = JSON.stringify({ url: sink.QueueUrl });
const ws = "cpu";
const key = "bench-key-cpu";
await ensureWorkspace(stack.store, ws, "cpu");
await putApiKey(stack.store, ws, key, "bench");
const headers = { authorization: `Bearer ${key}` };
await fetch(`${stack.url}/v1/icps`, {
  method: "POST",
  headers: { ...headers, "content-type": "application/json" },
  body: JSON.stringify(DEMO_ICP),
});
// Warm-up import, not profiled.
const warm = await fetch(`${stack.url}/v1/imports`, {
  method: "POST",
  headers: { ...headers, "content-type": "text/csv" },
  body: demoAccountsCsv(1000, 3),
});
const warmId = ((await warm.json()) as { id: string }).id;
while ((await getImport(stack.store, ws, warmId))?.status !== "completed") await sleep(100);
await sleep(3000);

const session = new Session();
session.connect();
await session.post("Profiler.enable");
await session.post("Profiler.setSamplingInterval", { interval: 500 });
await session.post("Profiler.start");
const cpu0 = process.cpuUsage();
const t0 = performance.now();
const res = await fetch(`${stack.url}/v1/imports`, {
  method: "POST",
  headers: { ...headers, "content-type": "text/csv" },
  body: demoAccountsCsv(N, 7),
});
const id = ((await res.json()) as { id: string }).id;
while ((await getImport(stack.store, ws, id))?.status !== "completed") await sleep(50);
const ms = performance.now() - t0;
const cpu = process.cpuUsage(cpu0);
const { profile } = (await session.post("Profiler.stop")) as unknown as { profile: Profile };
session.disconnect();
mkdirSync("bench/out", { recursive: true });
writeFileSync("bench/out/ingest.cpuprofile", JSON.stringify(profile));

// Self time per node from samples x time deltas.
const self = new Map<number, number>();
profile.samples.forEach((s, i) => {
  self.set(s, (self.get(s) ?? 0) + (profile.timeDeltas[i] ?? 0));
});
const byNode = new Map(profile.nodes.map((n) => [n.id, n]));
const byWhere = new Map<string, number>();
const byFn = new Map<string, number>();
let total = 0;
for (const [nid, us] of self) {
  const n = byNode.get(nid);
  if (!n) continue;
  const fn = n.callFrame.functionName || "(anonymous)";
  if (fn === "(idle)" || fn === "(program)") continue;
  total += us;
  const w = fn === "(garbage collector)" ? "(garbage collector)" : where(n.callFrame.url);
  byWhere.set(w, (byWhere.get(w) ?? 0) + us);
  const f = `${fn} ${where(n.callFrame.url)}:${n.callFrame.lineNumber + 1}`;
  byFn.set(f, (byFn.get(f) ?? 0) + us);
}
const top = (m: Map<string, number>, k: number) =>
  [...m.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, k)
    .map(([name, us]) => `| ${name} | ${fmt(us / 1000)} | ${((us / total) * 100).toFixed(1)}% |`)
    .join("\n");
console.log(`### Node CPU during one ingest of ${fmt(N)} accounts through the API
Wall ${fmt(ms)} ms; node CPU ${fmt((cpu.user + cpu.system) / 1000)} ms; profiled non-idle ${fmt(total / 1000)} ms.

| package / file (self time) | ms | share |
|---|---:|---:|
${top(byWhere, 25)}

| function (self time) | ms | share |
|---|---:|---:|
${top(byFn, 30)}`);
await stack.stop();
process.exit(0);
