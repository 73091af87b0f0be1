/**
 * Inbound mail classification on one core: accuracy over the fixture corpus (test/fixtures/mail,
 * expected results in its expected.json; target 100 %), then messages/s through
 * `parseInbound` (mailparser) + `classifyInbound`, round-robin over the corpus's .eml files.
 * Baselines in the same run: `parseInbound` alone (and `classifyInbound` alone on pre-parsed
 * messages), so the result reads as "classification
 * costs N% on top of MIME parsing".
 *
 *   npx tsx bench/inbound-classify.ts [--json bench/out/inbound-classify.json]
 */
import { isDeepStrictEqual } from "node:util";
import { classifyInbound, type InboundMessage, parseInbound } from "@icp/core";
import { classifyFile, corpusFiles, expectedResults } from "../test/unit/inbound/corpus.js";
import { type BenchResult, fmt, isMain, log, median, runAsScript, targetLines } from "./lib.js";

const RUN_MS = Number(process.env.BENCH_INBOUND_MS ?? 2_000);
const WARMUP_MS = 500;
const ROUNDS = 3;

/** Messages/s of `body` over `raws`, round-robin, for `ms`. Sequential: one core. */
async function timed(raws: readonly Buffer[], ms: number, body: (raw: Buffer) => Promise<unknown>): Promise<number> {
  let n = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < ms) {
    await body(raws[n % raws.length] as Buffer);
    n++;
  }
  return n / ((performance.now() - t0) / 1000);
}

async function accuracy(): Promise<{ total: number; correct: number; wrong: string[] }> {
  const expected = expectedResults();
  const wrong: string[] = [];
  const files = corpusFiles();
  for (const file of files) {
    if (!isDeepStrictEqual(await classifyFile(file), expected[file.name])) wrong.push(file.name);
  }
  return { total: files.length, correct: files.length - wrong.length, wrong };
}

export async function run(): Promise<BenchResult> {
  const started = Date.now();
  const startedAt = new Date().toISOString();
  const acc = await accuracy();
  log(`inbound: ${acc.correct}/${acc.total} correct${acc.wrong.length ? `; wrong: ${acc.wrong.join(", ")}` : ""}`);

  const emls = corpusFiles().filter((f) => f.kind === "eml");
  const raws = emls.map((f) => f.raw);
  const full = async (raw: Buffer) => classifyInbound(await parseInbound(raw));
  await timed(raws, WARMUP_MS, full);
  await timed(raws, WARMUP_MS, parseInbound);
  const parsed = await Promise.all(raws.map((r) => parseInbound(r)));
  let k = 0;
  const classifyOnly = await timed(raws, RUN_MS / 2, async () =>
    classifyInbound(parsed[k++ % parsed.length] as InboundMessage),
  );
  const both: number[] = [];
  const parseOnly: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    parseOnly.push(await timed(raws, RUN_MS / 2, parseInbound));
    both.push(await timed(raws, RUN_MS, full));
    log(
      `inbound round ${round + 1}: ${fmt(both.at(-1) ?? 0)} msg/s parsed+classified (parse only ${fmt(parseOnly.at(-1) ?? 0)})`,
    );
  }
  const perSecond = median(both);
  const parsePerSecond = median(parseOnly);
  const share = perSecond / classifyOnly; // classification's time over the whole per-message time
  const pct = (100 * acc.correct) / acc.total;
  const targets = [
    {
      name: "classification correct over the corpus",
      target: "100 %",
      value: `${fmt(pct, 1)} % (${acc.correct}/${acc.total})`,
      met: acc.correct === acc.total,
    },
  ];
  const bytes = raws.reduce((s, r) => s + r.length, 0);
  const summary = `### Inbound classification (one core, bench/inbound-classify.ts)
| measurement | messages/s (median of ${ROUNDS}) | runs |
|---|---:|---|
| parseInbound + classifyInbound | ${fmt(perSecond)} | ${both.map((x) => fmt(x)).join(", ")} |
| baseline: parseInbound alone | ${fmt(parsePerSecond)} | ${parseOnly.map((x) => fmt(x)).join(", ")} |
| classifyInbound alone (pre-parsed, one run after warm-up) | ${fmt(classifyOnly)} | |

Corpus: ${acc.total} fixtures (${emls.length} .eml, mean ${fmt(bytes / emls.length)} bytes; ${acc.total - emls.length} SES/SNS JSON); classification is ~${fmt(100 * share, 0)} % of the time per message (${fmt(1000 / classifyOnly, 2)} ms), MIME parsing the rest.

${targetLines(targets)}`;
  return {
    name: "inbound-classify",
    command: "npx tsx bench/inbound-classify.ts",
    startedAt,
    durationMs: Date.now() - started,
    targets,
    summary,
    data: { accuracy: acc, perSecond, parsePerSecond, classifyOnly, rounds: { both, parseOnly } },
  };
}

if (isMain(import.meta.url)) await runAsScript(run);
