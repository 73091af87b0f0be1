import {
  CreateQueueCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SendMessageCommand,
} from "@aws-sdk/client-sqs";
import { GetCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import {
  accountId,
  DEMO_ICP,
  demoAccountsCsv,
  type IngestChunkMessage,
  RouteMessage,
  type TierChangedEvent,
} from "@icp/core";
import {
  acquireIngestLease,
  createImport,
  createStore,
  ensureWorkspace,
  getAccount,
  getImport,
  ingestChunk,
  keys,
  nextAccountState,
  putNewAccounts,
  releaseIngestLease,
  setAccountOutcome,
} from "@icp/store";
import type { SQSEvent } from "aws-lambda";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { handler as ingestHandler } from "../../functions/ingest.js";
import { eventually, type TestStack, testStack, waitForImport } from "../support/stack.js";

let s: TestStack;
beforeAll(async () => {
  s = await testStack();
  expect((await s.api("/v1/icps", { method: "POST", json: DEMO_ICP })).status).toBe(201);
});
afterAll(() => s?.stop());

const csv = (rows: string[]) =>
  `Website,Company,Industry,Employees,Country,Technologies,Signals,Email,Title\n${rows.join("\n")}\n`;

/** A store like the stack's, but publishing tier changes to a queue no poller consumes, so tests can read it. */
async function probeStore() {
  const q = await s.store.sqs.send(
    new CreateQueueCommand({ QueueName: `probe-${Date.now()}-${Math.random().toString(36).slice(2)}` }),
  );
  const url = q.QueueUrl ?? "";
  const store = createStore({ ...s.cfg, queues: { ...s.cfg.queues, RouteQueue: url } });
  const drain = async () => {
    const out: TierChangedEvent[] = [];
    for (;;) {
      const res = await store.sqs.send(
        new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }),
      );
      if (!res.Messages?.length) return out;
      for (const m of res.Messages) {
        const msg = RouteMessage.parse(JSON.parse(m.Body ?? ""));
        out.push(...("events" in msg ? msg.events : [msg]));
      }
    }
  };
  return { store, drain };
}

let seq = 0;
/** A one-chunk import job as POST /v1/imports would create it, and its chunk message. */
async function chunk(rows: IngestChunkMessage["rows"]): Promise<IngestChunkMessage> {
  const importId = `imp_01ARZ3NDEKTSV4RRFFQ69G${String(seq++).padStart(4, "0")}`;
  await createImport(s.store, s.workspace, {
    id: importId,
    format: "json",
    total: rows.length,
    rejected: 0,
    accounts: rows.length,
    chunks: 1,
    rowsAccepted: rows.length,
  });
  return { kind: "ingest-chunk", workspaceId: s.workspace, importId, chunk: 0, rows, at: new Date().toISOString() };
}

