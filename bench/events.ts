/**
 * Event intake end to end on DynamoDB Local: POST /v1/events (500 per request) → EventQueue →
 * functions/events.ts worker → timeline, markers, counters. One stack, several phases in one run:
 *
 * - `ceiling`: plain BatchWriteItem (25 per request, 8 in flight) of the same N timeline items the
 *   worker writes (timelineItem, with the GSI attributes), into a workspace of its own. This is
 *   the most any intake that stores one item per event can reach on this DynamoDB Local now.
 * - `single`: every message delivered once (what SQS does normally).
 * - `redelivery`: every message delivered 3 times, the two extra copies put on the queue right
 *   after the 202, so they run concurrently with the first: proves 0 lost and 0 double counted.
 *
 * Each intake phase has its own workspace and accounts. The ceiling is measured before and after
 * the intake phases (same run, same DynamoDB Local), so the ratio is fair on a noisy machine.
 *
 *   npx tsx bench/events.ts
 *   env: BENCH_EVENTS (20000), BENCH_ACCOUNTS (2000),
 *        BENCH_PHASES (default "ceiling,single,redelivery,ceiling"),
 *        BENCH_JVM=full (DynamoDB Local with DYNAMO_JVM_OPTIONS instead of startStack's quick-start flags)
 */
import { loadavg } from "node:os";
import { GetQueueAttributesCommand } from "@aws-sdk/client-sqs";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { type EngagementEventsMessage, EventInput, type StoredEvent } from "@icp/core";
import { DYNAMO_JVM_OPTIONS, type Stack, startStack } from "@icp/local";
import {
  accountItem,
  batchPut,
  engagementReport,
  ensureWorkspace,
  eventsBetween,
  publish,
  putApiKey,
  timelineItem,
} from "@icp/store";
import { benchAccount } from "./lib.js";

const N_EVENTS = Number(process.env.BENCH_EVENTS ?? 20_000);
const N_ACCOUNTS = Number(process.env.BENCH_ACCOUNTS ?? 2_000);
const PHASES = (process.env.BENCH_PHASES ?? "ceiling,single,redelivery,ceiling").split(",").map((s) => s.trim());
// 500 events (~130 KB) make one queue message, so the re-published copies are byte-identical to it.
const PER_REQUEST = 500;
const log = (...a: unknown[]) => console.error("[bench:events]", ...a);
const load = () => loadavg().map((x) => Math.round(x * 10) / 10);

const now = new Date().toISOString();
const day = now.slice(0, 10);
const segments = ["saas", "fintech", "industrial", "health"];
const tiers = ["priority", "nurture", "generic"];
const accounts = Array.from({ length: N_ACCOUNTS }, (_, i) =>
  benchAccount(i, "intake", now, {
    score: 50,
    tier: tiers[i % 3] as string,
    qualified: i % 3 === 0,
    segment: segments[i % 4] as string,
  }),
);
const types = ["sent", "delivered", "opened", "clicked", "replied"] as const;
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

/** Raw BatchWriteItem of the N timeline items (8 requests of 25 in flight): items/s. */
async function ceiling(stack: Stack, run: number) {
  const ws = `benchceiling${run}`;
  const byId = new Map(accounts.map((a) => [a.id, a]));
  const items = events.map((e) => {
    const a = byId.get(e.accountId as string) as (typeof accounts)[number];
    const dims = { segment: a.segment, tier: a.tier, qualified: a.qualified, icpId: a.icpId, icpVersion: a.icpVersion };
    return timelineItem(ws, e, dims);
  });
  const before = load();
  const t0 = performance.now();
  await batchPut(stack.store, items, 8);
  const ms = performance.now() - t0;
  return {
    phase: "ceiling",
    load: [before, load()],
    items: items.length,
    ms: Math.round(ms),
    itemsPerSecond: Math.round(items.length / (ms / 1000)),
  };
}

async function queueEmpty(stack: Stack) {
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
    if (zero >= 2) return;
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function dlqDepth(stack: Stack) {
  const dlq = await stack.store.sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: stack.queues.EventQueue?.dlqUrl,
      AttributeNames: ["ApproximateNumberOfMessages"],
    }),
  );
  return Number(dlq.Attributes?.ApproximateNumberOfMessages);
}

