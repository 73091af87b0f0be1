import { AsyncLocalStorage } from "node:async_hooks";
import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  ChangeMessageVisibilityBatchCommand,
  CreateQueueCommand,
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  type Message,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  type SQSClient,
} from "@aws-sdk/client-sqs";
import {
  type CompiledIcp,
  DEMO_ICP,
  demoAccountsCsv,
  IcpDefinition,
  type IcpDefinitionInput,
  type ParsedImport,
  parseCsv,
  RouteMessage,
  type TierChangedEvent,
} from "@icp/core";
import { type DynamoLocal, type SqsLambda, type Stack, startDynamoLocal, startPoller, startStack } from "@icp/local";
import {
  type AccountRecord,
  activeIcps,
  allAccounts,
  configToEnv,
  createIcp,
  createStore,
  ensureWorkspace,
  getImport,
  getRescore,
  type ImportJob,
  listRowErrors,
  nextAccountState,
  type RescoreJob,
  type Store,
  type StoreConfig,
  saveIcpVersion,
  startRescore,
  storeFromEnv,
  submitImport,
} from "@icp/store";
import type { SQSBatchResponse, SQSEvent } from "aws-lambda";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { handler as ingestHandler } from "../../functions/ingest.js";
import { handler as rescoreHandler } from "../../functions/rescore.js";
import { redriveDlq } from "../../packages/local/src/redrive.js";
import { testStack } from "../support/stack.js";

/**
 * Faults on the real local stack (DynamoDB Local, in-process SQS, the functions/ handlers
 * driven by the same poller as `npm start`): a 1,000-account import must come out exact,
 * whatever happens to workers, deliveries and DynamoDB on the way.
 */

const N = 1000;
const CHUNKS = 10;
let base: Stack;
/** For the restart test: its own persisted DynamoDB Local (started with the rest, as Java takes a while). */
const own: { dir: string; dynamo?: DynamoLocal; stack?: Stack } = { dir: mkdtempSync(join(tmpdir(), "icp-faults-")) };
beforeAll(async () => {
  const ownStack = async () => {
    own.dynamo = await startDynamoLocal({ persistDir: own.dir });
    own.stack = await startStack({
      port: 0,
      dynamoEndpoint: own.dynamo.endpoint,
      tableName: "faults-restart",
      queuePrefix: "restart-",
      seed: false,
      retryDelay: 0,
      schedules: false,
      onWorkerError: () => {},
    });
  };
  [base] = await Promise.all([testStack(), ownStack()]);
});
afterAll(async () => {
  await base?.stop();
  await own.stack?.stop();
  await own.dynamo?.stop();
  rmSync(own.dir, { recursive: true, force: true });
});

// ---------------------------------------------------------------------------------------------
// Rig: a workspace with the demo ICP, and its own ingest/rescore queues (+ DLQs) that only the
// test's pollers consume, so each test decides how messages are delivered. Handlers read their
// store from the environment, as on Lambda; the rig points that environment at its queues.

type FaultQueue = { url: string; arn: string; dlqUrl: string };
type Rig = {
  ws: string;
  icpId: string;
  cfg: StoreConfig;
  /** A clean store for the test's own reads and writes (faults go on the handlers' store). */
  store: Store;
  ingest: FaultQueue;
  rescore: FaultQueue;
  routeUrl: string;
  stops: (() => Promise<void>)[];
};

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function arnOf(sqs: SQSClient, url: string): Promise<string> {
  const a = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ["QueueArn"] }));
  return a.Attributes?.QueueArn ?? "";
}

async function faultQueue(sqs: SQSClient, name: string, maxReceiveCount: number): Promise<FaultQueue> {
  const dlq = await sqs.send(new CreateQueueCommand({ QueueName: `${name}Dlq` }));
  const dlqUrl = dlq.QueueUrl ?? "";
  const q = await sqs.send(
    new CreateQueueCommand({
      QueueName: name,
      Attributes: {
        VisibilityTimeout: "360",
        RedrivePolicy: JSON.stringify({ deadLetterTargetArn: await arnOf(sqs, dlqUrl), maxReceiveCount }),
      },
    }),
  );
  const url = q.QueueUrl ?? "";
  return { url, arn: await arnOf(sqs, url), dlqUrl };
}

async function rig(stack: Stack, name: string, maxReceiveCount: number): Promise<Rig> {
  const id = `${name}${randomUUID().slice(0, 6)}`;
  const sqs = stack.store.sqs;
  const ingest = await faultQueue(sqs, `f-${id}-ingest`, maxReceiveCount);
  const rescore = await faultQueue(sqs, `f-${id}-rescore`, maxReceiveCount);
  const route = await sqs.send(new CreateQueueCommand({ QueueName: `f-${id}-route` }));
  const routeUrl = route.QueueUrl ?? "";
  const cfg: StoreConfig = {
    ...stack.cfg,
    queues: { ...stack.cfg.queues, IngestQueue: ingest.url, RescoreQueue: rescore.url, RouteQueue: routeUrl },
    dlqs: { ...stack.cfg.dlqs, IngestQueue: ingest.dlqUrl, RescoreQueue: rescore.dlqUrl },
  };
  Object.assign(process.env, configToEnv(cfg));
  const store = createStore(cfg);
  const ws = `faults-${id}`;
  await ensureWorkspace(store, ws, "faults");
  const icp = await createIcp(store, ws, IcpDefinition.parse(DEMO_ICP), "test");
  return { ws, icpId: icp.id, cfg, store, ingest, rescore, routeUrl, stops: [] };
}

