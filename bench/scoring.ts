/**
 * Scoring alone, on one core: the demo ICP compiled once, scoring parsed demo accounts in a
 * loop. Baseline in the same run: a loop over the same accounts that only sums `employees`,
 * so the result reads as "scoring costs N times a trivial pass over the data".
 *
 *   npx tsx bench/scoring.ts [--json bench/out/scoring.json]
 */
import { type AccountFacts, compileIcp, DEMO_ICP, demoAccountsCsv, IcpDefinition, parseCsv } from "@icp/core";
import { type BenchResult, fmt, isMain, log, median, ratio, runAsScript, targetLines } from "./lib.js";

const ACCOUNTS = Number(process.env.BENCH_SCORING_ACCOUNTS ?? 200_000);
/** parseCsv refuses more than 100,000 rows per file, so the accounts come from several files. */
const PER_FILE = 50_000;
const RUN_MS = Number(process.env.BENCH_SCORING_MS ?? 2_000);
const WARMUP_MS = 500;
const ROUNDS = 3;
const TARGET_PER_S = 200_000;

type Sample = { domain: string; facts: AccountFacts };

/** Call `body(i)` over the accounts, round-robin, for `ms`; returns accounts/s and a checksum. */
function timed(
  samples: readonly Sample[],
  ms: number,
  body: (s: Sample) => number,
): { perSecond: number; n: number; checksum: number } {
  let n = 0;
  let checksum = 0;
  const t0 = process.hrtime.bigint();
  const until = t0 + BigInt(ms) * 1_000_000n;
  let now = t0;
  while (now < until) {
    // 1,000 accounts between clock reads keeps the clock out of the measurement.
    for (let k = 0; k < 1000; k++) {
      checksum += body(samples[n % samples.length] as Sample);
      n++;
    }
    now = process.hrtime.bigint();
  }
  const seconds = Number(now - t0) / 1e9;
  return { perSecond: n / seconds, n, checksum };
}

export async function run(): Promise<BenchResult> {
  const started = Date.now();
  const startedAt = new Date().toISOString();
  // The demo data's signals are dated relative to 2026-11-20; score "now" on that day so
  // the within-days criterion matches some accounts, as it would on upload day.
  const now = Date.parse("2026-11-20T00:00:00Z");
  const tParse = Date.now();
  const samples: Sample[] = [];
  for (let seed = 1; samples.length < ACCOUNTS; seed++) {
    const parsed = parseCsv(demoAccountsCsv(Math.min(PER_FILE, ACCOUNTS - samples.length), seed), new Date(now));
    for (const r of parsed.rows) {
      const { contacts: _c, ...facts } = r.account;
      samples.push({ domain: r.account.domain, facts });
    }
  }
  const parseMs = Date.now() - tParse;
  log(`scoring: ${fmt(samples.length)} accounts parsed in ${fmt(parseMs)} ms`);

  const icp = compileIcp({ ...IcpDefinition.parse(DEMO_ICP), id: "icp_BENCH00000000000000000000", version: 1 });
  const score = (s: Sample) => icp.score(s.facts, s.domain, now).score;
  const sumEmployees = (s: Sample) => s.facts.employees ?? 0;

  // Warm-up both loops so both are optimized before they are measured.
  timed(samples, WARMUP_MS, score);
  timed(samples, WARMUP_MS, sumEmployees);

  const scoring: number[] = [];
  const baseline: number[] = [];
  let scored = 0;
  let tiers: Record<string, number> = {};
  for (let round = 0; round < ROUNDS; round++) {
    const b = timed(samples, Math.round(RUN_MS / 4), sumEmployees);
    baseline.push(b.perSecond);
    const s = timed(samples, RUN_MS, score);
    scoring.push(s.perSecond);
    scored += s.n;
    log(`scoring round ${round + 1}: ${fmt(s.perSecond)} accounts/s (baseline ${fmt(b.perSecond)}/s)`);
  }
  tiers = {};
  for (const s of samples.slice(0, 20_000)) {
    const t = icp.score(s.facts, s.domain, now).tier;
    tiers[t] = (tiers[t] ?? 0) + 1;
  }

  const perSecond = median(scoring);
  const basePerSecond = median(baseline);
  const costMultiple = ratio(basePerSecond, perSecond);
  const nsPerAccount = 1e9 / perSecond;
  const baseNs = 1e9 / basePerSecond;
  const targets = [
    {
      name: "scoring throughput, one core",
      target: `>= ${fmt(TARGET_PER_S)} accounts/s`,
      value: `${fmt(perSecond)} accounts/s`,
      met: perSecond >= TARGET_PER_S,
    },
  ];
  const summary = `### Scoring (one core, demo ICP)
| measurement | accounts/s (median of ${ROUNDS}) | ns/account | runs |
|---|---:|---:|---|
| score (compiled demo ICP) | ${fmt(perSecond)} | ${fmt(nsPerAccount, 1)} | ${scoring.map((x) => fmt(x)).join(", ")} |
| baseline: sum employees | ${fmt(basePerSecond)} | ${fmt(baseNs, 1)} | ${baseline.map((x) => fmt(x)).join(", ")} |

Scoring costs **${fmt(costMultiple, 1)}x** the trivial loop; ${fmt(samples.length)} distinct parsed accounts, ${fmt(scored)} scored in ${ROUNDS} x ${RUN_MS} ms after ${WARMUP_MS} ms warm-up.
Tier mix of the first 20,000: ${Object.entries(tiers)
    .map(([t, n]) => `${t} ${fmt(n / 200, 1)}%`)
    .join(", ")}.

${targetLines(targets)}`;
  return {
    name: "scoring",
    command: "npx tsx bench/scoring.ts",
    startedAt,
    durationMs: Date.now() - started,
    targets,
    summary,
    data: {
      accounts: samples.length,
      parseMs,
      runMs: RUN_MS,
      rounds: ROUNDS,
      scoringPerSecond: scoring,
      baselinePerSecond: baseline,
      medianScoringPerSecond: perSecond,
      medianBaselinePerSecond: basePerSecond,
      nsPerAccount,
      baselineNsPerAccount: baseNs,
      costMultipleOfBaseline: costMultiple,
      tierMixFirst20k: tiers,
    },
  };
}

if (isMain(import.meta.url)) await runAsScript(run);