describe("ingest through the queue into DynamoDB Local", () => {
  it("scores, tiers and explains every account of an upload", async () => {
    const job = await (await s.api("/v1/imports", { method: "POST", csv: demoAccountsCsv(250, 7) })).json();
    expect(job.chunks).toBe(3);
    const done = await waitForImport(s, job.id);
    expect(done).toMatchObject({ status: "completed", accepted: 250, accounts: 250 });
    let seen = 0;
    let cursor: string | undefined;
    const tiers = new Set<string>();
    do {
      const page = await (await s.api(`/v1/accounts?limit=100${cursor ? `&cursor=${cursor}` : ""}`)).json();
      for (const a of page.items) tiers.add(a.tier);
      seen += page.items.length;
      cursor = page.nextCursor;
    } while (cursor);
    expect(seen).toBeGreaterThanOrEqual(250);
    expect([...tiers].sort()).toEqual(["disqualified", "generic", "nurture", "priority"]);
  });

  it("re-import updates the account, merges contacts and re-scores with a tier change event", async () => {
    const first = await (
      await s.api("/v1/imports", {
        method: "POST",
        csv: csv(["reimport.example.com,Re Co,SaaS,120,,HubSpot,,a@reimport.example.com,CEO"]),
      })
    ).json();
    await waitForImport(s, first.id);
    const before = await (await s.api("/v1/accounts/reimport.example.com")).json();
    // size 25 + industry 20 + tech 15 = 60; only 3 mandatory and no preferential criterion.
    expect(before).toMatchObject({ tier: "nurture", score: 60, qualified: false });
    const second = await (
      await s.api("/v1/imports", {
        method: "POST",
        csv: csv([
          "https://www.REIMPORT.example.com/pricing,,,,,,funding:2026-11-01:3000000,b@reimport.example.com,VP Sales",
        ]),
      })
    ).json();
    await waitForImport(s, second.id);
    const after = await (await s.api(`/v1/accounts/${before.id}`)).json();
    // + intent 20 (funding within 90 days) = 80, and now 1 preferential criterion.
    expect(after).toMatchObject({ id: before.id, name: "Re Co", tier: "priority", score: 80, qualified: true });
    expect(after.facts).toMatchObject({ employees: 120, industry: "SaaS" });
    expect(after.contacts.map((c: { email: string }) => c.email).sort()).toEqual([
      "a@reimport.example.com",
      "b@reimport.example.com",
    ]);
    expect(after.tierHistory.map((h: { from: string; to: string }) => [h.from, h.to])).toEqual([
      [null, "nurture"],
      ["nurture", "priority"],
    ]);
    const timeline = await (await s.api(`/v1/accounts/${before.id}/timeline`)).json();
    expect(timeline.items[0]).toMatchObject({ type: "tier_changed", from: "nurture", to: "priority" });
  });

  it("a redelivered chunk changes nothing and counts once; its tier changes are re-published with the same id", async () => {
    const { store, drain } = await probeStore();
    const msg = await chunk([
      { line: 2, account: { domain: "redeliver.example.com", industry: "SaaS", employees: 90 } },
    ]);
    const importId = msg.importId;
    const r1 = await ingestChunk(store, msg);
    expect(r1).toMatchObject({ written: 1, unchanged: 0, tierChanges: 1, created: 1 });
    // Crash after the writes but before the chunk was counted: the job does not list it.
    await store.ddb.send(
      new UpdateCommand({
        TableName: s.cfg.tableName,
        Key: keys.importJob(s.workspace, importId),
        UpdateExpression: "SET accepted = :z, chunksDone = :z, #s = :q REMOVE doneChunks, completedAt",
        ExpressionAttributeNames: { "#s": "status" },
        ExpressionAttributeValues: { ":z": 0, ":q": "processing" },
      }),
    );
    const r2 = await ingestChunk(store, msg);
    expect(r2).toEqual({ written: 0, unchanged: 1, tierChanges: 1, created: 0, unread: false });
    const r3 = await ingestChunk(store, msg); // fully done now: a no-op
    expect(r3).toEqual({ written: 0, unchanged: 1, tierChanges: 0, created: 0, unread: false });
    const acc = await getAccount(s.store, s.workspace, accountId(s.workspace, "redeliver.example.com"));
    expect(acc?.rev).toBe(1);
    expect(acc?.tierHistory).toHaveLength(1);
    expect(await getImport(s.store, s.workspace, importId)).toMatchObject({
      accepted: 1,
      chunksDone: 1,
      status: "completed",
    });
    const events = await drain();
    expect(events).toHaveLength(2);
    expect(events[0]?.eventId).toBe(events[1]?.eventId);
    expect(events[0]).toMatchObject({ from: null, to: "nurture", domain: "redeliver.example.com" });
  });

  it("publishes a tier change only when the tier really changes", async () => {
    const { store, drain } = await probeStore();
    const row = {
      line: 2,
      account: { domain: "stable.example.com", industry: "SaaS", employees: 100, country: "France" },
    };
    await ingestChunk(store, await chunk([row]));
    await ingestChunk(store, await chunk([{ ...row, account: { ...row.account, name: "Stable" } }]));
    const events = await drain();
    expect(events.map((e) => [e.from, e.to])).toEqual([[null, "nurture"]]);
  });

  it("concurrent imports of the same domain both land (optimistic concurrency, no lost update)", async () => {
    const { store } = await probeStore();
    const mk = (i: number) =>
      chunk([
        {
          line: 2,
          account: {
            domain: "race.example.com",
            technologies: [`Tool${i}`],
            contacts: [{ email: `p${i}@race.example.com` }],
          },
        },
      ]);
    const msgs = await Promise.all(Array.from({ length: 8 }, (_, i) => mk(i + 10)));
    await Promise.all(msgs.map((m) => ingestChunk(store, m)));
    const acc = await getAccount(s.store, s.workspace, accountId(s.workspace, "race.example.com"));
    expect(acc?.rev).toBe(8);
    expect(acc?.facts.technologies?.sort()).toEqual(Array.from({ length: 8 }, (_, i) => `Tool${i + 10}`).sort());
    expect(acc?.contacts).toHaveLength(8);
  });

  it("a poison message goes to the DLQ after maxReceiveCount while good ones in its batch succeed", async () => {
    const good = await chunk([{ line: 2, account: { domain: "good-neighbour.example.com" } }]);
    await s.store.sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: s.queues.IngestQueue?.url,
        Entries: [
          { Id: "poison", MessageBody: "{not json" },
          { Id: "bad-shape", MessageBody: JSON.stringify({ kind: "ingest-chunk", rows: "nope" }) },
          { Id: "good", MessageBody: JSON.stringify(good) },
        ],
      }),
    );
    await eventually(
      () => getAccount(s.store, s.workspace, accountId(s.workspace, "good-neighbour.example.com")),
      20_000,
      "good message",
    );
    const dead = await eventually(
      async () => {
        const res = await s.store.sqs.send(
          new ReceiveMessageCommand({
            QueueUrl: s.queues.IngestQueue?.dlqUrl,
            MaxNumberOfMessages: 10,
            WaitTimeSeconds: 1,
            VisibilityTimeout: 0,
            MessageAttributeNames: ["All"],
          }),
        );
        const msgs = (res.Messages ?? []).map((m) => [m.Body, m.MessageAttributes?.reason?.StringValue]);
        return msgs.length >= 2 ? msgs : undefined;
      },
      30_000,
      "poison messages in the DLQ",
    );
    // Dead-lettered at once, with the reason, rather than after maxReceiveCount retries.
    expect(dead.sort()).toEqual(
      [
        ["{not json", "not JSON"],
        [JSON.stringify({ kind: "ingest-chunk", rows: "nope" }), expect.stringMatching(/does not match its schema/)],
      ].sort(),
    );
  });

  it("the Lambda handler reports partial batch failures", async () => {
    const good = await chunk([{ line: 2, account: { domain: "handler.example.com" } }]);
    // Well-formed, but its import does not exist: a failure that is retried, not poison.
    const orphan = {
      ...good,
      importId: "imp_01ARZ3NDEKTSV4RRFFQ69GZZZZ",
      rows: [{ line: 2, account: { domain: "orphan.example.com" } }],
    };
    const event: SQSEvent = {
      Records: [
        { messageId: "m1", body: JSON.stringify(orphan) },
        { messageId: "m2", body: JSON.stringify(good) },
        { messageId: "m3", body: "poison" },
      ].map((r) => ({
        ...r,
        receiptHandle: r.messageId,
        attributes: {
          ApproximateReceiveCount: "1",
          SentTimestamp: "0",
          SenderId: "x",
          ApproximateFirstReceiveTimestamp: "0",
        },
        messageAttributes: {},
        md5OfBody: "",
        eventSource: "aws:sqs",
        eventSourceARN: "arn:aws:sqs:us-east-1:000000000000:x",
        awsRegion: "us-east-1",
      })),
    };
    expect(await ingestHandler(event)).toEqual({ batchItemFailures: [{ itemIdentifier: "m1" }] });
  });

  it("routes tier changes through the route queue to its handler (nothing left behind)", async () => {
    await s.store.sqs.send(new SendMessageCommand({ QueueUrl: s.queues.RouteQueue?.url, MessageBody: "{}" }));
    const job = await (
      await s.api("/v1/imports", { method: "POST", csv: csv(["routed.example.com,R,SaaS,100,France,HubSpot,,,"]) })
    ).json();
    await waitForImport(s, job.id);
    const { GetQueueAttributesCommand } = await import("@aws-sdk/client-sqs");
    await eventually(
      async () => {
        const a = await s.store.sqs.send(
          new GetQueueAttributesCommand({
            QueueUrl: s.queues.RouteQueue?.url,
            AttributeNames: ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
          }),
        );
        const left =
          Number(a.Attributes?.ApproximateNumberOfMessages) +
          Number(a.Attributes?.ApproximateNumberOfMessagesNotVisible);
        return left === 0 ? true : undefined;
      },
      30_000,
      "route queue drained (invalid event in the DLQ)",
    );
  });
});