/** Consume a rig queue like the local stack's Lambda poller: `concurrency` loops sharing one handler. */
function consume(
  r: Pick<Rig, "store" | "stops">,
  q: FaultQueue,
  handler: SqsLambda,
  o: { batchSize?: number; concurrency?: number } = {},
) {
  const poller = startPoller({
    sqs: r.store.sqs,
    queueUrl: q.url,
    queueArn: q.arn,
    handler,
    batchSize: o.batchSize ?? 5,
    concurrency: o.concurrency ?? 4,
    visibilityTimeout: 360,
    retryDelay: 0,
    onError: () => {},
  });
  r.stops.push(() => poller.stop());
}

async function stopRig(r: Pick<Rig, "stops">) {
  for (const s of r.stops.splice(0).reverse()) await s();
}

async function depth(sqs: SQSClient, url: string): Promise<number> {
  const a = await sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: url,
      AttributeNames: ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    }),
  );
  return (
    Number(a.Attributes?.ApproximateNumberOfMessages ?? 0) +
    Number(a.Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0)
  );
}

/** Every message of a queue, left in place (made visible again). */
async function peek(sqs: SQSClient, url: string): Promise<Message[]> {
  const out: Message[] = [];
  for (;;) {
    const res = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: url,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: 0,
        VisibilityTimeout: 30,
        MessageAttributeNames: ["All"],
      }),
    );
    if (!res.Messages?.length) break;
    out.push(...res.Messages);
  }
  for (let i = 0; i < out.length; i += 10)
    await sqs.send(
      new ChangeMessageVisibilityBatchCommand({
        QueueUrl: url,
        Entries: out
          .slice(i, i + 10)
          .map((m, j) => ({ Id: String(j), ReceiptHandle: m.ReceiptHandle ?? "", VisibilityTimeout: 0 })),
      }),
    );
  return out;
}

/** Receive and delete everything in a queue. */
async function drain(sqs: SQSClient, url: string): Promise<Message[]> {
  const out: Message[] = [];
  for (;;) {
    const res = await sqs.send(new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10 }));
    const msgs = res.Messages ?? [];
    if (!msgs.length) return out;
    out.push(...msgs);
    await sqs.send(
      new DeleteMessageBatchCommand({
        QueueUrl: url,
        Entries: msgs.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle ?? "" })),
      }),
    );
  }
}

