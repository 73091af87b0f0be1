import { parseArgs } from "node:util";
import { getImport, sleep } from "@icp/store";
import { DEMO_WORKSPACE, seedDemoEngagement } from "./seed.js";
import { startStack } from "./stack.js";

const HELP = `npm start -- [options]
  --port <n>          API port (default $PORT or 3000; 0 = any free port)
  --host <addr>       API bind address (default 127.0.0.1)
  --persist <dir>     keep DynamoDB data in <dir> across restarts (default: in memory)
  --dynamo-port <n>   DynamoDB Local port (default: a free port)
  --no-seed           do not load demo data
env: ICP_API_KEY (default local-dev-key)`;

const started = Date.now();
const { values } = parseArgs({
  options: {
    port: { type: "string" },
    host: { type: "string" },
    persist: { type: "string" },
    "dynamo-port": { type: "string" },
    "no-seed": { type: "boolean" },
    help: { type: "boolean", short: "h" },
  },
});
if (values.help) {
  console.log(HELP);
  process.exit(0);
}

const apiKey = process.env.ICP_API_KEY || "local-dev-key";
const stack = await startStack({
  port: Number(values.port ?? process.env.PORT ?? 3000),
  host: values.host ?? "127.0.0.1",
  ...(values.persist ? { persistDir: values.persist } : {}),
  ...(values["dynamo-port"] ? { dynamoPort: Number(values["dynamo-port"]) } : {}),
  seed: !values["no-seed"],
  apiKey,
});

let stopping = false;
const shutdown = async (signal: string) => {
  if (stopping) {
    // A second Ctrl-C: leave now (the exit hook still stops DynamoDB Local).
    console.log(`\n${signal} again: exiting without waiting for the workers.`);
    process.exit(130);
  }
  stopping = true;
  console.log(`\n${signal}: stopping (API, workers, SQS, DynamoDB Local)…`);
  // In memory there is nothing to keep: exit at once (the exit hook stops DynamoDB Local) rather
  // than drain workers whose writes are about to vanish. Persisted, let them finish first.
  if (!values.persist) process.exit(0);
  setTimeout(() => {
    console.log("Workers did not stop within 20 s: exiting anyway.");
    process.exit(1);
  }, 20_000).unref();
  await stack.stop();
  process.exit(0);
};
process.on("SIGINT", () => void shutdown("SIGINT"));
process.on("SIGTERM", () => void shutdown("SIGTERM"));

const u = stack.url;
console.log(`
icp-sequencer local stack ready in ${((Date.now() - started) / 1000).toFixed(1)} s

  API        ${u}            health: ${u}/health
  Docs       ${u}/docs       OpenAPI: ${u}/openapi.json
  Dashboard  ${u}/dashboard  (asks for the API key once per browser tab)
  Workspace  ${DEMO_WORKSPACE}
  API key    ${apiKey}
  DynamoDB   ${stack.cfg.dynamoEndpoint}${values.persist ? ` (data kept in ${values.persist})` : " (in memory)"}
  SQS        ${stack.cfg.sqsEndpoint}  queues: ${Object.keys(stack.queues).join(", ")} (+ DLQs)
  Mail       ${u}/v1/mail   captured by the local SMTP server at ${stack.smtp.url}
  Links      ${stack.settings.publicUrl}   (open, click and unsubscribe links in mail point here)
${stack.seeded?.importId ? `  Demo data  ICP "SaaS scale-ups" + 300 accounts importing (${stack.seeded.importId})\n` : ""}
Try:
  curl -s -H "Authorization: Bearer ${apiKey}" "${u}/v1/accounts?tier=priority&limit=5"
  curl -s -H "Authorization: Bearer ${apiKey}" -H "Content-Type: text/csv" --data-binary @test/fixtures/accounts.csv ${u}/v1/imports

Ctrl-C stops everything.`);

if (stack.seeded?.importId) {
  const id = stack.seeded.importId;
  const t0 = Date.now();
  for (;;) {
    const job = await getImport(stack.store, DEMO_WORKSPACE, id);
    if (!job || job.status === "completed" || job.status === "failed" || Date.now() - t0 > 60_000) {
      if (job)
        console.log(`Demo import ${job.status}: ${job.accepted} rows accepted, ${job.accounts} accounts scored.`);
      break;
    }
    await sleep(250);
  }
  // Then ~60 days of engagement, so the dashboard tells a story on first run.
  const t1 = Date.now();
  const eng = await seedDemoEngagement(stack.store, id).catch((e: unknown) => {
    // Ctrl-C during seeding stops DynamoDB Local under it: not a failure worth a stack trace.
    if (!stopping) console.error("Demo engagement failed:", e);
    return undefined;
  });
  if (eng)
    console.log(
      `Demo engagement recorded: ${eng.recorded} events for ${eng.accounts} accounts over 60 days ` +
        `(${((Date.now() - t1) / 1000).toFixed(1)} s). Dashboard: ${u}/dashboard`,
    );
}