/** The workspace's ingest lease item (packages/store/src/accounts/ingest-lease.ts). */
const lease = async (ws: string) =>
  (
    await s.store.ddb.send(
      new GetCommand({ TableName: s.cfg.tableName, Key: keys.ingestLease(ws), ConsistentRead: true }),
    )
  ).Item;

/** Change the lease item behind the code's back (a stalled worker, a cleared mark). */
const editLease = (
  ws: string,
  UpdateExpression: string,
  ExpressionAttributeNames: Record<string, string>,
  ExpressionAttributeValues?: Record<string, unknown>,
) =>
  s.store.ddb.send(
    new UpdateCommand({
      TableName: s.cfg.tableName,
      Key: keys.ingestLease(ws),
      UpdateExpression,
      ExpressionAttributeNames,
      ...(ExpressionAttributeValues ? { ExpressionAttributeValues } : {}),
    }),
  );

/** An import of `chunks` as POST /v1/imports would create it, and its chunk messages. */
async function importOf(ws: string, chunks: IngestChunkMessage["rows"][]): Promise<IngestChunkMessage[]> {
  const importId = `imp_01ARZ3NDEKTSV4RRFFQ69H${String(seq++).padStart(4, "0")}`;
  const rows = chunks.flat().length;
  await createImport(s.store, ws, {
    id: importId,
    format: "json",
    total: rows,
    rejected: 0,
    accounts: rows,
    chunks: chunks.length,
    rowsAccepted: rows,
  });
  const at = new Date().toISOString();
  return chunks.map((r, chunk) => ({ kind: "ingest-chunk", workspaceId: ws, importId, chunk, rows: r, at }));
}

