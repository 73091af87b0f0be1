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
  getAccount,
  getImport,
  ingestChunk,
  keys,
  nextAccountState,
  putNewAccounts,
  releaseIngestLease,
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
    expect(r1).toEqual({ written: 1, unchanged: 0, tierChanges: 1, created: 1 });
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
    expect(r2).toEqual({ written: 0, unchanged: 1, tierChanges: 1, created: 0 });
    const r3 = await ingestChunk(store, msg); // fully done now: a no-op
    expect(r3).toEqual({ written: 0, unchanged: 1, tierChanges: 0, created: 0 });
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

describe("ingest lease: new accounts written without conditions, never over someone else's", () => {
  let n = 0;
  /** A workspace of its own (no ICPs), so that no other test's lease state is in the way. */
  const freshWs = () => `${s.workspace}lease${n++}`;
  const lease = async (ws: string) =>
    (
      await s.store.ddb.send(
        new GetCommand({ TableName: s.cfg.tableName, Key: keys.ingestLease(ws), ConsistentRead: true }),
      )
    ).Item;
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
  const row = (domain: string, who: string) => ({
    line: 2,
    account: { domain, technologies: [`Tool-${who}`], contacts: [{ email: `${who}@${domain}` }] },
  });

  it("concurrent multi-chunk imports of overlapping new domains keep every contact", async () => {
    const ws = freshWs();
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
      expect(await getImport(s.store, ws, m[0]?.importId ?? "")).toMatchObject({ status: "completed", chunksDone: 3 });
    expect((await lease(ws))?.inFlight).toBeUndefined(); // every grant was released
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
    expect(await dup).toEqual({ written: 0, unchanged: 0, tierChanges: 2, created: 0 });
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
    await s.store.ddb.send(
      new UpdateCommand({
        TableName: s.cfg.tableName,
        Key: keys.ingestLease(ws),
        UpdateExpression: "SET #u = :past",
        ExpressionAttributeNames: { "#u": "until" },
        ExpressionAttributeValues: { ":past": Date.now() - 1 },
      }),
    );
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
