import { CreateQueueCommand, GetQueueAttributesCommand } from "@aws-sdk/client-sqs";
import { UpdateCommand } from "@aws-sdk/lib-dynamodb";
import { accountId, type Sender, SendStepMessage, SequenceDefinition } from "@icp/core";
import { startPoller, startStack } from "@icp/local";
import {
  type AccountRecord,
  accountEnrollments,
  accountItem,
  batchPut,
  claimDueSteps,
  coalesceOptions,
  coalesceStats,
  createSender,
  createSequence,
  createStore,
  enroll,
  ensureWorkspace,
  getEnrollment,
  inParallel,
  type MailTransport,
  publish,
  putSendingSettings,
  senderUsage,
  sendStep,
} from "@icp/store";
import { sqsHandler } from "../functions/lib/sqs-batch.js";
import { type BenchResult, fmt, isMain, log, machine, ratio, runAsScript, type Target, targetLines } from "./lib.js";

/**
 * Dispatch: N due steps claimed by the tick (claimDueSteps + publish, as functions/tick.ts
 * does) and sent by the send worker (sendStep through the SQS handler wrapper, driven by the
 * local stack's poller) to an in-process counting transport behind the MailTransport
 * interface, vs raw conditional UpdateItem throughput on the same DynamoDB Local in the same
 * run at the same client concurrency. Checks: zero duplicates, zero cap violations.
 */
const N = Number(process.env.BENCH_DISPATCH_N ?? 10_000);
/** BENCH_DISPATCH_TX=1 merges concurrent conditional writes into transactions too (coalesce.ts). */
coalesceOptions.writes = process.env.BENCH_DISPATCH_TX === "1";
const SENDERS = 20;
/** Caps with 50% headroom: enrollments are spread over senders by a hash, not perfectly evenly. */
const PER_SENDER = Math.ceil((N * 1.5) / SENDERS);
/** Messages in flight in the worker pool: pollers × batch size. */
const POLLERS = 4;
const BATCH = 10;
const CONCURRENCY = POLLERS * BATCH;

