/**
 * All benchmarks in sequence, each in its own process (own heap, own stack, nothing left
 * running between them): scoring, ingest, startup. Writes bench/out/results.json and prints
 * a markdown summary.
 *
 *   npm run bench            (= tsx bench/run-all.ts)
 *   env: BENCH_ONLY=scoring,ingest,startup   and the benches' own BENCH_* variables
 */
import { spawn } from "node:child_process";
import { existsSync, readFileSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { loadavg } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { type BenchResult, fmt, machine, writeJson } from "./lib.js";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const OUT = join(ROOT, "bench", "out");
const BENCHES = ["scoring", "ingest", "startup"] as const;
const tsxCli = createRequire(import.meta.url).resolve("tsx/cli");

function runBench(name: string): Promise<{ result?: BenchResult; code: number | null; ms: number }> {
  const json = join(OUT, `${name}.json`);
  rmSync(json, { force: true });
  const t0 = performance.now();
  return new Promise((r) => {
    const child = spawn(process.execPath, [tsxCli, join("bench", `${name}.ts`), "--json", json], {
      cwd: ROOT,
      stdio: "inherit",
      env: { ...process.env, NODE_NO_WARNINGS: "1" },
    });
    child.once("exit", (code) => {
      const ms = performance.now() - t0;
      const result = existsSync(json) ? (JSON.parse(readFileSync(json, "utf8")) as BenchResult) : undefined;
      r({ ...(result ? { result } : {}), code, ms });
    });
  });
}

const only = process.env.BENCH_ONLY?.split(",");
const started = Date.now();
const facts = { ...machine(), loadavgBefore: loadavg() };
const results: Record<string, BenchResult | { failed: true; exitCode: number | null }> = {};
const sections: string[] = [];
for (const name of BENCHES) {
  if (only && !only.includes(name)) continue;
  console.error(`\n[bench] === ${name} ===`);
  const { result, code, ms } = await runBench(name);
  if (!result || code !== 0) {
    results[name] = { failed: true, exitCode: code };
    sections.push(`### ${name}\nFAILED (exit ${code}) after ${fmt(ms)} ms`);
    continue;
  }
  results[name] = result;
  sections.push(result.summary);
}
const totalMs = Date.now() - started;
const all = Object.values(results);
const targets = all.flatMap((r) => ("targets" in r ? r.targets : []));
const failed = all.filter((r) => "failed" in r).length;
writeJson(join(OUT, "results.json"), {
  machine: { ...facts, loadavgAfter: loadavg() },
  command: "npm run bench",
  totalMs,
  results,
});
console.log(`
## Benchmarks — ${facts.date}
Machine: ${facts.cores} cores (${facts.cpu}), Node ${facts.node}, ${facts.platform}; load average before ${facts.loadavgBefore.map((l) => l.toFixed(2)).join(" ")}, after ${loadavg()
  .map((l) => l.toFixed(2))
  .join(" ")}.
Command: \`npm run bench\` — total ${fmt(totalMs / 1000, 1)} s. Raw numbers: bench/out/results.json.

${sections.join("\n\n")}

### Targets
${targets.map((t) => `- ${t.met ? "MET" : "NOT MET"}: ${t.name}: ${t.value} (target ${t.target})`).join("\n")}${failed ? `\n- ${failed} bench(es) FAILED` : ""}
`);
process.exit(failed ? 1 : 0);