async function until<T>(check: () => Promise<T | undefined>, ms: number, state: () => Promise<unknown>): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms; last state: ${JSON.stringify(await state())}`);
    await sleep(150);
  }
}

/**
 * Submit the demo CSV (plus `bad` rows with an invalid website) as POST /v1/imports does: row
 * errors stored, chunks of 100 accounts on the rig's ingest queue.
 */
async function importDemo(
  r: Rig,
  seed: number,
  o: { bad?: number; via?: Store } = {},
): Promise<{ job: ImportJob; parsed: ParsedImport }> {
  const bad = Array.from({ length: o.bad ?? 0 }, (_, i) => `Bad ${i},not a website ${i},SaaS,10,,,,,,,,,\n`);
  const parsed = parseCsv(demoAccountsCsv(N, seed) + bad.join(""), new Date());
  expect(parsed.rows).toHaveLength(N);
  expect(parsed.errors).toHaveLength(bad.length);
  const { job } = await submitImport(o.via ?? r.store, r.ws, parsed, { format: "csv", filename: `faults-${seed}.csv` });
  expect(job.chunks).toBe(CHUNKS);
  return { job, parsed };
}

/** The import has finished and its queue is empty (nothing in flight, nothing waiting for a retry). */
async function settled(r: Rig, importId: string, ms = 45_000): Promise<ImportJob> {
  return until(
    async () => {
      const job = await getImport(r.store, r.ws, importId);
      if (job?.status !== "completed" && job?.status !== "failed") return undefined;
      return (await depth(r.store.sqs, r.ingest.url)) === 0 ? job : undefined;
    },
    ms,
    async () => {
      const job = await getImport(r.store, r.ws, importId);
      return { ...job, queued: await depth(r.store.sqs, r.ingest.url), dlq: await depth(r.store.sqs, r.ingest.dlqUrl) };
    },
  );
}

/** The account as a clean, single delivery of its row would have written it (same ICPs, same "now"). */
function expectedState(a: AccountRecord, row: ParsedImport["rows"][number], icps: CompiledIcp[]) {
  return nextAccountState(a.id, undefined, row.account, icps, Date.parse(a.updatedAt), a.lastSource, a.updatedAt);
}

type Exact = { accounts: AccountRecord[]; routeEvents: number; dlq: Message[] };

/**
 * No row lost, no account double-counted: the job counts 1,000 rows and 1,000 accounts once,
 * every domain of the CSV is stored exactly once, written once (rev 1), scored as a clean run
 * would have, with one tier-history entry; each account's tier change reached the route queue
 * under one event id (re-publications of the same id are allowed: consumers dedupe).
 */
async function expectExact(r: Rig, importId: string, parsed: ParsedImport): Promise<Exact> {
  const job = await getImport(r.store, r.ws, importId);
  const accounts = await allAccounts(r.store, r.ws);
  expect(job).toMatchObject({
    status: "completed",
    total: parsed.total,
    accepted: N,
    rejected: parsed.errors.length,
    accounts: N,
    chunks: CHUNKS,
    chunksDone: CHUNKS,
    accountsDone: N,
    qualified: accounts.filter((a) => a.qualified).length,
  });

  const rowErrors: unknown[] = [];
  let cursor: string | undefined;
  do {
    const page = await listRowErrors(r.store, r.ws, importId, 100, cursor);
    rowErrors.push(...page.items);
    cursor = page.nextCursor;
  } while (cursor);
  expect(rowErrors).toEqual(parsed.errors); // every bad row kept once, in line order

  expect(accounts).toHaveLength(N);
  expect(new Set(accounts.map((a) => a.id)).size).toBe(N);
  const byDomain = new Map(accounts.map((a) => [a.domain, a]));
  const icps = await activeIcps(r.store, r.ws);
  const eventIds = new Set<string>();
  for (const row of parsed.rows) {
    const a = byDomain.get(row.account.domain);
    expect(a, row.account.domain).toBeDefined();
    if (!a) continue;
    expect(a.rev, a.domain).toBe(1);
    expect(a.lastSource).toMatch(new RegExp(`^import:${importId}#\\d+$`));
    expect(a.contacts).toHaveLength(1);
    expect(a.tierHistory, a.domain).toHaveLength(1);
    for (const h of a.tierHistory) eventIds.add(h.eventId);
    const want = expectedState(a, row, icps);
    expect({ tier: a.tier, score: a.score, qualified: a.qualified, segment: a.segment }).toEqual({
      tier: want.tier,
      score: want.score,
      qualified: want.qualified,
      segment: want.segment,
    });
  }
  expect(eventIds.size).toBe(N); // no duplicate tier-history entry anywhere

  const events = await routeEvents(r);
  const perAccount = new Map<string, Set<string>>();
  for (const e of events) perAccount.set(e.accountId, (perAccount.get(e.accountId) ?? new Set()).add(e.eventId));
  expect(perAccount.size).toBe(N);
  for (const [accountId, ids] of perAccount) expect(ids.size, accountId).toBe(1);
  expect(new Set(events.map((e) => e.eventId))).toEqual(eventIds);

  return {
    accounts,
    routeEvents: events.length,
    dlq: await peek(r.store.sqs, r.ingest.dlqUrl),
  };
}

/** The tier changes published to the rig's route queue (consumed). */
async function routeEvents(r: Rig): Promise<TierChangedEvent[]> {
  return (await drain(r.store.sqs, r.routeUrl)).flatMap((m) => {
    const msg = RouteMessage.parse(JSON.parse(m.Body ?? ""));
    return "events" in msg ? msg.events : [msg];
  });
}

const isDeliveredBefore = (seen: Map<string, number>, id: string) => {
  const n = (seen.get(id) ?? 0) + 1;
  seen.set(id, n);
  return n;
};

// ---------------------------------------------------------------------------------------------
// DynamoDB fault injection on the handlers' own client (middleware, no mock of AWS).

type Throttle = {
  calls: number;
  throttled: number;
  exhausted: number;
  transactionsCanceled: number;
  batchCalls: number;
  heldBack: number;
};

const throttlingError = () =>
  Object.assign(new Error("The level of configured provisioned throughput was exceeded (injected)"), {
    name: "ProvisionedThroughputExceededException",
    $fault: "client",
    $metadata: { httpStatusCode: 400 },
  });

/** Split each table's list in two halves: the first is sent, the second comes back unprocessed. */
function halves<T>(byTable: Record<string, T[]>): { sent: Record<string, T[]>; held: Record<string, T[]>; n: number } {
  const sent: Record<string, T[]> = {};
  const held: Record<string, T[]> = {};
  let n = 0;
  for (const [table, list] of Object.entries(byTable)) {
    const keep = Math.ceil(list.length / 2);
    sent[table] = list.slice(0, keep);
    if (list.length > keep) {
      held[table] = list.slice(keep);
      n += list.length - keep;
    }
  }
  return { sent, held, n };
}

/**
 * DynamoDB under load, on the handlers' own client:
 * - ~`rate` of calls fail with ProvisionedThroughputExceededException inside the SDK's retry
 *   loop (the SDK backs off and retries them, up to `maxAttempts`); at most `surfacing` of them
 *   fail on their last attempt too, so the error reaches the handler and SQS redelivers;
 * - ~`rate` of TransactWriteItems (and the first two attempts of those `cancelTwice` names) are
 *   cancelled with a ThrottlingError reason (the SDK does not retry those: the code must);
 * - ~`unprocessedRate` of BatchWriteItem / BatchGetItem calls only do half their items and
 *   return the rest as UnprocessedItems / UnprocessedKeys.
 */
