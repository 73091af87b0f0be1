/**
 * Event intake end to end on DynamoDB Local: POST /v1/events (500 per request) → EventQueue →
 * functions/events.ts worker → timeline, markers, counters. Every message is delivered twice
 * more (the same body re-published on the queue, as SQS redelivery would), so the run proves
 * 0 lost and 0 double counted while measuring events/s.
 *
 *   npx tsx bench/events.ts            env: BENCH_EVENTS (20000), BENCH_ACCOUNTS (2000)
 */
import { loadavg } from "node:os";
import { GetQueueAttributesCommand } from "@aws-sdk/client-sqs";
import { type EngagementEventsMessage, EventInput, type StoredEvent } from "@icp/core";
import { startStack } from "@icp/local";
import {
  accountItem,
  batchPut,
  engagementReport,
  ensureWorkspace,
  eventsBetween,
  publish,
  putApiKey,
} from "@icp/store";

const N_EVENTS = Number(process.env.BENCH_EVENTS ?? 20_000);
const N_ACCOUNTS = Number(process.env.BENCH_ACCOUNTS ?? 2_000);
// 500 events (~130 KB) make one queue message, so the re-published copies are byte-identical to it.
const PER_REQUEST = 500;
const log = (...a: unknown[]) => console.error("[bench:events]", ...a);

async function main() {
  const stack = await startStack({ port: 0, seed: false, schedules: false, retryDelay: 1, onWorkerError: () => {} });
  const ws = "benchevents";
  const key = "bench-events-key-123456";
  await ensureWorkspace(stack.store, ws, "bench");
  await putApiKey(stack.store, ws, key, "bench");
  const now = new Date().toISOString();
  const segments = ["saas", "fintech", "industrial", "health"];
  const tiers = ["priority", "nurture", "generic"];
  const accounts = Array.from({ length: N_ACCOUNTS }, (_, i) => ({
    id: `acc_${String(i).padStart(26, "0")}`,
    domain: `intake-${i}.example`,
    facts: { domain: `intake-${i}.example` },
    score: 50,
    tier: tiers[i % 3] as string,
    qualified: i % 3 === 0,
    breakdown: [],
    icpId: "icp_BENCH",
    icpVersion: 1,
    segment: segments[i % 4] as string,
    tierHistory: [],
    lastSource: "bench",
    rev: 1,
    contacts: [],
    createdAt: now,
    updatedAt: now,
  }));
  await batchPut(
    stack.store,
    accounts.map((a) => accountItem(ws, a as never)),
    8,
  );
  const types = ["sent", "delivered", "opened", "clicked", "replied"] as const;
  const day = now.slice(0, 10);
  const events: StoredEvent[] = Array.from({ length: N_EVENTS }, (_, i) => ({
    id: `in_${i}`,
    type: types[i % types.length] as StoredEvent["type"],
    accountId: (accounts[(i * 7919) % N_ACCOUNTS] as { id: string }).id,
    sequenceId: `seq_${i % 3}`,
    sequenceVersion: 1,
    stepId: `s${i % 4}`,
    variant: i % 2 ? "A" : "B",
    channel: "email",
    at: new Date(Date.parse(`${day}T00:00:00.000Z`) + (i % 86_400) * 1000).toISOString(),
  }));
  const requests: StoredEvent[][] = [];
  for (let i = 0; i < events.length; i += PER_REQUEST) requests.push(events.slice(i, i + PER_REQUEST));
  log(
    `load ${loadavg()
      .map((x) => x.toFixed(1))
      .join(" ")}; ${N_EVENTS} events in ${requests.length} requests`,
  );

  const t0 = performance.now();
  let accepted = 0;
  let next = 0;
  const client = async () => {
    while (next < requests.length) {
      const batch = requests[next++] as StoredEvent[];
      for (;;) {
        let res: Response;
        try {
          res = await fetch(`${stack.url}/v1/events`, {
            method: "POST",
            headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
            body: JSON.stringify(batch),
          });
        } catch {
          await new Promise((r) => setTimeout(r, 200)); // connection closed under load shedding: retry
          continue;
        }
        if (res.status === 503) {
          await res.text();
          await new Promise((r) => setTimeout(r, 200)); // shed under load: the client retries, as it should
          continue;
        }
        if (res.status !== 202) throw new Error(`${res.status} ${await res.text()}`);
        accepted += (await res.json()).accepted;
        // Redelivery: the same message body twice more on the queue.
        // Built exactly as publishEvents builds it (parsed input, then id and time), so the body is identical.
        const same = batch.map((e) => ({ ...EventInput.parse(e), id: e.id, at: e.at }));
        const msg: EngagementEventsMessage = { kind: "engagement-events", workspaceId: ws, events: same };
        await publish(stack.store, "EventQueue", [msg, msg]);
        break;
      }
    }
  };
  await Promise.all(Array.from({ length: 4 }, client));
  const acceptedMs = performance.now() - t0;
  let zero = 0;
  for (;;) {
    const a = await stack.store.sqs.send(
      new GetQueueAttributesCommand({
        QueueUrl: stack.queues.EventQueue?.url,
        AttributeNames: ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
      }),
    );
    const left =
      Number(a.Attributes?.ApproximateNumberOfMessages) + Number(a.Attributes?.ApproximateNumberOfMessagesNotVisible);
    zero = left === 0 ? zero + 1 : 0;
    if (zero >= 2) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  const doneMs = performance.now() - t0;
  const dlq = await stack.store.sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: stack.queues.EventQueue?.dlqUrl,
      AttributeNames: ["ApproximateNumberOfMessages"],
    }),
  );
  const rep = await engagementReport(stack.store, ws, { groupBy: "segment", from: day, to: day });
  const stored = await eventsBetween(stack.store, ws, day, day);
  const result = {
    load: loadavg().map((x) => Math.round(x * 10) / 10),
    events: N_EVENTS,
    accepted,
    messages: requests.length,
    deliveries: requests.length * 3,
    acceptedMs: Math.round(acceptedMs),
    endToEndMs: Math.round(doneMs),
    eventsPerSecond: Math.round(N_EVENTS / (doneMs / 1000)),
    countedEvents: rep.totals.events,
    storedEvents: stored.length,
    lost: N_EVENTS - rep.totals.events,
    doubleCounted: Math.max(0, rep.totals.events - N_EVENTS),
    dlq: Number(dlq.Attributes?.ApproximateNumberOfMessages),
    targets: {
      atLeast1000PerSecond: N_EVENTS / (doneMs / 1000) >= 1000,
      zeroLost: rep.totals.events === N_EVENTS && stored.length === N_EVENTS,
    },
  };
  console.log(JSON.stringify(result, null, 2));
  await stack.stop();
}

main().then(
  () => process.exit(0),
  (e) => {
    console.error(e);
    process.exit(1);
  },
);