export async function run(): Promise<BenchResult> {
  const startedAt = new Date();
  const stack = await startStack({ port: 0, seed: false, schedules: false, onWorkerError: () => {} });
  try {
    // A send queue of our own: the stack's pollers would use the SMTP capture; ours use the counting transport.
    const q = await stack.store.sqs.send(new CreateQueueCommand({ QueueName: `bench-send-${Date.now()}` }));
    const queueUrl = q.QueueUrl ?? "";
    // And an EventQueue of our own: paused (events stay queued) unless BENCH_DISPATCH_EVENTS=run.
    const eq = await stack.store.sqs.send(new CreateQueueCommand({ QueueName: `bench-events-${Date.now()}` }));
    const eventQueueUrl = eq.QueueUrl ?? "";
    const store = createStore({
      ...stack.cfg,
      queues: { ...stack.cfg.queues, SendQueue: queueUrl, EventQueue: eventQueueUrl },
    });
    // Requests per command (DynamoDB and SQS), counted from the dispatch phase on.
    const requests = new Map<string, number>();
    let counting = false;
    for (const client of [store.ddb, store.sqs] as const)
      (client.middlewareStack as { add: (m: unknown, o: unknown) => void }).add(
        (next: (a: unknown) => Promise<unknown>, ctx: { commandName?: string }) => async (args: unknown) => {
          if (counting) requests.set(ctx.commandName ?? "?", (requests.get(ctx.commandName ?? "?") ?? 0) + 1);
          return next(args);
        },
        { step: "initialize", name: "benchCount" },
      );
    const ws = "benchdispatch";
    await ensureWorkspace(store, ws, "bench");
    await putSendingSettings(store, ws, {
      timezone: "UTC",
      days: [1, 2, 3, 4, 5, 6, 7],
      start: "00:00",
      end: "24:00",
      holidays: [],
    });

    log(`setup: ${N} accounts, ${SENDERS} mailboxes of ${PER_SENDER}/day, ${N} enrollments`);
    const now = new Date().toISOString();
    const accounts: AccountRecord[] = Array.from({ length: N }, (_, i) => {
      const domain = `d${i}.bench.example`;
      return {
        id: accountId(ws, domain),
        domain,
        facts: { domain, name: `Bench ${i}`, industry: "SaaS" },
        score: 80,
        tier: "priority",
        qualified: true,
        breakdown: [],
        icpId: null,
        icpVersion: null,
        segment: "saas",
        tierHistory: [],
        lastSource: "bench",
        rev: 1,
        contacts: [{ id: `c${i}`, email: `lead${i}@${domain}`, firstName: `Lee${i}` }],
        createdAt: now,
        updatedAt: now,
      } as AccountRecord;
    });
    await batchPut(
      store,
      accounts.map((a) => accountItem(ws, a)),
      8,
    );
    const senders: Sender[] = [];
    for (let i = 0; i < SENDERS; i++)
      senders.push(
        await createSender(store, ws, {
          kind: "mailbox",
          name: `Mailbox ${i}`,
          email: `m${i}@seller.example`,
          limits: { emailStart: PER_SENDER, emailMax: PER_SENDER, emailGapSeconds: 0, emailGapJitterSeconds: 0 },
        }),
      );
    const seq = await createSequence(
      store,
      ws,
      SequenceDefinition.parse({
        name: "bench",
        steps: [
          {
            id: "e1",
            channel: "email",
            content: { subject: "Hi {{company}}", body: '<p>Hi {{default firstName "there"}}</p>' },
          },
        ],
      }),
      "bench",
    );
    await inParallel(accounts, 16, async (a) => {
      await enroll(store, ws, { accountId: a.id, sequenceId: seq.id, track: "priority", source: "bench" });
    });

    // Baseline: raw conditional UpdateItem, same table, same concurrency, N distinct items.
    const baseItems = Array.from({ length: N }, (_, i) => i);
    const t0 = performance.now();
    await inParallel(baseItems, CONCURRENCY, async (i) => {
      await store.ddb.send(
        new UpdateCommand({
          TableName: store.cfg.tableName,
          Key: { pk: `W#${ws}#BENCH`, sk: `U#${i}` },
          UpdateExpression: "SET #c = if_not_exists(#c, :zero) + :one",
          ConditionExpression: "attribute_not_exists(#c) OR #c < :lim",
          ExpressionAttributeNames: { "#c": "count" },
          ExpressionAttributeValues: { ":zero": 0, ":one": 1, ":lim": 1 },
        }),
      );
    });
    const baseMs = performance.now() - t0;
    const basePerSec = (N / baseMs) * 1000;
    log(`baseline: ${fmt(basePerSec)} conditional UpdateItem/s`);

    // The counting transport and the send worker.
    const sent: string[] = [];
    const perFrom = new Map<string, number>();
    const transport: MailTransport = {
      name: "counting",
      async send(m) {
        sent.push(m.messageId);
        perFrom.set(m.from.address, (perFrom.get(m.from.address) ?? 0) + 1);
        return { messageId: m.messageId };
      },
    };
    const handler = sqsHandler("SendQueue", SendStepMessage, (msg) =>
      sendStep(store, msg, { transport: async () => transport }),
    );
    const eventsRunning = process.env.BENCH_DISPATCH_EVENTS === "run";
    const eventsPoller = eventsRunning
      ? startPoller({
          sqs: store.sqs,
          queueUrl: eventQueueUrl,
          queueArn: "arn:aws:sqs:us-east-1:000000000000:bench-events",
          handler: (await import("../functions/events.js")).handler as never,
          batchSize: 10,
          concurrency: 2,
          visibilityTimeout: 180,
          retryDelay: 1,
          onError: (e) => log("events worker error", e),
        })
      : undefined;
    counting = true;
    const t1 = performance.now();
    const poller = startPoller({
      sqs: store.sqs,
      queueUrl,
      queueArn: `arn:aws:sqs:us-east-1:000000000000:bench-send`,
      handler: handler as never,
      batchSize: BATCH,
      concurrency: POLLERS,
      visibilityTimeout: 180,
      retryDelay: 1,
      onError: (e) => log("worker error", e),
    });
    // The tick: claim due pages and publish them (what runTick does), until all N are claimed.
    // Then keep ticking (as the schedule does) for steps deferred a moment (a lost cap race).
    let claimed = 0;
    let tickMs = 0;
    let lastLog = performance.now();
    const tickUntil = new Date(Date.now() + 3600_000);
    while (sent.length < N) {
      const batch = await claimDueSteps(store, tickUntil, { limit: 500 });
      if (batch.length) await publish(store, "SendQueue", batch);
      claimed += batch.length;
      if (claimed >= N && !tickMs) tickMs = performance.now() - t1;
      if (!batch.length) await new Promise((r) => setTimeout(r, claimed >= N ? 5000 : 50));
      if (performance.now() - lastLog > 10_000) {
        lastLog = performance.now();
        const reqs = [...requests.values()].reduce((a, b) => a + b, 0);
        log(
          `… ${sent.length} sent after ${fmt(lastLog - t1)} ms; ${reqs} requests so far; ` +
            JSON.stringify(Object.fromEntries(coalesceStats)),
        );
      }
    }
    const sendMs = performance.now() - t1;
    // Let the last completions land before checking states.
    for (;;) {
      const a = await store.sqs.send(
        new GetQueueAttributesCommand({
          QueueUrl: queueUrl,
          AttributeNames: ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        }),
      );
      const left =
        Number(a.Attributes?.ApproximateNumberOfMessages ?? 0) +
        Number(a.Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0);
      if (left === 0) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    await poller.stop();
    counting = false;
    await eventsPoller?.stop();
    const perStep = [...requests.entries()]
      .sort((a, b) => b[1] - a[1])
      .map(([k, v]) => `${k.replace(/Command$/, "")} ${(v / N).toFixed(2)}`)
      .join(", ");
    const totalPerStep = [...requests.values()].reduce((a, b) => a + b, 0) / N;
    log(`requests per step: ${totalPerStep.toFixed(2)} (${perStep})`);
    const stepsPerSec = (N / sendMs) * 1000;

    const duplicates = sent.length - new Set(sent).size;
    const usage = await senderUsage(store, ws, senders);
    let capViolations = 0;
    for (const s of senders) {
      const u = usage.get(s.id)?.[0];
      const byTransport = perFrom.get(s.email ?? "") ?? 0;
      if (!u || u.sent > u.limit || byTransport > u.limit) capViolations++;
    }
    let completed = 0;
    await inParallel(accounts.slice(0, 500), 16, async (a) => {
      const [e] = await accountEnrollments(store, ws, a.id);
      const cur = e ? await getEnrollment(store, ws, e.id) : undefined;
      if (cur?.status === "completed") completed++;
    });

    const r = ratio(stepsPerSec, basePerSec);
    const targets: Target[] = [
      {
        name: `dispatch of ${fmt(N)} due steps (tick → SQS → send worker → transport) vs raw conditional UpdateItem`,
        target: "ratio ≥ 0.5",
        value: `${r} (${fmt(stepsPerSec)} vs ${fmt(basePerSec)} /s)`,
        met: r >= 0.5,
      },
      {
        name: "duplicates (same Message-ID sent twice)",
        target: "0",
        value: String(duplicates),
        met: duplicates === 0,
      },
      {
        name: "cap violations (senders over their daily limit)",
        target: "0",
        value: String(capViolations),
        met: capViolations === 0,
      },
      { name: "steps sent", target: fmt(N), value: fmt(sent.length), met: sent.length === N },
    ];
    const m = machine();
    const summary = [
      `### Dispatch (bench/dispatch.ts)`,
      `${m.cores} cores, ${m.cpu}, Node ${m.node}, ${m.date}.`,
      `${fmt(N)} enrollments due; tick claimed them in ${fmt(tickMs)} ms; all sent after ${fmt(sendMs)} ms ` +
        `(${POLLERS} pollers × batch ${BATCH}); baseline ${fmt(N)} conditional UpdateItems at concurrency ${CONCURRENCY} ` +
        `in ${fmt(baseMs)} ms. Claims ${fmt(claimed)} (deferred and re-claimed: ${fmt(claimed - N)}). Completed enrollments in a sample of 500: ${completed}. Writes merged into transactions: ${coalesceOptions.writes}. Events worker: ` +
        `${eventsRunning ? "running" : "paused (events stay queued)"}. Requests per step (dispatch client, ` +
        `DynamoDB + SQS incl. receives): ${totalPerStep.toFixed(2)} (${perStep}).`,
      targetLines(targets),
    ].join("\n");
    return {
      name: "dispatch",
      command: "tsx bench/dispatch.ts",
      startedAt: startedAt.toISOString(),
      durationMs: Date.now() - startedAt.getTime(),
      targets,
      summary,
      data: {
        n: N,
        senders: SENDERS,
        perSender: PER_SENDER,
        concurrency: CONCURRENCY,
        baseMs,
        basePerSec,
        tickMs,
        sendMs,
        stepsPerSec,
        ratio: r,
        duplicates,
        capViolations,
        sent: sent.length,
        completedSample: completed,
        claims: claimed,
        eventsRunning,
        requestsPerStep: totalPerStep,
        requests: Object.fromEntries(requests),
        machine: m,
      },
    };
  } finally {
    await stack.stop();
  }
}

if (isMain(import.meta.url)) await runAsScript(run);