/** A row whose account carries the importer's mark: one technology and one contact. */
const row = (domain: string, who: string) => ({
  line: 2,
  account: { domain, technologies: [`Tool-${who}`], contacts: [{ email: `${who}@${domain}` }] },
});

describe("ingest lease: new accounts written without conditions, never over someone else's", () => {
  let n = 0;
  /** A workspace of its own (no ICPs), so that no other test's lease state is in the way. */
  const freshWs = () => `${s.workspace}lease${n++}`;

  for (const pristine of [false, true])
    it(`concurrent multi-chunk imports of overlapping new domains keep every contact (${pristine ? "new workspace: the first term writes unread" : "workspace without a pristine lease"})`, async () => {
      const ws = freshWs();
      if (pristine) await ensureWorkspace(s.store, ws, "pristine");
      const domains = Array.from({ length: 60 }, (_, i) => `overlap${i}.example.com`);
      const imports = await Promise.all(
        ["a", "b", "c"].map((who, k) => {
          const order = [...domains.slice(k * 20), ...domains.slice(0, k * 20)]; // each import in another order
          return importOf(
            ws,
            [0, 1, 2].map((c) => order.slice(c * 20, c * 20 + 20).map((d) => row(d, who))),
          );
        }),
      );
      const msgs = imports.flat();
      const results = await Promise.all(msgs.map((m, i) => ingestChunk(s.store, msgs[(i * 4) % msgs.length] ?? m)));
      // The fast path was taken, and every account was written once per import.
      expect(results.reduce((t, r) => t + r.created, 0)).toBeGreaterThan(0);
      expect(results.reduce((t, r) => t + r.written, 0)).toBe(180);
      for (const d of domains) {
        const acc = await getAccount(s.store, ws, accountId(ws, d));
        expect(acc?.rev, d).toBe(3);
        expect(acc?.contacts.map((c) => c.email).sort(), d).toEqual([`a@${d}`, `b@${d}`, `c@${d}`]);
        expect(acc?.facts.technologies?.sort(), d).toEqual(["Tool-a", "Tool-b", "Tool-c"]);
        expect(acc?.tierHistory, d).toHaveLength(1); // one creation: the tier changed once
      }
      for (const m of imports)
        expect(await getImport(s.store, ws, m[0]?.importId ?? "")).toMatchObject({
          status: "completed",
          chunksDone: 3,
        });
      expect((await lease(ws))?.inFlight).toBeUndefined(); // every grant was released
      // Only a new workspace's first term skips reads, and never all of them here (3 imports overlap).
      const unread = results.filter((r) => r.unread).length;
      if (pristine) expect(unread).toBeGreaterThan(0);
      else expect(unread).toBe(0);
      expect(unread).toBeLessThan(9);
    });

  it("another import's chunk does not create an account while a chunk may write it unconditionally", async () => {
    const ws = freshWs();
    const d = "held.example.com";
    const [a] = await importOf(ws, [[row(d, "a")]]);
    const [b] = await importOf(ws, [[row(d, "b")]]);
    if (!a || !b) throw new Error("no chunks");
    // A's chunk holds a grant and has read the account: absent.
    const grant = await acquireIngestLease(s.store, ws, a.importId, 0);
    if (!grant) throw new Error("no grant");
    expect(await getAccount(s.store, ws, accountId(ws, d))).toBeUndefined();
    // B's chunk gets no grant and must not create the account now: it waits for A.
    const bDone = ingestChunk(s.store, b);
    await eventually(async () => ((await lease(ws))?.waiting ? true : undefined), 20_000, "B waiting");
    expect(await getAccount(s.store, ws, accountId(ws, d))).toBeUndefined();
    // A writes the account unconditionally and leaves; B then merges onto it.
    const stateA = nextAccountState(
      accountId(ws, d),
      undefined,
      row(d, "a").account,
      [],
      Date.parse(a.at),
      "import:a",
      a.at,
    );
    expect(await putNewAccounts(s.store, ws, [stateA], grant)).toEqual([]);
    await releaseIngestLease(s.store, grant);
    expect(await bDone).toMatchObject({ written: 1, created: 0 });
    const acc = await getAccount(s.store, ws, accountId(ws, d));
    expect(acc?.rev).toBe(2);
    expect(acc?.contacts.map((c) => c.email).sort()).toEqual([`a@${d}`, `b@${d}`]);
  });

  it("a duplicate delivery of a chunk being written takes the conditional path and counts once", async () => {
    const ws = freshWs();
    const [msg] = await importOf(ws, [[row("dup1.example.com", "a"), row("dup2.example.com", "a")]]);
    if (!msg) throw new Error("no chunk");
    const first = await acquireIngestLease(s.store, ws, msg.importId, 0); // the first delivery, in flight
    if (!first) throw new Error("no grant");
    expect(await acquireIngestLease(s.store, ws, msg.importId, 0)).toBeUndefined();
    const dup = ingestChunk(s.store, msg);
    await eventually(async () => ((await lease(ws))?.waiting ? true : undefined), 20_000, "duplicate waiting");
    const source = `import:${msg.importId}#0`;
    const states = msg.rows.map((r) =>
      nextAccountState(accountId(ws, r.account.domain), undefined, r.account, [], Date.parse(msg.at), source, msg.at),
    );
    expect(await putNewAccounts(s.store, ws, states, first)).toEqual([]);
    await releaseIngestLease(s.store, first);
    expect(await dup).toEqual({ written: 0, unchanged: 0, tierChanges: 2, created: 0, unread: false });
    for (const r of msg.rows) expect((await getAccount(s.store, ws, accountId(ws, r.account.domain)))?.rev).toBe(1);
    expect(await getImport(s.store, ws, msg.importId)).toMatchObject({ status: "completed", chunksDone: 1 });
  });

  it("an expired grant sends nothing more, its term is taken over, and its late release changes nothing", async () => {
    const ws = freshWs();
    const [a] = await importOf(ws, [[row("late.example.com", "a")]]);
    const [b0, b1] = await importOf(ws, [[row("next.example.com", "b")], [row("next2.example.com", "b")]]);
    if (!a || !b0 || !b1) throw new Error("no chunks");
    const grant = await acquireIngestLease(s.store, ws, a.importId, 0);
    if (!grant) throw new Error("no grant");
    // Its worker stalls past the term (a Lambda timeout): the term runs out.
    await editLease(ws, "SET #u = :past", { "#u": "until" }, { ":past": Date.now() - 1 });
    const late = nextAccountState(
      accountId(ws, "late.example.com"),
      undefined,
      row("late.example.com", "a").account,
      [],
      0,
      "x",
      a.at,
    );
    expect(await putNewAccounts(s.store, ws, [late], { ...grant, deadline: Date.now() - 1 })).toEqual([late]);
    expect(await getAccount(s.store, ws, late.id)).toBeUndefined();
    // B takes the lease over although A's chunk is still in its in-flight set.
    expect(await ingestChunk(s.store, b0)).toMatchObject({ written: 1, created: 1 });
    const b1Grant = await acquireIngestLease(s.store, ws, b1.importId, 1);
    if (!b1Grant) throw new Error("no grant");
    expect(b1Grant.term).not.toBe(grant.term);
    await releaseIngestLease(s.store, grant); // A's worker wakes up
    expect([...((await lease(ws))?.inFlight ?? [])]).toEqual([1]);
    await releaseIngestLease(s.store, b1Grant);
    expect((await lease(ws))?.inFlight).toBeUndefined();
  });
});

