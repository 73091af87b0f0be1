/**
 * How long a fresh `tsx` process takes to load what `npm start` loads besides DynamoDB Local:
 * the local stack module, fauxqs, and every handler module of the manifest (queues,
 * schedules, API), with their environment set as the stack sets it (dummy endpoints; nothing
 * is called). Prints `IMPORT_MS <ms>` (time inside the process) for bench/startup.ts, which
 * also measures the process's wall time from spawn to exit.
 *
 *   npx tsx bench/profile/import-time.ts
 */
import { dirname, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const t0 = performance.now();
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const store = await import("@icp/store");
const queues = Object.fromEntries(store.QUEUES.map((q) => [q.name, `http://127.0.0.1:1/queue/${q.name}`]));
Object.assign(
  process.env,
  store.configToEnv({
    tableName: "import-time",
    region: "us-east-1",
    queues: queues as Parameters<typeof store.configToEnv>[0]["queues"],
    dynamoEndpoint: "http://127.0.0.1:1",
    sqsEndpoint: "http://127.0.0.1:1",
  }),
);
process.env.POWERTOOLS_METRICS_DISABLED ??= "true";
await import("@icp/local");
await import("fauxqs");
const handlers = [...store.QUEUES.map((q) => q.handler), ...store.SCHEDULES.map((s) => s.handler), store.API.handler];
for (const h of new Set(handlers)) await import(pathToFileURL(`${ROOT}/${h.replace(/\.[a-zA-Z]+$/, "")}.ts`).href);
console.log(`IMPORT_MS ${Math.round(performance.now() - t0)} (${handlers.length} handler modules)`);
process.exit(0);
