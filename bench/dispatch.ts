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
const SENDERS = 20;
const PER_SENDER = Math.ceil((N * 1.2) / SENDERS);
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
    const store = createStore({ ...stack.cfg, queues: { ...stack.cfg.queues, SendQueue: queueUrl } });
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
    let claimed = 0;
    const tickUntil = new Date(Date.now() + 3600_000);
    while (claimed < N) {
      const batch = await claimDueSteps(store, tickUntil, { limit: 500 });
      if (batch.length) await publish(store, "SendQueue", batch);
      claimed += batch.length;
      if (!batch.length) await new Promise((r) => setTimeout(r, 50));
    }
    const tickMs = performance.now() - t1;
    for (;;) {
      if (sent.length >= N) break;
      await new Promise((r) => setTimeout(r, 20));
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
        `in ${fmt(baseMs)} ms. Completed enrollments in a sample of 500: ${completed}.`,
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
        machine: m,
      },
    };
  } finally {
    await stack.stop();
  }
}

if (isMain(import.meta.url)) await runAsScript(run);