function injectThrottling(
  store: Store,
  o: {
    rate: number;
    unprocessedRate: number;
    surfacing: number;
    /** Share of TransactWriteItems cancelled for throttling (default `rate`). */
    cancelRate?: number;
    /** Transactions (by the key this returns) whose first two attempts are cancelled, whatever `rate`. */
    cancelTwice?: (input: Record<string, unknown>) => string | undefined;
  },
) {
  const cancelled = new Map<string, number>();
  const stats: Throttle = { calls: 0, throttled: 0, exhausted: 0, transactionsCanceled: 0, batchCalls: 0, heldBack: 0 };
  const stack = store.ddb.middlewareStack as unknown as {
    add(mw: unknown, opts: Record<string, unknown>): void;
    remove(name: string): boolean;
  };
  type Args = { input: Record<string, unknown>; request?: { headers?: Record<string, string> } };
  type Out = { output: Record<string, unknown> };
  stack.add(
    (next: (a: Args) => Promise<Out>) => async (args: Args) => {
      stats.calls++;
      const [, attempt, max] = /attempt=(\d+); max=(\d+)/.exec(args.request?.headers?.["amz-sdk-request"] ?? "") ?? [];
      const last = attempt !== undefined && attempt === max;
      if (Math.random() < o.rate && (!last || stats.exhausted < o.surfacing)) {
        stats.throttled++;
        if (last) stats.exhausted++;
        throw throttlingError();
      }
      return next(args);
    },
    { step: "finalizeRequest", name: "faultThrottle" }, // after the SDK's retry middleware: retried by it
  );
  stack.add(
    (next: (a: Args) => Promise<Out>, context: { commandName?: string }) => async (args: Args) => {
      const command = context.commandName;
      const twice = command === "TransactWriteItemsCommand" ? o.cancelTwice?.(args.input) : undefined;
      const targeted = twice !== undefined && (cancelled.get(twice) ?? 0) < 2;
      if (twice !== undefined && targeted) cancelled.set(twice, (cancelled.get(twice) ?? 0) + 1);
      if (command === "TransactWriteItemsCommand" && (targeted || Math.random() < (o.cancelRate ?? o.rate))) {
        stats.transactionsCanceled++;
        const items = (args.input.TransactItems ?? []) as unknown[];
        throw Object.assign(new Error("Transaction cancelled, please refer cancellation reasons (injected)"), {
          name: "TransactionCanceledException",
          $fault: "client",
          $metadata: { httpStatusCode: 400 },
          CancellationReasons: items.map((_, i) => ({ Code: i === 0 ? "ThrottlingError" : "None" })),
        });
      }
      if (command === "BatchWriteItemCommand" || command === "BatchGetItemCommand") stats.batchCalls++;
      else return next(args);
      if (Math.random() >= o.unprocessedRate) return next(args);
      if (command === "BatchWriteItemCommand") {
        const { sent, held, n } = halves(args.input.RequestItems as Record<string, unknown[]>);
        if (!n) return next(args);
        stats.heldBack += n;
        const out = await next({ ...args, input: { ...args.input, RequestItems: sent } });
        const unprocessed = { ...((out.output.UnprocessedItems ?? {}) as Record<string, unknown[]>) };
        for (const [t, list] of Object.entries(held)) unprocessed[t] = [...(unprocessed[t] ?? []), ...list];
        return { ...out, output: { ...out.output, UnprocessedItems: unprocessed } };
      }
      type KeysAndAttributes = { Keys: unknown[] } & Record<string, unknown>;
      const request = args.input.RequestItems as Record<string, KeysAndAttributes>;
      const { sent, held, n } = halves(Object.fromEntries(Object.entries(request).map(([t, r]) => [t, r.Keys])));
      if (!n) return next(args);
      stats.heldBack += n;
      const with_ = (keys: Record<string, unknown[]>) =>
        Object.fromEntries(Object.entries(keys).map(([t, k]) => [t, { ...request[t], Keys: k }]));
      const out = await next({ ...args, input: { ...args.input, RequestItems: with_(sent) } });
      const unprocessed = { ...((out.output.UnprocessedKeys ?? {}) as Record<string, KeysAndAttributes>) };
      for (const [t, k] of Object.entries(with_(held)))
        unprocessed[t] = { ...k, Keys: [...(unprocessed[t]?.Keys ?? []), ...k.Keys] } as KeysAndAttributes;
      return { ...out, output: { ...out.output, UnprocessedKeys: unprocessed } };
    },
    { step: "serialize", priority: "high", name: "faultUnprocessed" }, // before marshalling: held items are never sent
  );
  return {
    stats,
    remove() {
      stack.remove("faultThrottle");
      stack.remove("faultUnprocessed");
    },
  };
}

/** A worker process dies: after the planned DynamoDB write succeeds, it (and everything after) never happens. */
class WorkerKilled extends Error {
  override name = "WorkerKilled";
}
type KillPlan = {
  /** Die right after the write for which this returns true. */
  after: (command: string, input: Record<string, unknown>) => boolean;
  dead: boolean;
};
const killPlans = new AsyncLocalStorage<KillPlan>();

