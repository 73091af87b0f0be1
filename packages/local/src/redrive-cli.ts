import { parseArgs } from "node:util";
import { GetQueueUrlCommand, SQSClient } from "@aws-sdk/client-sqs";
import { dlqName, QUEUES } from "@icp/store";
import { redriveDlq } from "./redrive.js";

const NAMES = QUEUES.map((q) => q.name);

const HELP = `npm run redrive -- [options]   move the messages of a DLQ back to its queue
  --queue <name>          ${NAMES.join(" | ")} (the DLQ is <name>Dlq)
  --sqs-endpoint <url>    the local stack's SQS (npm start prints it); queues are found by name
  --prefix <p>            queue name prefix of the local stack (default none)
  --queue-url <url>       AWS: the source queue (default: SST_RESOURCE_<queue> env, as linked by SST)
  --dlq-url <url>         AWS: its DLQ (default: SST_RESOURCE_<queue>Dlq env)
  --include-poison        also move poison messages (those with a reason: not JSON, wrong shape)
  --max <n>               move at most n messages
Without --sqs-endpoint it talks to AWS with the usual credential chain and AWS_REGION.`;

function fail(message: string): never {
  console.error(`${message}\n\n${HELP}`);
  process.exit(2);
}

const { values } = parseArgs({
  options: {
    queue: { type: "string" },
    "sqs-endpoint": { type: "string" },
    prefix: { type: "string" },
    "queue-url": { type: "string" },
    "dlq-url": { type: "string" },
    "include-poison": { type: "boolean" },
    max: { type: "string" },
    help: { type: "boolean", short: "h" },
  },
});
if (values.help) {
  console.log(HELP);
  process.exit(0);
}

const queue = values.queue;
if (queue !== undefined && !NAMES.includes(queue as (typeof NAMES)[number]))
  fail(`unknown queue "${queue}": one of ${NAMES.join(", ")}`);
const max = values.max === undefined ? undefined : Number(values.max);
if (max !== undefined && !(Number.isInteger(max) && max > 0)) fail("--max must be a positive integer");

const endpoint = values["sqs-endpoint"];
const sqs = new SQSClient({
  region: process.env.AWS_REGION ?? "us-east-1",
  ...(endpoint ? { endpoint, credentials: { accessKeyId: "local", secretAccessKey: "local" } } : {}),
});

/** An SST link (`SST_RESOURCE_<name>` = {"url": …}), if this process has it. */
function linkedUrl(name: string): string | undefined {
  const raw = process.env[`SST_RESOURCE_${name}`];
  if (!raw) return undefined;
  try {
    return (JSON.parse(raw) as { url?: string }).url;
  } catch {
    return undefined;
  }
}

async function urlByName(name: string): Promise<string> {
  try {
    const res = await sqs.send(new GetQueueUrlCommand({ QueueName: name }));
    if (res.QueueUrl) return res.QueueUrl;
  } catch {}
  return fail(`no queue named "${name}" at ${endpoint}`);
}

let queueUrl = values["queue-url"];
let dlqUrl = values["dlq-url"];
if (endpoint) {
  if (!queue) fail("--queue is required with --sqs-endpoint");
  const prefix = values.prefix ?? "";
  queueUrl ??= await urlByName(`${prefix}${queue}`);
  dlqUrl ??= await urlByName(`${prefix}${dlqName(queue)}`);
} else if (queue) {
  queueUrl ??= linkedUrl(queue);
  dlqUrl ??= linkedUrl(dlqName(queue));
}
if (!queueUrl || !dlqUrl)
  fail("which queues? give --sqs-endpoint and --queue (local), or --queue-url and --dlq-url (AWS)");

try {
  const res = await redriveDlq(sqs, {
    queueUrl,
    dlqUrl,
    ...(values["include-poison"] ? { includePoison: true } : {}),
    ...(max !== undefined ? { max } : {}),
  });
  console.log(`moved ${res.moved} message(s) from ${dlqUrl}\n                 to ${queueUrl}`);
  if (res.keptPoison) {
    const hint = values["include-poison"] ? "" : " (--include-poison moves them too)";
    console.log(`kept ${res.keptPoison} poison message(s) in the DLQ${hint}:`);
    const reasons = new Map<string, number>();
    for (const r of res.poisonReasons) reasons.set(r, (reasons.get(r) ?? 0) + 1);
    for (const [r, n] of reasons) console.log(`  - ${r}${n > 1 ? ` (x${n})` : ""}`);
  }
  if (res.arrivedDuring)
    console.log(`${res.arrivedDuring} message(s) reached the DLQ during the run (failing again?): left there`);
} catch (e) {
  console.error(`redrive failed: ${(e as Error).message}`);
  process.exit(1);
} finally {
  sqs.destroy();
}
