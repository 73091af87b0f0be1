/**
 * `npm start` until /health answers, and a clean stop: the child runs in its own process
 * group, is stopped with SIGINT to the group, and no DynamoDBLocal.jar of that group may
 * remain. Baseline in the same run: DynamoDB Local alone (startDynamoLocal) until it answers.
 *
 *   npx tsx bench/startup.ts [--json bench/out/startup.json]
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { createRequire } from "node:module";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { freePort, QUICK_START_JVM_OPTIONS, startDynamoLocal } from "@icp/local";
import { type BenchResult, fmt, isMain, log, max, median, ratio, runAsScript, sleep, targetLines } from "./lib.js";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const tsxCli = createRequire(import.meta.url).resolve("tsx/cli");
/** The JVM itself, not the watchdog shell whose command line also names the jar. */
const JAVA_DDB = "^java .*DynamoDBLocal\\.jar";
const REPS = Number(process.env.BENCH_STARTUP_REPS ?? 3);
const TARGET_MS = 10_000;

type StartRun = {
  seed: boolean;
  port: number;
  healthMs: number;
  /** When main.ts printed "ready" (after seeding, when seeded). */
  readyMs: number | null;
  /** Seeded only: when the demo import reported completed. */
  demoImportMs: number | null;
  stopMs: number;
  javaPids: number[];
  javaLeft: number[];
  groupLeft: number[];
  exitCode: number | null;
  signal: string | null;
};

function pgrep(args: string[]): number[] {
  try {
    return execFileSync("pgrep", args, { encoding: "utf8" }).split("\n").filter(Boolean).map(Number);
  } catch {
    return []; // pgrep exits 1 when nothing matches
  }
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

async function health(url: string): Promise<boolean> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(1000) });
    await res.arrayBuffer();
    return res.status === 200;
  } catch {
    return false;
  }
}

function exited(child: ChildProcess): Promise<void> {
  return child.exitCode !== null || child.signalCode !== null
    ? Promise.resolve()
    : new Promise((r) => child.once("exit", () => r()));
}

async function startOnce(seed: boolean): Promise<StartRun> {
  const port = await freePort();
  const args = ["start", "--", "--port", String(port), ...(seed ? [] : ["--no-seed"])];
  const t0 = performance.now();
  const child = spawn("npm", args, {
    cwd: ROOT,
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env },
  });
  const pgid = child.pid as number;
  let out = "";
  let readyMs: number | null = null;
  let demoImportMs: number | null = null;
  child.stdout?.on("data", (d: Buffer) => {
    out += d.toString();
    if (readyMs === null && out.includes("local stack ready")) readyMs = performance.now() - t0;
    if (demoImportMs === null && /Demo import \w+:/.test(out)) demoImportMs = performance.now() - t0;
  });
  child.stderr?.on("data", (d: Buffer) => {
    out += d.toString();
  });
  const stopGroup = async (): Promise<number> => {
    const s0 = performance.now();
    try {
      process.kill(-pgid, "SIGINT");
    } catch {}
    const deadline = Date.now() + 15_000;
    while (
      Date.now() < deadline &&
      (pgrep(["-g", String(pgid)]).length > 0 || !(child.exitCode !== null || child.signalCode !== null))
    )
      await sleep(50);
    return performance.now() - s0;
  };
  try {
    let healthMs = Number.NaN;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`npm start exited ${child.exitCode}: ${out.slice(-2000)}`);
      if (await health(`http://127.0.0.1:${port}/health`)) {
        healthMs = performance.now() - t0;
        break;
      }
      if (performance.now() - t0 > 60_000) throw new Error(`no /health within 60 s: ${out.slice(-2000)}`);
      await sleep(25);
    }
    // Seeded: also wait for the demo import (main.ts prints its outcome), up to 60 s.
    while ((readyMs === null || (seed && demoImportMs === null)) && performance.now() - t0 < 60_000) await sleep(25);
    const javaPids = pgrep(["-g", String(pgid), "-f", JAVA_DDB]);
    const stopMs = await stopGroup();
    await Promise.race([exited(child), sleep(2000)]);
    const javaLeft = javaPids.filter(alive);
    const groupLeft = pgrep(["-g", String(pgid)]);
    return {
      seed,
      port,
      healthMs,
      readyMs,
      demoImportMs,
      stopMs,
      javaPids,
      javaLeft: [...new Set([...javaLeft, ...pgrep(["-g", String(pgid), "-f", JAVA_DDB])])],
      groupLeft,
      exitCode: child.exitCode,
      signal: child.signalCode,
    };
  } finally {
    // Whatever happened, leave nothing of this group behind.
    if (pgrep(["-g", String(pgid)]).length > 0) {
      try {
        process.kill(-pgid, "SIGKILL");
      } catch {}
    }
  }
}

/** A fresh tsx process loading the stack and every handler module (bench/profile/import-time.ts). */
function importsOnce(): Promise<{ wallMs: number; importMs: number }> {
  const t0 = performance.now();
  return new Promise((r, reject) => {
    const child = spawn(process.execPath, [tsxCli, "bench/profile/import-time.ts"], {
      cwd: ROOT,
      stdio: ["ignore", "pipe", "inherit"],
      env: { ...process.env, NODE_NO_WARNINGS: "1" },
    });
    let out = "";
    child.stdout?.on("data", (d: Buffer) => {
      out += d.toString();
    });
    child.once("error", reject);
    child.once("exit", () => {
      const m = /IMPORT_MS (\d+)/.exec(out);
      r({ wallMs: performance.now() - t0, importMs: m ? Number(m[1]) : Number.NaN });
    });
  });
}