/** The items a write puts, in document form (middleware before marshalling). */
function putItems(command: string, input: Record<string, unknown>): Record<string, unknown>[] {
  type Put = { Put?: { Item?: Record<string, unknown> } };
  if (command === "PutItemCommand") return [input.Item as Record<string, unknown>];
  if (command === "TransactWriteItemsCommand")
    return ((input.TransactItems ?? []) as Put[]).flatMap((t) => (t.Put?.Item ? [t.Put.Item] : []));
  if (command === "BatchWriteItemCommand") {
    // New accounts of a chunk holding an ingest lease grant (packages/store/src/accounts/ingest-lease.ts).
    type Req = { PutRequest?: { Item?: Record<string, unknown> } };
    const tables = Object.values((input.RequestItems ?? {}) as Record<string, Req[]>);
    return tables.flat().flatMap((r) => (r.PutRequest?.Item ? [r.PutRequest.Item] : []));
  }
  return [];
}
const writesAccounts = (command: string, input: Record<string, unknown>) =>
  putItems(command, input).some((i) => i.type === "account");
/** The job update that counts a chunk (it adds the chunk to the job's `doneChunks`). */
const countsChunk = (command: string, input: Record<string, unknown>) =>
  command === "UpdateItemCommand" && String(input.UpdateExpression ?? "").includes("doneChunks");

function injectKills(store: Store) {
  type Args = { input: Record<string, unknown> };
  const stats = { kills: 0 };
  const stack = store.ddb.middlewareStack as unknown as {
    add(mw: unknown, opts: Record<string, unknown>): void;
    remove(name: string): boolean;
  };
  stack.add(
    (next: (a: Args) => Promise<unknown>, context: { commandName?: string }) => async (args: Args) => {
      const plan = killPlans.getStore();
      if (plan?.dead) throw new WorkerKilled("the worker is gone");
      const out = await next(args);
      // Writes sent in parallel before the death still land, but the worker dies only once.
      if (plan && !plan.dead && plan.after(context.commandName ?? "", args.input)) {
        plan.dead = true;
        stats.kills++;
        throw new WorkerKilled(`killed right after ${context.commandName}`);
      }
      return out;
    },
    { step: "initialize", priority: "high", name: "faultKill" }, // outside the SDK's retries: death is final
  );
  return { stats, remove: () => stack.remove("faultKill") };
}

const mergeFailures = (...rs: (SQSBatchResponse | undefined)[]): SQSBatchResponse => ({
  batchItemFailures: [
    ...new Map(rs.flatMap((x) => x?.batchItemFailures ?? []).map((f) => [f.itemIdentifier, f])).values(),
  ],
});

// ---------------------------------------------------------------------------------------------