describe("a new workspace's first import writes its accounts without reading them", () => {
  let n = 0;
  const newWs = async () => {
    const ws = `${s.workspace}pristine${n++}`;
    await ensureWorkspace(s.store, ws, "pristine");
    return ws;
  };
  const domains = (prefix: string, k: number) => Array.from({ length: k }, (_, i) => `${prefix}${i}.example.com`);
  /** BatchGetItem keys of account items sent through a store (the reads the fast path skips). */
  function countingStore() {
    const store = createStore({ ...s.cfg });
    const counted = { accountReads: 0 };
    store.ddb.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName === "BatchGetItemCommand") {
          const req = (args.input as { RequestItems: Record<string, { Keys: { sk: string }[] }> }).RequestItems;
          for (const t of Object.values(req)) counted.accountReads += t.Keys.filter((k) => k.sk === "A").length;
        }
        return next(args);
      },
      { step: "initialize", name: "countAccountReads" },
    );
    return { store, counted };
  }

  it("reads nothing on the first import, then the next import reads and merges", async () => {
    const ws = await newWs();
    expect(await lease(ws)).toMatchObject({ pristine: true });
    const { store, counted } = countingStore();
    const first = await importOf(
      ws,
      [0, 1, 2].map((c) => domains(`first${c}-`, 20).map((d) => row(d, "a"))),
    );
    const r1 = await Promise.all(first.map((m) => ingestChunk(store, m)));
    expect(r1.map((r) => [r.unread, r.created])).toEqual([
      [true, 20],
      [true, 20],
      [true, 20],
    ]);
    expect(counted.accountReads).toBe(0);
    expect(await getImport(s.store, ws, first[0]?.importId ?? "")).toMatchObject({ status: "completed", accepted: 60 });
    // A second import (a new term) overlapping the first one reads, and merges onto what it finds.
    const again = [...domains("first1-", 20), ...domains("second", 10)];
    const second = await importOf(ws, [again.map((d) => row(d, "b"))]);
    const [r2] = await Promise.all(second.map((m) => ingestChunk(store, m)));
    expect(r2).toMatchObject({ unread: false, written: 30 });
    expect(counted.accountReads).toBe(30);
    for (const d of again) {
      const acc = await getAccount(s.store, ws, accountId(ws, d));
      const who = d.startsWith("first") ? ["a", "b"] : ["b"];
      expect(acc?.contacts.map((c) => c.email).sort(), d).toEqual(who.map((w) => `${w}@${d}`));
      expect(acc?.rev, d).toBe(who.length);
    }
    // Still pristine (every account came from the first term or was read), but that term is over.
    expect(await lease(ws)).toMatchObject({ pristine: true });
    expect((await lease(ws))?.firstTerm).not.toBe((await lease(ws))?.term);
  });

  it("a chunk granted again in the first term reads: its earlier writes may have changed since", async () => {
    const ws = await newWs();
    const [m0, m1] = await importOf(ws, [domains("again", 3).map((d) => row(d, "a")), [row("other.example.com", "a")]]);
    if (!m0 || !m1) throw new Error("no chunks");
    expect(await ingestChunk(s.store, m0)).toMatchObject({ unread: true, created: 3 });
    // The worker dies before its count lands; meanwhile the team records a deal on one account.
    await s.store.ddb.send(
      new UpdateCommand({
        TableName: s.cfg.tableName,
        Key: keys.importJob(ws, m0.importId),
        UpdateExpression: "SET accepted = :z, chunksDone = :z REMOVE doneChunks",
        ExpressionAttributeValues: { ":z": 0 },
      }),
    );
    const won = accountId(ws, "again0.example.com");
    expect(await setAccountOutcome(s.store, ws, won, { outcome: "won", at: new Date().toISOString() })).toBe(true);
    // The redelivery joins the same term but was granted before: it reads, finds its own writes, keeps the outcome.
    expect(await ingestChunk(s.store, m0)).toEqual({
      written: 0,
      unchanged: 3,
      tierChanges: 3,
      created: 0,
      unread: false,
    });
    expect(await getAccount(s.store, ws, won)).toMatchObject({ rev: 2, outcome: { outcome: "won" } });
    // The import's other chunk is still on its first grant of the first term.
    expect(await ingestChunk(s.store, m1)).toMatchObject({ unread: true, created: 1 });
    expect(await getImport(s.store, ws, m0.importId)).toMatchObject({ status: "completed", accepted: 4 });
  });

  it("an account created outside the fast path ends the pristine state: the first term's later chunks read", async () => {
    const ws = await newWs();
    const [a0, a1] = await importOf(ws, [[row("a0.example.com", "a")], [row("shared.example.com", "a")]]);
    const [b] = await importOf(ws, [[row("shared.example.com", "b")]]);
    if (!a0 || !a1 || !b) throw new Error("no chunks");
    // A's first chunk holds the first term's grant; B's chunk gets none and creates the shared
    // account conditionally once A's chunk is out of flight.
    const grant = await acquireIngestLease(s.store, ws, a0.importId, 0);
    expect(grant?.fresh).toBe(true);
    if (!grant) throw new Error("no grant");
    const bDone = ingestChunk(s.store, b);
    await eventually(async () => ((await lease(ws))?.waiting ? true : undefined), 20_000, "B waiting");
    await releaseIngestLease(s.store, grant);
    expect(await bDone).toMatchObject({ written: 1, unread: false });
    expect((await lease(ws))?.pristine).toBeUndefined();
    // A's next chunk joins the same (first) term, but must read now, and merges onto B's account.
    await editLease(ws, "REMOVE #w", { "#w": "waiting" });
    const joined = await acquireIngestLease(s.store, ws, a1.importId, 1);
    expect(joined).toMatchObject({ term: grant.term, fresh: false });
    if (joined) await releaseIngestLease(s.store, joined);
    expect(await ingestChunk(s.store, a1)).toMatchObject({ unread: false, written: 1 });
    const shared = await getAccount(s.store, ws, accountId(ws, "shared.example.com"));
    expect(shared?.contacts.map((c) => c.email).sort()).toEqual(["a@shared.example.com", "b@shared.example.com"]);
  });

  it("a workspace is pristine only when it is created: existing ones and stray lease items are not", async () => {
    const ws = await newWs();
    await editLease(ws, "REMOVE #p", { "#p": "pristine" });
    await ensureWorkspace(s.store, ws, "again"); // exists: changes nothing
    expect((await lease(ws))?.pristine).toBeUndefined();
    // A lease item left without its workspace item (accounts may exist): the workspace is created, not pristine.
    const stray = `${s.workspace}stray${n++}`;
    await acquireIngestLease(s.store, stray, "imp_01ARZ3NDEKTSV4RRFFQ69PSTRAY", 0);
    await ensureWorkspace(s.store, stray, "stray");
    expect((await lease(stray))?.pristine).toBeUndefined();
    expect(
      (
        await s.store.ddb.send(
          new GetCommand({ TableName: s.cfg.tableName, Key: keys.workspace(stray), ConsistentRead: true }),
        )
      ).Item,
    ).toMatchObject({ id: stray, name: "stray" });
  });
});
