import { mkdirSync, writeFileSync } from "node:fs";
import { cpus } from "node:os";
import { dirname } from "node:path";
import { pathToFileURL } from "node:url";

/** Shared helpers for the benchmarks: statistics, formatting, machine facts, result files. */

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export function median(xs: readonly number[]): number {
  if (!xs.length) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}

export const max = (xs: readonly number[]) => (xs.length ? Math.max(...xs) : Number.NaN);
export const min = (xs: readonly number[]) => (xs.length ? Math.min(...xs) : Number.NaN);

/** 12345.6 -> "12,346"; small numbers keep `digits` decimals. */
export function fmt(n: number, digits = 0): string {
  if (!Number.isFinite(n)) return String(n);
  return n.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

export const ratio = (a: number, b: number) => Math.round((a / b) * 1000) / 1000;

export type Machine = { cores: number; cpu: string; node: string; platform: string; date: string };

export function machine(): Machine {
  const c = cpus();
  return {
    cores: c.length,
    cpu: c[0]?.model ?? "unknown",
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
    date: new Date().toISOString(),
  };
}

/** A target line of the summary: what was measured, against what, and whether it was met. */
export type Target = { name: string; target: string; value: string; met: boolean };

/** Every bench returns this; run-all merges them into bench/out/results.json. */
export type BenchResult = {
  name: string;
  command: string;
  startedAt: string;
  durationMs: number;
  targets: Target[];
  /** Markdown, printed at the end of the bench and in run-all's summary. */
  summary: string;
  data: Record<string, unknown>;
};

/** `--json <file>` on the command line: where to write the result (used by run-all). */
export function jsonArg(argv = process.argv): string | undefined {
  const i = argv.indexOf("--json");
  return i >= 0 ? argv[i + 1] : undefined;
}

export function writeJson(path: string, value: unknown): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, `${JSON.stringify(value, null, 2)}\n`);
}

/** True when `importMetaUrl` is the module node was started with (not imported by another). */
export function isMain(importMetaUrl: string): boolean {
  const entry = process.argv[1];
  return entry !== undefined && pathToFileURL(entry).href === importMetaUrl;
}

/** Run a bench as a script: print its summary, write its JSON when asked, exit. */
export async function runAsScript(run: () => Promise<BenchResult>): Promise<void> {
  try {
    const res = await run();
    console.log(`\n${res.summary}`);
    const out = jsonArg();
    if (out) writeJson(out, res);
    process.exit(0);
  } catch (e) {
    console.error(e);
    process.exit(1);
  }
}

export function targetLines(targets: readonly Target[]): string {
  return targets.map((t) => `- ${t.met ? "MET" : "NOT MET"}: ${t.name}: ${t.value} (target ${t.target})`).join("\n");
}

export const log = (...args: unknown[]) => console.error("[bench]", ...args);

/** An account record for benches that write accounts straight into the table (no import, no scoring). */
export function benchAccount(
  i: number,
  domainPrefix: string,
  now: string,
  f: { tier: string; segment: string; score: number; qualified: boolean },
) {
  const domain = `${domainPrefix}-${i}.example`;
  return {
    id: `acc_${String(i).padStart(26, "0")}`,
    domain,
    facts: { domain },
    ...f,
    breakdown: [],
    icpId: "icp_BENCH",
    icpVersion: 1,
    tierHistory: [],
    lastSource: "bench",
    rev: 1,
    contacts: [],
    createdAt: now,
    updatedAt: now,
  };
}