/** POST every event (4 clients, 500 per request); `copies` - 1 extra deliveries of each message. */
async function intake(stack: Stack, run: number, copies: number) {
  const ws = `benchevents${run}`;
  const key = `bench-events-key-${run}-123456`;
  await ensureWorkspace(stack.store, ws, "bench");
  await putApiKey(stack.store, ws, key, "bench");
  await batchPut(
    stack.store,
    accounts.map((a) => accountItem(ws, a as never)),
    8,
  );
  const requests: StoredEvent[][] = [];
  for (let i = 0; i < events.length; i += PER_REQUEST) requests.push(events.slice(i, i + PER_REQUEST));
  const dlqBefore = await dlqDepth(stack);
  const before = load();
  log(
    `${copies === 1 ? "single" : "redelivery"}: load ${before.join(" ")}; ${N_EVENTS} events, ${requests.length} requests`,
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
        if (copies > 1) {
          // Redelivery: the same message body again on the queue, built exactly as publishEvents builds
          // it (parsed input, then id and time), so the body is identical.
          const same = batch.map((e) => ({ ...EventInput.parse(e), id: e.id, at: e.at }));
          const msg: EngagementEventsMessage = { kind: "engagement-events", workspaceId: ws, events: same };
          await publish(
            stack.store,
            "EventQueue",
            Array.from({ length: copies - 1 }, () => msg),
          );
        }
        break;
      }
    }
  };
  await Promise.all(Array.from({ length: 4 }, client));
  const acceptedMs = performance.now() - t0;
  await queueEmpty(stack);
  const doneMs = performance.now() - t0;
  const after = load();
  const rep = await engagementReport(stack.store, ws, { groupBy: "segment", from: day, to: day });
  const stored = await eventsBetween(stack.store, ws, day, day);
  const storedIds = new Set(stored.map((e) => e.id));
  return {
    phase: copies === 1 ? "single" : "redelivery",
    load: [before, after],
    events: N_EVENTS,
    accounts: N_ACCOUNTS,
    accepted,
    messages: requests.length,
    deliveries: requests.length * copies,
    acceptedMs: Math.round(acceptedMs),
    endToEndMs: Math.round(doneMs),
    eventsPerSecond: Math.round(N_EVENTS / (doneMs / 1000)),
    countedEvents: rep.totals.events,
    storedEvents: stored.length,
    lost: Math.max(0, N_EVENTS - rep.totals.events) + Math.max(0, N_EVENTS - storedIds.size),
    doubleCounted: Math.max(0, rep.totals.events - N_EVENTS) + (stored.length - storedIds.size),
    dlq: (await dlqDepth(stack)) - dlqBefore,
  };
}

/**
 * BENCH_PROFILE=1: count DynamoDB requests of the whole process (bench, API and worker) by command,
 * with their items and summed latency, per phase.
 */
const profile = new Map<string, { calls: number; items: number; ms: number }>();
if (process.env.BENCH_PROFILE) {
  const proto = DynamoDBDocumentClient.prototype as unknown as {
    send: (c: unknown, ...r: unknown[]) => Promise<unknown>;
  };
  const send = proto.send;
  proto.send = async function (this: unknown, command: unknown, ...rest: unknown[]) {
    const name = (command as { constructor: { name: string } }).constructor.name.replace(/Command$/, "");
    const input = (command as { input?: Record<string, unknown> }).input ?? {};
    const items =
      name === "BatchWrite" || name === "BatchGet"
        ? Object.values((input.RequestItems ?? {}) as Record<string, unknown>).reduce<number>(
            (n, v) => n + (Array.isArray(v) ? v.length : ((v as { Keys?: unknown[] }).Keys?.length ?? 0)),
            0,
          )
        : name === "TransactWrite"
          ? ((input.TransactItems as unknown[]) ?? []).length
          : 1;
    const t0 = performance.now();
    try {
      return await send.call(this, command, ...rest);
    } finally {
      const p = profile.get(name) ?? { calls: 0, items: 0, ms: 0 };
      p.calls++;
      p.items += items;
      p.ms += performance.now() - t0;
      profile.set(name, p);
    }
  };
}
const takeProfile = () => {
  const out = Object.fromEntries(
    [...profile].map(([k, v]) => [k, { calls: v.calls, items: v.items, ms: Math.round(v.ms) }]),
  );
  profile.clear();
  return out;
};

async function main() {
  const full = process.env.BENCH_JVM === "full";
  const stack = await startStack({
    port: 0,
    seed: false,
    schedules: false,
    retryDelay: 1,
    onWorkerError: () => {},
    ...(full ? { dynamoJvmOptions: DYNAMO_JVM_OPTIONS } : {}),
  });
  log(`DynamoDB Local JVM: ${full ? "DYNAMO_JVM_OPTIONS (full JIT)" : "startStack default (quick start)"}`);
  const results: unknown[] = [];
  takeProfile();
  try {
    for (const [i, phase] of PHASES.entries()) {
      const r =
        phase === "ceiling"
          ? await ceiling(stack, i)
          : phase === "single"
            ? await intake(stack, i, 1)
            : phase === "redelivery"
              ? await intake(stack, i, 3)
              : undefined;
      if (!r) throw new Error(`unknown phase ${phase}`);
      const out = process.env.BENCH_PROFILE ? { ...r, requests: takeProfile() } : r;
      log(JSON.stringify(out));
      results.push(out);
    }
  } finally {
    await stack.stop();
  }
  console.log(JSON.stringify({ jvm: full ? "full" : "quick-start", results }, null, 2));
}

main().then(
  () => process.exit(0),
  (e) => {
    console.error(e);
    process.exit(1);
  },
);