async function dynamoOnce(): Promise<number> {
  const t0 = performance.now();
  const d = await startDynamoLocal({ jvmOptions: QUICK_START_JVM_OPTIONS }); // as startStack starts it
  const ms = performance.now() - t0;
  await d.stop();
  return ms;
}

export async function run(): Promise<BenchResult> {
  const started = Date.now();
  const startedAt = new Date().toISOString();
  const jarsBefore = pgrep(["-f", JAVA_DDB]).length;
  const starts: StartRun[] = [];
  const dynamo: number[] = [];
  const imports: { wallMs: number; importMs: number }[] = [];
  for (let i = 0; i < REPS; i++) {
    const d = await dynamoOnce();
    dynamo.push(d);
    log(`startup: DynamoDB Local alone answered in ${fmt(d)} ms`);
    const im = await importsOnce();
    imports.push(im);
    log(
      `startup: tsx process loading the stack + handler modules: ${fmt(im.wallMs)} ms (imports ${fmt(im.importMs)} ms)`,
    );
    const s = await startOnce(false);
    starts.push(s);
    log(
      `startup: npm start --no-seed: /health in ${fmt(s.healthMs)} ms, stopped in ${fmt(s.stopMs)} ms, java ${s.javaPids.join(",") || "-"} left ${s.javaLeft.length}`,
    );
  }
  const seeded = await startOnce(true);
  log(
    `startup: npm start (seeded): /health in ${fmt(seeded.healthMs)} ms, ready ${fmt(seeded.readyMs ?? Number.NaN)} ms, demo import ${fmt(seeded.demoImportMs ?? Number.NaN)} ms, java left ${seeded.javaLeft.length}`,
  );
  const jarsAfter = pgrep(["-f", JAVA_DDB]).length;

  const health = starts.map((s) => s.healthMs);
  const med = median(health);
  const worst = max([...health, seeded.healthMs]);
  const dMed = median(dynamo);
  const iMed = median(imports.map((x) => x.wallMs));
  const all = [...starts, seeded];
  const leftovers = all.reduce((n, s) => n + s.javaLeft.length + s.groupLeft.length, 0);
  const javaSeen = all.every((s) => s.javaPids.length === 1);
  const targets = [
    {
      name: "npm start -> /health 200 (no seed), median",
      target: `< ${fmt(TARGET_MS)} ms`,
      value: `${fmt(med)} ms`,
      met: med < TARGET_MS,
    },
    {
      name: "npm start -> /health 200, max of all runs (incl. seeded)",
      target: `< ${fmt(TARGET_MS)} ms`,
      value: `${fmt(worst)} ms`,
      met: worst < TARGET_MS,
    },
    {
      name: "SIGINT to the process group leaves no DynamoDBLocal.jar (nor any process) of the group",
      target: "0 left",
      value: `${leftovers} left (DynamoDB Local JVM seen in every run: ${javaSeen ? "yes" : "no"})`,
      met: leftovers === 0 && javaSeen,
    },
  ];
  const row = (s: StartRun, i: number | string) =>
    `| ${i} | ${s.seed ? "seeded" : "--no-seed"} | ${fmt(s.healthMs)} | ${s.readyMs === null ? "-" : fmt(s.readyMs)} | ${s.demoImportMs === null ? "-" : fmt(s.demoImportMs)} | ${fmt(s.stopMs)} | ${s.javaPids.join(",") || "none"} | ${s.javaLeft.length} / ${s.groupLeft.length} | ${s.exitCode ?? s.signal} |`;
  const summary = `### Startup (\`npm start\`, own process group, SIGINT to the group)
| # | mode | /health 200 ms | "ready" printed ms | demo import done ms | stop ms | DynamoDBLocal.jar pid | java / group procs left | exit |
|---|---|---:|---:|---:|---:|---|---|---|
${starts.map((s, i) => row(s, i + 1)).join("\n")}
${row(seeded, "S")}

DynamoDB Local alone (startDynamoLocal, same run): ${dynamo.map((d) => fmt(d)).join(", ")} ms, median ${fmt(dMed)} ms.
A fresh tsx process loading the stack and all handler modules, no DynamoDB (bench/profile/import-time.ts): ${imports.map((x) => fmt(x.wallMs)).join(", ")} ms to exit (imports alone ${imports.map((x) => fmt(x.importMs)).join(", ")} ms), median ${fmt(iMed)} ms.
DynamoDB Local + module loading one after the other would be ${fmt(dMed + iMed)} ms; startStack overlaps them (handler modules load while the JVM starts), bound max(${fmt(dMed)}, ${fmt(iMed)}) = ${fmt(Math.max(dMed, iMed))} ms plus table, queues and server.
\`npm start --no-seed\` median ${fmt(med)} ms (max ${fmt(max(health))} ms) = **${fmt(ratio(med, dMed), 2)}x** DynamoDB Local alone.
DynamoDBLocal.jar processes on the machine (any owner): ${jarsBefore} before, ${jarsAfter} after.

${targetLines(targets)}`;
  return {
    name: "startup",
    command: "npx tsx bench/startup.ts",
    startedAt,
    durationMs: Date.now() - started,
    targets,
    summary,
    data: {
      reps: REPS,
      starts,
      seeded,
      dynamoAloneMs: dynamo,
      importsAlone: imports,
      medianImportsWallMs: iMed,
      medianHealthMs: med,
      maxHealthMs: worst,
      medianDynamoMs: dMed,
      ratioToDynamo: ratio(med, dMed),
      jarsOnMachineBefore: jarsBefore,
      jarsOnMachineAfter: jarsAfter,
    },
  };
}

if (isMain(import.meta.url)) await runAsScript(run);