// Each case moves a 1,000-account import through kills, restarts and throttling: 35-55 s alone on
// this machine, so the default 60 s leaves no room when other suites share the 2 cores.
describe("faults: a 1,000-account import stays exact", { timeout: 180_000 }, () => {
  it("a worker killed after writing but before acknowledging: redelivered, still exact", async () => {
    const r = await rig(base, "ack", 10);
    try {
      const { job, parsed } = await importDemo(r, 101);
      const seen = new Map<string, number>();
      const stats = { batches: 0, killed: 0, redeliveries: 0 };
      // A random third of the batches are fully handled, then the process dies before the poller
      // deletes them: every message of those batches comes back (at once here; SQS would wait
      // for the visibility timeout).
      consume(
        r,
        r.ingest,
        async (event: SQSEvent) => {
          for (const rec of event.Records) if (isDeliveredBefore(seen, rec.messageId) > 1) stats.redeliveries++;
          const res = await ingestHandler(event);
          if (stats.batches++ === 0 || Math.random() < 1 / 3) {
            stats.killed++;
            throw new WorkerKilled("died before acknowledging");
          }
          return res;
        },
        { batchSize: 2 },
      );
      await settled(r, job.id);
      const exact = await expectExact(r, job.id, parsed);
      expect(stats.killed).toBeGreaterThan(0);
      expect(stats.redeliveries).toBeGreaterThanOrEqual(stats.killed);
      expect(exact.dlq).toEqual([]);
      console.log("[faults] killed before ack:", { ...stats, routeEvents: exact.routeEvents });
    } finally {
      await stopRig(r);
    }
  });

  it("a worker killed right after writing accounts, or right after counting its chunk: still exact", async () => {
    const r = await rig(base, "mid", 10);
    const kills = injectKills(storeFromEnv());
    try {
      const { job, parsed } = await importDemo(r, 102);
      const seen = new Map<string, number>();
      let deliveries = 0;
      // Each chunk's worker dies twice: first right after its accounts are written (before the
      // tier changes are published and the chunk counted), then, redelivered, right after the
      // transaction that counts the chunk (before the import is marked complete). The third
      // delivery must finish the job without counting or writing anything twice.
      consume(
        r,
        r.ingest,
        async (event: SQSEvent) => {
          deliveries++;
          const n = isDeliveredBefore(seen, event.Records[0]?.messageId ?? "");
          const after = n === 1 ? writesAccounts : n === 2 ? countsChunk : () => false;
          return killPlans.run({ after, dead: false }, () => ingestHandler(event));
        },
        { batchSize: 1 },
      );
      await settled(r, job.id);
      const exact = await expectExact(r, job.id, parsed);
      expect(kills.stats.kills).toBe(2 * CHUNKS);
      expect(exact.dlq).toEqual([]);
      console.log("[faults] killed mid-chunk:", {
        kills: kills.stats.kills,
        deliveries,
        routeEvents: exact.routeEvents,
      });
    } finally {
      kills.remove();
      await stopRig(r);
    }
  });

  it("every message delivered twice, concurrently, and once more later: exact", async () => {
    const r = await rig(base, "dup", 10);
    try {
      const { job, parsed } = await importDemo(r, 103);
      const events: SQSEvent[] = [];
      let failures = 0;
      // Each delivery is handled twice at once (two workers got the same message).
      consume(
        r,
        r.ingest,
        async (event: SQSEvent) => {
          events.push(event);
          const res = mergeFailures(...(await Promise.all([ingestHandler(event), ingestHandler(event)])));
          failures += res.batchItemFailures.length;
          return res;
        },
        { batchSize: 2 },
      );
      await settled(r, job.id);
      // A late duplicate of every batch, after the import completed, changes nothing.
      const late = await Promise.all(events.map((e) => ingestHandler(e)));
      expect(late.flatMap((x) => x?.batchItemFailures ?? [])).toEqual([]);
      const exact = await expectExact(r, job.id, parsed);
      expect(exact.dlq).toEqual([]);
      console.log("[faults] delivered twice:", {
        batches: events.length,
        handlerRuns: events.length * 3,
        retriedAfterConflict: failures,
        routeEvents: exact.routeEvents,
      });
    } finally {
      await stopRig(r);
    }
  });

  it("DynamoDB throttles (ProvisionedThroughputExceeded, UnprocessedItems), poison in its batches: exact", async () => {
    const r = await rig(base, "thr", 10);
    const throttle = injectThrottling(storeFromEnv(), { rate: 0.2, unprocessedRate: 0.3, surfacing: 3 });
    try {
      // Poison first, so it is received in the same batches as the good chunks.
      const schemaInvalid = JSON.stringify({ kind: "ingest-chunk", workspaceId: r.ws, rows: "nope" });
      await r.store.sqs.send(
        new SendMessageBatchCommand({
          QueueUrl: r.ingest.url,
          Entries: [
            { Id: "not-json", MessageBody: "{not json" },
            { Id: "schema", MessageBody: schemaInvalid },
          ],
        }),
      );
      // The upload itself is throttled too: its 60 row errors are written with BatchWriteItem.
      const submitter = createStore(r.cfg);
      const submitThrottle = injectThrottling(submitter, {
        rate: 0.2,
        unprocessedRate: 1,
        surfacing: 0,
        cancelRate: 0, // a cancelled createImport fails the upload request itself: the client retries it
      });
      const { job, parsed } = await importDemo(r, 104, { bad: 60, via: submitter });
      submitThrottle.remove();
      let mixed = 0;
      let failed = 0;
      consume(r, r.ingest, async (event: SQSEvent) => {
        const poison = event.Records.filter((x) => !x.body.includes('"rows":[')).length;
        if (poison && poison < event.Records.length) mixed++;
        const res = await ingestHandler(event);
        failed += res?.batchItemFailures.length ?? 0;
        return res;
      });
      await settled(r, job.id, 55_000);
      const exact = await expectExact(r, job.id, parsed);
      expect(throttle.stats.throttled).toBeGreaterThan(5);
      // (No transaction to cancel here: new accounts go out with BatchWriteItem under the lease, and a
      // chunk is counted with one UpdateItem; cancelled transactions are covered by the re-scoring test below.)
      expect(throttle.stats.heldBack).toBeGreaterThan(0);
      expect(submitThrottle.stats.heldBack).toBeGreaterThan(0);
      expect(mixed).toBeGreaterThan(0);
      // The DLQ holds the two poison messages, each once, with its reason; nothing else.
      expect(
        exact.dlq
          .map((m) => [m.Body, m.MessageAttributes?.reason?.StringValue])
          .sort((a, b) => `${a}`.localeCompare(`${b}`)),
      ).toEqual(
        [
          ["{not json", "not JSON"],
          [schemaInvalid, expect.stringMatching(/^does not match its schema: /)],
        ].sort((a, b) => `${a}`.localeCompare(`${b}`)),
      );
      console.log("[faults] throttled:", {
        ...throttle.stats,
        messagesFailed: failed,
        mixedBatches: mixed,
        upload: submitThrottle.stats,
      });
    } finally {
      throttle.remove();
      await stopRig(r);
    }
  });

  it("re-scoring under throttling and duplicate delivery counts every account once", async () => {
    const r = await rig(base, "rsc", 10);
    const t0 = Date.now();
    try {
      const { job } = await importDemo(r, 105);
      consume(r, r.ingest, ingestHandler);
      await settled(r, job.id);
      const before = new Map((await allAccounts(r.store, r.ws)).map((a) => [a.id, a]));
      expect(before.size).toBe(N);
      await drain(r.store.sqs, r.routeUrl);
      const imported = Date.now() - t0;

      // Besides ~20% of everything, the first two attempts to commit each page are cancelled: both
      // copies of a page delivered twice fail, and must be retried rather than taken as done.
      const pageCommit = (input: Record<string, unknown>) => {
        type Update = { Key?: { pk?: string; sk?: string }; ExpressionAttributeValues?: Record<string, unknown> };
        const u = (input.TransactItems as { Update?: Update }[] | undefined)?.[0]?.Update;
        const page = u?.ExpressionAttributeValues?.[":page"];
        return u?.Key?.sk?.startsWith("SHARD#") && page !== undefined ? `${u.Key.pk}/${u.Key.sk}@${page}` : undefined;
      };
      const throttle = injectThrottling(storeFromEnv(), {
        rate: 0.2,
        unprocessedRate: 0.3,
        surfacing: 3,
        cancelTwice: pageCommit,
      });
      try {
        consume(
          r,
          r.rescore,
          async (event: SQSEvent) =>
            mergeFailures(...(await Promise.all([rescoreHandler(event), rescoreHandler(event)]))),
          { batchSize: 2, concurrency: 4 },
        );
        const stricter: IcpDefinitionInput = { ...DEMO_ICP, tiers: { priority: 85, nurture: 40 } };
        const saved = await saveIcpVersion(r.store, r.ws, r.icpId, IcpDefinition.parse(stricter), "test", true);
        expect(saved?.icp.version).toBe(2);
        const started = await startRescore(r.store, r.ws, { reason: "faults", icpId: r.icpId, icpVersion: 2 });
        const done = await until(
          async () => {
            const j = await getRescore(r.store, r.ws, started.id);
            return j?.status === "completed" && (await depth(r.store.sqs, r.rescore.url)) === 0 ? j : undefined;
          },
          50_000,
          async () => {
            const j = await getRescore(r.store, r.ws, started.id);
            return {
              ...j,
              samples: undefined,
              queued: await depth(r.store.sqs, r.rescore.url),
              dlq: await depth(r.store.sqs, r.rescore.dlqUrl),
              throttle: throttle.stats,
            };
          },
        );
        const after = await allAccounts(r.store, r.ws);
        expect(after).toHaveLength(N);
        const source = `rescore:${started.id}`;
        const icps = await activeIcps(r.store, r.ws);
        const transitions: Record<string, number> = {};
        for (const a of after) {
          const prev = before.get(a.id) as AccountRecord;
          const rescored = a.lastSource === source;
          expect(a.rev, a.domain).toBe(rescored ? 2 : 1);
          expect(a.tierHistory.filter((h) => h.source === source).length).toBeLessThanOrEqual(1);
          expect(new Set(a.tierHistory.map((h) => h.eventId)).size).toBe(a.tierHistory.length);
          const facts = { ...prev.facts, domain: prev.domain };
          const want = nextAccountState(a.id, prev, facts, icps, Date.parse(done.at), source, done.at);
          expect([a.tier, a.score, a.icpVersion]).toEqual([want.tier, want.score, want.icpVersion]);
          if (prev.tier !== a.tier)
            transitions[`${prev.tier}->${a.tier}`] = (transitions[`${prev.tier}->${a.tier}`] ?? 0) + 1;
        }
        expect(done).toMatchObject<Partial<RescoreJob>>({
          processed: N,
          shardsDone: done.shards,
          changed: after.filter((a) => a.lastSource === source).length,
          qualified: after.filter((a) => a.qualified).length,
        });
        expect(done.transitions).toEqual(transitions);
        expect(transitions["priority->nurture"]).toBeGreaterThan(0);
        expect(await depth(r.store.sqs, r.rescore.dlqUrl)).toBe(0);
        const events = await routeEvents(r);
        const changedTier = after.filter((a) => before.get(a.id)?.tier !== a.tier).length;
        expect(new Set(events.map((e) => e.eventId)).size).toBe(changedTier);
        console.log("[faults] rescore throttled + twice:", {
          ...throttle.stats,
          transitions,
          events: events.length,
          ms: { imported, rescored: Date.now() - t0 },
        });
      } finally {
        throttle.remove();
      }
    } finally {
      await stopRig(r);
    }
  });

  it("redriveDlq moves what retries parked, keeps poison with its reason, honours max, never loops", async () => {
    const sqs = base.store.sqs;
    const q = await faultQueue(sqs, `f-redrive-${randomUUID().slice(0, 6)}`, 3);
    const poison = (body: string, reason: string) => ({
      Id: reason.replace(/\W/g, ""),
      MessageBody: body,
      MessageAttributes: { reason: { DataType: "String", StringValue: reason } },
    });
    await sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: q.dlqUrl,
        Entries: [
          ...["a", "b", "c"].map((x) => ({
            Id: x,
            MessageBody: x,
            MessageAttributes: { trace: { DataType: "String", StringValue: `t-${x}` } },
          })),
          poison("{not json", "not JSON"),
          poison("{}", "does not match its schema: kind"),
        ],
      }),
    );
    expect(await redriveDlq(sqs, { dlqUrl: q.dlqUrl, queueUrl: q.url, max: 2 })).toMatchObject({ moved: 2 });
    expect(await redriveDlq(sqs, { dlqUrl: q.dlqUrl, queueUrl: q.url })).toEqual({
      moved: 1,
      keptPoison: 2,
      arrivedDuring: 0,
      poisonReasons: expect.arrayContaining(["not JSON", "does not match its schema: kind"]),
    });
    const back = await peek(sqs, q.url);
    expect(back.map((m) => [m.Body, m.MessageAttributes?.trace?.StringValue]).sort()).toEqual([
      ["a", "t-a"],
      ["b", "t-b"],
      ["c", "t-c"],
    ]);
    expect((await peek(sqs, q.dlqUrl)).map((m) => m.MessageAttributes?.reason?.StringValue).sort()).toEqual([
      "does not match its schema: kind",
      "not JSON",
    ]);
    // With --include-poison, while a worker dead-letters them again at once: the run still ends.
    await drain(sqs, q.url);
    const r: Pick<Rig, "store" | "stops"> = { store: base.store, stops: [] };
    consume(
      r,
      q,
      async (event: SQSEvent) => {
        await sqs.send(
          new SendMessageBatchCommand({
            QueueUrl: q.dlqUrl,
            Entries: event.Records.map((x, i) => poison(x.body, `still bad ${i}`)),
          }),
        );
        return { batchItemFailures: [] };
      },
      { concurrency: 1 },
    );
    try {
      const again = await redriveDlq(sqs, { dlqUrl: q.dlqUrl, queueUrl: q.url, includePoison: true });
      expect(again).toMatchObject({ moved: 2, keptPoison: 0 });
      await until(
        async () => ((await depth(sqs, q.dlqUrl)) === 2 ? true : undefined),
        10_000,
        async () => depth(sqs, q.dlqUrl),
      );
    } finally {
      await stopRig(r);
    }
  });

  it("DynamoDB Local stops mid-import and restarts (persisted): the DLQ is redriven, exact, poison stays", async () => {
    const t0 = Date.now();
    const phases: Record<string, number> = {};
    const phase = (name: string) => {
      phases[name] = Date.now() - t0;
    };
    const { dir, stack } = own as Required<typeof own>;
    const port = (own.dynamo as DynamoLocal).port;
    const r = await rig(stack, "down", 2); // a small maxReceiveCount: failures reach the DLQ while it is down
    try {
      await r.store.sqs.send(
        new SendMessageBatchCommand({ QueueUrl: r.ingest.url, Entries: [{ Id: "p", MessageBody: "{not json" }] }),
      );
      const { job, parsed } = await importDemo(r, 106);
      let handled = 0;
      let countedBeforeStop = 0;
      let stopping: Promise<void> | undefined;
      consume(
        r,
        r.ingest,
        async (event: SQSEvent) => {
          const res = await ingestHandler(event);
          const chunk = event.Records.every((m) => m.body.startsWith('{"'));
          if (!stopping && chunk && res.batchItemFailures.length === 0) countedBeforeStop++;
          // After the third batch, DynamoDB Local goes away while other chunks are in flight.
          if (++handled === 3) stopping = own.dynamo?.stop();
          return res;
        },
        { batchSize: 1, concurrency: 3 },
      );
      await until(
        async () => (stopping && (await depth(r.store.sqs, r.ingest.url)) === 0 ? true : undefined),
        30_000,
        async () => ({ handled, queued: await depth(r.store.sqs, r.ingest.url) }),
      );
      await stopping;
      phase("down");
      const parked = await peek(r.store.sqs, r.ingest.dlqUrl);
      const poison = parked.filter((m) => m.MessageAttributes?.reason);
      expect(poison.map((m) => [m.Body, m.MessageAttributes?.reason?.StringValue])).toEqual([
        ["{not json", "not JSON"],
      ]);
      const retriedOut = parked.length - poison.length;
      expect(retriedOut).toBeGreaterThan(0); // chunks whose retries ran out while DynamoDB was down

      own.dynamo = await startDynamoLocal({ port, persistDir: dir });
      phase("restarted");
      const midway = await getImport(r.store, r.ws, job.id);
      expect(midway?.status).toBe("processing");
      expect(midway?.chunksDone).toBeLessThan(CHUNKS);
      expect(countedBeforeStop).toBeGreaterThanOrEqual(1);
      // What was done before the stop survived the restart.
      expect(midway?.chunksDone).toBeGreaterThanOrEqual(countedBeforeStop);

      const redriven = await redriveDlq(r.store.sqs, { dlqUrl: r.ingest.dlqUrl, queueUrl: r.ingest.url });
      expect(redriven).toMatchObject({ moved: retriedOut, keptPoison: 1, poisonReasons: ["not JSON"] });
      await settled(r, job.id);
      phase("settled");
      const exact = await expectExact(r, job.id, parsed);
      phase("checked");
      expect(exact.dlq.map((m) => [m.Body, m.MessageAttributes?.reason?.StringValue])).toEqual([
        ["{not json", "not JSON"],
      ]);
      console.log("[faults] DynamoDB restart:", {
        chunksDoneBeforeStop: midway?.chunksDone,
        phases,
        dlqWhileDown: parked.length,
        ...redriven,
      });
    } finally {
      await stopRig(r);
    }
  });
});
