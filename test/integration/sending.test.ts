import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import { UpdateCommand } from "@aws-sdk/lib-dynamodb";
import { accountId, type SendStepMessage, SequenceDefinition, utcDay, verifyWebhook } from "@icp/core";
import {
  addSuppression,
  claimDueSteps,
  createSender,
  createSequence,
  enroll,
  ensureWorkspace,
  getEnrollment,
  getSendRecord,
  keys,
  listCapturedMail,
  mailTransportFromEnv,
  putApiKey,
  putSendingSettings,
  RetryLaterError,
  SENDING_LIVE_MS,
  senderUsage,
  sendStep,
} from "@icp/store";
import type { SQSBatchResponse, SQSEvent } from "aws-lambda";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { z } from "zod";
import { handler as sendHandler } from "../../functions/send.js";
import { eventually, type TestStack, testStack, waitForImport } from "../support/stack.js";

/**
 * The send worker on the real local stack: DynamoDB Local, the in-process SQS, the SMTP
 * capture server, functions/send.ts as Lambda runs it.
 */
let s: TestStack;
beforeAll(async () => {
  s = await testStack();
});
afterAll(() => s?.stop());

const ALWAYS_OPEN = { timezone: "UTC", days: [1, 2, 3, 4, 5, 6, 7], start: "00:00", end: "24:00", holidays: [] };

let n = 0;
/** A workspace with its own key, an always-open sending window and `count` accounts with one contact each. */
async function workspace(count: number, label: string) {
  const ws = `${s.workspace}${label}${n++}`;
  await ensureWorkspace(s.store, ws, "test");
  const key = `key-${ws}`;
  await putApiKey(s.store, ws, key, "test");
  await putSendingSettings(s.store, ws, ALWAYS_OPEN);
  const api = (path: string, init: RequestInit & { json?: unknown } = {}) =>
    fetch(`${s.url}${path}`, {
      ...init,
      headers: { authorization: `Bearer ${key}`, "content-type": "application/json", ...(init.headers ?? {}) },
      body: init.json !== undefined ? JSON.stringify(init.json) : (init.body ?? null),
    });
  const domains = Array.from({ length: count }, (_, i) => `${label}-${i}-${ws}.example.com`.toLowerCase());
  const accounts = domains.map((domain, i) => ({
    domain,
    name: `Company ${i}`,
    contacts: [{ email: `lead${i}@${domain}`, firstName: `Ann${i}`, title: "VP Sales" }],
  }));
  const job = (await (await api("/v1/imports", { method: "POST", json: { accounts } })).json()) as { id: string };
  const done = await waitForImport({ ...s, api: (p, i) => api(p, i as RequestInit) } as TestStack, job.id);
  expect(done).toMatchObject({ status: "completed" });
  return { ws, api, ids: domains.map((d) => accountId(ws, d)), domains };
}

const sequence = (steps: z.input<typeof SequenceDefinition>["steps"]) =>
  SequenceDefinition.parse({ name: "test", steps });

const EMAIL_STEP = {
  id: "e1",
  channel: "email" as const,
  content: {
    subject: "Hello {{company}}",
    body: '<p>Hi {{default firstName "there"}}, see <a href="https://example.org/deck?a=1&amp;b=2">our deck</a>.</p>',
  },
};

/** Enroll each account, due at `at`, and claim exactly their steps as the tick would at that time. */
async function enrollAndClaim(ws: string, accounts: string[], def: SequenceDefinition, at: Date) {
  const seq = await createSequence(s.store, ws, def, "test");
  const ids: string[] = [];
  for (const a of accounts) {
    const r = await enroll(s.store, ws, { accountId: a, sequenceId: seq.id, track: "priority", source: "manual" }, at);
    ids.push(r.enrollment.id);
  }
  const msgs: SendStepMessage[] = [];
  await eventually(async () => {
    msgs.push(...(await claimDueSteps(s.store, new Date(at.getTime() + 60_000), { limit: 1000 })));
    return ids.every((id) => msgs.some((m) => m.enrollmentId === id)) ? true : undefined;
  });
  return { seq, msgs: msgs.filter((m) => ids.includes(m.enrollmentId)) };
}

let delivery = 0;
const sqsEvent = (msgs: SendStepMessage[]): SQSEvent => ({
  Records: msgs.map((m) => ({
    messageId: `m-${delivery++}`,
    receiptHandle: "r",
    body: JSON.stringify(m),
    attributes: {
      ApproximateReceiveCount: "1",
      SentTimestamp: "0",
      SenderId: "x",
      ApproximateFirstReceiveTimestamp: "0",
    },
    messageAttributes: {},
    md5OfBody: "",
    eventSource: "aws:sqs",
    eventSourceARN: "arn:aws:sqs:us-east-1:000000000000:SendQueue",
    awsRegion: "us-east-1",
  })),
});
const deliver = (msgs: SendStepMessage[]) => sendHandler(sqsEvent(msgs)) as Promise<SQSBatchResponse>;

async function mailTo(ws: string, address: string) {
  const { items } = await listCapturedMail(s.store, ws, { limit: 200 });
  return items.filter((m) => m.to.includes(address));
}

// Each test works at its own point in the future, so the steps it claims are only its own.
let epoch = Date.now() + 3 * 86_400_000;
const nextEpoch = () => {
  epoch += 7 * 86_400_000;
  return new Date(epoch);
};

describe("sending email through the SMTP capture", () => {
  it("the tick claims a due step and the worker mails it with List-Unsubscribe, tracking and its Message-ID", async () => {
    const w = await workspace(1, "tick");
    await createSender(s.store, w.ws, { kind: "mailbox", name: "Sam Seller", email: "sam@seller.example" });
    const seq = await createSequence(s.store, w.ws, sequence([EMAIL_STEP]), "test");
    const { enrollment } = await enroll(s.store, w.ws, {
      accountId: w.ids[0] as string,
      sequenceId: seq.id,
      track: "priority",
      source: "manual",
    });
    const to = `lead0@${w.domains[0]}`;
    const [mail] = await eventually(async () => {
      const got = await mailTo(w.ws, to);
      return got.length ? got : undefined;
    }, 30_000);
    expect(mail?.subject).toBe("Hello Company 0");
    expect(mail?.from).toBe("sam@seller.example");
    expect(mail?.messageId).toBe(`<${enrollment.id}.e1@icp-sequencer>`);
    expect(mail?.headers["list-unsubscribe"]).toMatch(/^<http:\/\/[^>]+\/u\/[\w-]+\.[\w-]+>$/);
    expect(mail?.headers["list-unsubscribe-post"]).toBe("List-Unsubscribe=One-Click");
    expect(mail?.text).toContain("Hi Ann0");
    expect(mail?.text).toMatch(/Unsubscribe: http:\/\/\S+\/u\//);
    expect(mail?.html).toMatch(/href="http:\/\/[^"]+\/t\/c\/[\w-]+\.[\w-]+"/);
    expect(mail?.html).not.toContain("https://example.org/deck");
    expect(mail?.html).toMatch(/<img src="http:\/\/[^"]+\/t\/o\//);

    const done = await eventually(async () => {
      const e = await getEnrollment(s.store, w.ws, enrollment.id);
      return e?.status === "completed" ? e : undefined;
    });
    expect(done.history).toMatchObject([{ stepId: "e1", outcome: "sent" }]);
    expect(await getSendRecord(s.store, w.ws, enrollment.id, "e1")).toMatchObject({ status: "sent" });

    // GET /v1/mail: newest first, this workspace only.
    const listed = (await (await w.api("/v1/mail")).json()) as { items: { to: string[] }[] };
    expect(listed.items.map((m) => m.to[0])).toEqual([to]);
    const other = (await (await s.api("/v1/mail")).json()) as { items: unknown[] };
    expect(other.items).toEqual([]);
    // The sender shows today's usage.
    const sender = (await (await w.api("/v1/senders")).json()) as { items: { usage: { sent: number }[] }[] };
    expect(sender.items[0]?.usage[0]?.sent).toBe(1);
  });
});

describe("exactly one email per step", () => {
  it("the same message delivered twice, sequentially and concurrently, sends once", async () => {
    const w = await workspace(2, "dup");
    const { msgs } = await enrollAndClaim(w.ws, w.ids, sequence([EMAIL_STEP]), nextEpoch());
    const [a, b] = msgs as [SendStepMessage, SendStepMessage];
    expect((await deliver([a])).batchItemFailures).toEqual([]);
    expect((await deliver([a])).batchItemFailures).toEqual([]);
    const both = await Promise.all([deliver([b]), deliver([b]), deliver([b, b])]);
    // A copy that finds another one sending is asked back (a partial batch failure); SQS redelivers it
    // and by then the step is done.
    const askedBack = both.flatMap((r) => r.batchItemFailures);
    expect(askedBack.length).toBeLessThan(4);
    for (const _ of askedBack) expect((await deliver([b])).batchItemFailures).toEqual([]);
    expect(await mailTo(w.ws, `lead0@${w.domains[0]}`)).toHaveLength(1);
    expect(await mailTo(w.ws, `lead1@${w.domains[1]}`)).toHaveLength(1);
    for (const m of msgs) {
      const e = await getEnrollment(s.store, w.ws, m.enrollmentId);
      expect(e?.status).toBe("completed");
      expect(e?.history.map((h) => h.outcome)).toEqual(["sent"]);
    }
  });

  it("a worker dying between the transport and the acknowledgement never causes a second email", async () => {
    const w = await workspace(1, "crash");
    const { msgs } = await enrollAndClaim(w.ws, w.ids, sequence([EMAIL_STEP]), nextEpoch());
    const msg = msgs[0] as SendStepMessage;
    const crash = sendStep(s.store, msg, {
      transport: () => mailTransportFromEnv(),
      afterTransport: () => {
        throw new Error("worker killed");
      },
    });
    await expect(crash).rejects.toThrow("worker killed");
    expect(await mailTo(w.ws, `lead0@${w.domains[0]}`)).toHaveLength(1);
    expect(await getSendRecord(s.store, w.ws, msg.enrollmentId, "e1")).toMatchObject({ status: "sending" });

    // A copy delivered while the record is young enough to belong to a live worker comes back later.
    expect((await deliver([msg])).batchItemFailures).toHaveLength(1);
    expect(await getSendRecord(s.store, w.ws, msg.enrollmentId, "e1")).toMatchObject({ status: "sending" });
    // SQS redelivers the message to a fresh worker after the handler's timeout (twice, for good measure).
    await ageSendRecord(w.ws, msg.enrollmentId, "e1", SENDING_LIVE_MS + 1000);
    expect((await deliver([msg])).batchItemFailures).toEqual([]);
    expect((await deliver([msg])).batchItemFailures).toEqual([]);
    expect(await mailTo(w.ws, `lead0@${w.domains[0]}`)).toHaveLength(1);
    expect(await getSendRecord(s.store, w.ws, msg.enrollmentId, "e1")).toMatchObject({ status: "uncertain" });
    const e = await getEnrollment(s.store, w.ws, msg.enrollmentId);
    expect(e?.status).toBe("completed");
    expect(e?.history[0]?.detail).toMatch(/^uncertain/);
  });
});

describe("a mail transport that cannot be created", () => {
  it("sends nothing and spends nothing: the step comes back later, then goes out once the transport works", async () => {
    const w = await workspace(1, "notransport");
    const sender = await createSender(s.store, w.ws, { kind: "mailbox", name: "Sam", email: "sam@seller.example" });
    const { msgs } = await enrollAndClaim(w.ws, w.ids, sequence([EMAIL_STEP]), nextEpoch());
    const msg = msgs[0] as SendStepMessage;
    const misconfigured = () => Promise.reject(new Error("no mail transport: set ICP_SMTP_URL"));
    await expect(sendStep(s.store, msg, { transport: misconfigured })).rejects.toThrow(RetryLaterError);
    const throwsAtOnce = () => {
      throw new Error("bad SMTP URL");
    };
    await expect(sendStep(s.store, msg, { transport: throwsAtOnce })).rejects.toThrow(RetryLaterError);
    // No send record (so no `uncertain` later), no cap slot, the claim still held.
    expect(await getSendRecord(s.store, w.ws, msg.enrollmentId, "e1")).toBeUndefined();
    expect((await senderUsage(s.store, w.ws, [sender])).get(sender.id)?.[0]?.sent).toBe(0);
    expect(await getEnrollment(s.store, w.ws, msg.enrollmentId)).toMatchObject({ status: "active", claim: msg.claim });

    await expect(sendStep(s.store, msg, { transport: () => mailTransportFromEnv() })).resolves.toMatchObject({
      outcome: "sent",
    });
    expect(await mailTo(w.ws, `lead0@${w.domains[0]}`)).toHaveLength(1);
    expect((await senderUsage(s.store, w.ws, [sender])).get(sender.id)?.[0]?.sent).toBe(1);
  });
});

describe("a duplicate delivery overlapping a running send", () => {
  it("waits for the next delivery instead of failing the step, and the step ends sent", async () => {
    const w = await workspace(1, "overlap");
    const { msgs } = await enrollAndClaim(w.ws, w.ids, sequence([EMAIL_STEP]), nextEpoch());
    const msg = msgs[0] as SendStepMessage;
    let entered: () => void = () => {};
    const inTransport = new Promise<void>((r) => {
      entered = r;
    });
    let release: () => void = () => {};
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const slowSend = sendStep(s.store, msg, {
      transport: async () => {
        const real = await mailTransportFromEnv();
        return {
          name: "slow",
          send: async (m) => {
            entered();
            await gate;
            return real.send(m);
          },
        };
      },
    });
    await inTransport;
    // The copy arrives while the first delivery is inside the transport.
    const copy = sendStep(s.store, msg, {
      transport: () => mailTransportFromEnv(),
      delivery: { receiveCount: 1, maxReceives: 5 },
    });
    await expect(copy).rejects.toThrow(RetryLaterError);
    release();
    await expect(slowSend).resolves.toMatchObject({ outcome: "sent" });
    // Its redelivery finds the step done and changes nothing.
    await expect(sendStep(s.store, msg, { transport: () => mailTransportFromEnv() })).resolves.toMatchObject({
      outcome: "dropped",
    });
    expect(await mailTo(w.ws, `lead0@${w.domains[0]}`)).toHaveLength(1);
    const e = await getEnrollment(s.store, w.ws, msg.enrollmentId);
    expect(e?.status).toBe("completed");
    expect(e?.history.map((h) => h.outcome)).toEqual(["sent"]);
    expect(await getSendRecord(s.store, w.ws, msg.enrollmentId, "e1")).toMatchObject({ status: "sent" });
  });

  it("on the last receive before the DLQ, a young record is settled as uncertain rather than dead-lettered", async () => {
    const w = await workspace(1, "lastrecv");
    const { msgs } = await enrollAndClaim(w.ws, w.ids, sequence([EMAIL_STEP]), nextEpoch());
    const msg = msgs[0] as SendStepMessage;
    await expect(
      sendStep(s.store, msg, {
        transport: () => mailTransportFromEnv(),
        afterTransport: () => {
          throw new Error("worker killed");
        },
      }),
    ).rejects.toThrow("worker killed");
    const last = sendStep(s.store, msg, {
      transport: () => mailTransportFromEnv(),
      delivery: { receiveCount: 4, maxReceives: 5 },
    });
    await expect(last).resolves.toMatchObject({ outcome: "uncertain" });
    expect(await mailTo(w.ws, `lead0@${w.domains[0]}`)).toHaveLength(1);
    expect(await getSendRecord(s.store, w.ws, msg.enrollmentId, "e1")).toMatchObject({ status: "uncertain" });
  });
});

/** Make a send record look as old as a record left by a worker that died `ms` ago. */
async function ageSendRecord(ws: string, enrollmentId: string, stepId: string, ms: number) {
  await s.store.ddb.send(
    new UpdateCommand({
      TableName: s.cfg.tableName,
      Key: keys.sendRecord(ws, enrollmentId, stepId),
      UpdateExpression: "SET updatedAt = :t",
      ExpressionAttributeValues: { ":t": new Date(Date.now() - ms).toISOString() },
    }),
  );
}

describe("sender caps", () => {
  it("20 concurrent invocations on one mailbox never exceed its cap; the rest are deferred, not dropped", async () => {
    const w = await workspace(20, "cap");
    const sender = await createSender(s.store, w.ws, {
      kind: "mailbox",
      name: "Capped",
      email: "capped@seller.example",
      limits: { emailStart: 5, emailMax: 5, emailGapSeconds: 0, emailGapJitterSeconds: 0 },
    });
    const { msgs } = await enrollAndClaim(w.ws, w.ids, sequence([EMAIL_STEP]), nextEpoch());
    expect(msgs).toHaveLength(20);
    const results = await Promise.all(msgs.map((m) => deliver([m])));
    for (const r of results) expect(r.batchItemFailures).toEqual([]);

    const { items } = await listCapturedMail(s.store, w.ws, { limit: 100 });
    expect(items).toHaveLength(5);
    const usage = (await senderUsage(s.store, w.ws, [sender])).get(sender.id);
    expect(usage?.[0]).toMatchObject({ sent: 5, limit: 5 });

    const tomorrow = `${utcDay(new Date(Date.now() + 86_400_000))}T00:00:00.000Z`;
    const states = await Promise.all(msgs.map((m) => getEnrollment(s.store, w.ws, m.enrollmentId)));
    const completed = states.filter((e) => e?.status === "completed");
    const deferred = states.filter((e) => e?.status === "active");
    expect(completed).toHaveLength(5);
    expect(deferred).toHaveLength(15);
    for (const e of deferred) {
      expect(e?.claim).toBeNull();
      expect(e?.senderId).toBe(sender.id);
      expect(e?.deferReason).toMatch(/daily cap/);
      expect(String(e?.dueAt) >= tomorrow).toBe(true);
    }
  });

  it("the minimum gap lets one of 20 concurrent sends through", async () => {
    const w = await workspace(20, "gap");
    await createSender(s.store, w.ws, { kind: "mailbox", name: "Gap", email: "gap@seller.example" });
    const { msgs } = await enrollAndClaim(w.ws, w.ids, sequence([EMAIL_STEP]), nextEpoch());
    await Promise.all(msgs.map((m) => deliver([m])));
    expect((await listCapturedMail(s.store, w.ws, { limit: 100 })).items).toHaveLength(1);
    const states = await Promise.all(msgs.map((m) => getEnrollment(s.store, w.ws, m.enrollmentId)));
    expect(states.filter((e) => e?.status === "active" && e.deferReason?.includes("gap cap"))).toHaveLength(19);
  });
});

describe("stop rules", () => {
  it("a suppressed contact or domain is not mailed and its enrollment stops", async () => {
    const w = await workspace(2, "sup");
    await addSuppression(s.store, w.ws, { email: `lead0@${w.domains[0]}`, reason: "unsubscribed" });
    await addSuppression(s.store, w.ws, { domain: w.domains[1] as string, reason: "do not contact" });
    const { msgs } = await enrollAndClaim(w.ws, w.ids, sequence([EMAIL_STEP]), nextEpoch());
    expect((await deliver(msgs)).batchItemFailures).toEqual([]);
    expect((await listCapturedMail(s.store, w.ws, { limit: 10 })).items).toEqual([]);
    for (const m of msgs) {
      const e = await getEnrollment(s.store, w.ws, m.enrollmentId);
      expect(e?.status).toBe("stopped");
      expect(e?.stopReason).toMatch(/^suppressed: (unsubscribed|do not contact)$/);
      expect(e?.history).toEqual([]);
    }
  });
});

describe("tasks and webhooks", () => {
  it("LinkedIn steps become tasks; completing one records the engagement", async () => {
    const w = await workspace(1, "task");
    const def = sequence([
      { id: "inv", channel: "linkedin_invite", content: { body: "Hi {{firstName}}, let's connect." } },
      {
        id: "msg",
        channel: "linkedin_message",
        delay: { amount: 1, unit: "hours" },
        condition: { event: "connection_accepted", happened: true },
        content: { body: "Thanks for connecting" },
      },
    ]);
    const { msgs } = await enrollAndClaim(w.ws, w.ids, def, nextEpoch());
    expect((await deliver(msgs)).batchItemFailures).toEqual([]);
    const list = (await (await w.api("/v1/tasks?status=open&channel=linkedin_invite")).json()) as {
      items: { id: string; body: string; contact: { name: string }; stepId: string }[];
    };
    expect(list.items).toHaveLength(1);
    const task = list.items[0] as (typeof list.items)[number];
    expect(task).toMatchObject({ stepId: "inv", body: "Hi Ann0, let's connect.", contact: { name: "Ann0" } });
    expect(
      ((await (await w.api("/v1/tasks?status=open&channel=call_task")).json()) as { items: unknown[] }).items,
    ).toEqual([]);

    const res = await w.api(`/v1/tasks/${task.id}/complete`, {
      method: "POST",
      json: { outcome: "connection_accepted" },
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ status: "done", outcome: "connection_accepted" });
    const again = await w.api(`/v1/tasks/${task.id}/complete`, { method: "POST", json: { outcome: "done" } });
    expect(again.status).toBe(409);
    expect(again.headers.get("content-type")).toContain("application/problem+json");
    const bad = await w.api(`/v1/tasks/${task.id}/complete`, { method: "POST", json: { outcome: "nope" } });
    expect(bad.status).toBe(400);
    // Another workspace cannot see or complete it.
    expect((await s.api(`/v1/tasks/${task.id}`)).status).toBe(404);

    const e = await getEnrollment(s.store, w.ws, msgs[0]?.enrollmentId as string);
    expect(e?.history).toMatchObject([{ stepId: "inv", outcome: "task" }]);
    // The accepted invite reaches the account's engagement (events worker), so the next step's condition holds.
    await eventually(async () => {
      const t = (await (await w.api(`/v1/accounts/${w.ids[0]}/timeline`)).json()) as { items: { type: string }[] };
      return t.items?.some((i) => i.type === "connection_accepted") ? true : undefined;
    });
  });

  it("webhook steps are POSTed signed with the workspace secret; a non-2xx is retried, delivered once", async () => {
    const w = await workspace(1, "hook");
    const got: { body: string; signature: string; key: string }[] = [];
    let fail = 1;
    const server = createServer((req: IncomingMessage, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        if (fail-- > 0) {
          res.writeHead(503).end();
          return;
        }
        got.push({
          body: Buffer.concat(chunks).toString("utf8"),
          signature: String(req.headers["x-icp-signature"]),
          key: String(req.headers["x-icp-idempotency-key"]),
        });
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
    process.env.ICP_WEBHOOK_ALLOW_PRIVATE = "true"; // the receiver is local http, as in development
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
      const rotated = await w.api("/v1/settings/webhook-secret", { method: "POST" });
      expect(rotated.status).toBe(201);
      const { secret } = (await rotated.json()) as { secret: string };
      const info = (await (await w.api("/v1/settings/webhook-secret")).json()) as Record<string, unknown>;
      expect(info).toMatchObject({ configured: true, last4: secret.slice(-4) });
      expect(JSON.stringify(info)).not.toContain(secret);

      const def = sequence([
        { id: "hook", channel: "webhook", webhookUrl: url, content: { body: "{{company}} is ready for {{title}}" } },
      ]);
      const { msgs } = await enrollAndClaim(w.ws, w.ids, def, nextEpoch());
      const first = await deliver(msgs);
      expect(first.batchItemFailures).toHaveLength(1); // 503: SQS will retry it
      expect(await getSendRecord(s.store, w.ws, msgs[0]?.enrollmentId as string, "hook")).toMatchObject({
        status: "retryable",
      });
      expect((await deliver(msgs)).batchItemFailures).toEqual([]);
      expect((await deliver(msgs)).batchItemFailures).toEqual([]);
      expect(got).toHaveLength(1);
      const hit = got[0] as (typeof got)[number];
      expect(verifyWebhook(secret, hit.signature, hit.body)).toBe(true);
      expect(verifyWebhook(secret, hit.signature, hit.body.replace("Company 0", "Company 1"))).toBe(false);
      expect(verifyWebhook("whsec_other", hit.signature, hit.body)).toBe(false);
      expect(JSON.parse(hit.body)).toMatchObject({
        stepId: "hook",
        content: { text: "Company 0 is ready for VP Sales" },
        account: { domain: w.domains[0] },
      });
      expect(hit.key).toBe(`<${msgs[0]?.enrollmentId}.hook@icp-sequencer>`);
    } finally {
      delete process.env.ICP_WEBHOOK_ALLOW_PRIVATE;
      server.close();
    }
  });

  it("a webhook to a private target is refused at save (422 unsafe-url); with ICP_WEBHOOK_ALLOW_PRIVATE it saves and goes out", async () => {
    const w = await workspace(1, "hooksave");
    let hits = 0;
    const server = createServer((req, res) => {
      hits++;
      req.resume().on("end", () => res.writeHead(204).end());
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
    const body = {
      name: "hooks",
      steps: [
        { id: "e1", channel: "email", content: { subject: "Hi", body: "Hello" } },
        { id: "hook", channel: "webhook", webhookUrl: url, content: { body: "{{domain}}" } },
      ],
    };
    try {
      const refused = await w.api("/v1/sequences", { method: "POST", json: body });
      expect(refused.status).toBe(422);
      expect(refused.headers.get("content-type")).toContain("application/problem+json");
      const problem = (await refused.json()) as { type: string; errors: { field: string; step: string }[] };
      expect(problem.type).toBe("/problems/unsafe-url");
      expect(problem.errors).toEqual([expect.objectContaining({ field: "steps.1.webhookUrl", step: "hook" })]);
      const https = { ...body, steps: [{ ...body.steps[1], webhookUrl: "https://169.254.169.254/latest" }] };
      expect((await w.api("/v1/sequences", { method: "POST", json: https })).status).toBe(422);

      process.env.ICP_WEBHOOK_ALLOW_PRIVATE = "true";
      const saved = await w.api("/v1/sequences", { method: "POST", json: { ...body, steps: [body.steps[1]] } });
      expect(saved.status).toBe(201);
      const { id } = (await saved.json()) as { id: string };
      const e = await enroll(s.store, w.ws, {
        accountId: w.ids[0] as string,
        sequenceId: id,
        track: "priority",
        source: "manual",
      });
      const done = await eventually(async () => {
        const got = await getEnrollment(s.store, w.ws, e.enrollment.id);
        return got?.status === "completed" ? got : undefined;
      }, 30_000);
      expect(done.history).toMatchObject([{ stepId: "hook", outcome: "webhook" }]);
      expect(hits).toBe(1);
    } finally {
      delete process.env.ICP_WEBHOOK_ALLOW_PRIVATE;
      server.close();
    }
  });

  it("at send time, a name resolving to a loopback address is refused (unsafe-address) and nothing is posted", async () => {
    const w = await workspace(1, "hookdns");
    // Saved straight to the store: the name passes the save-time check, only DNS says where it goes.
    const def = sequence([
      { id: "hook", channel: "webhook", webhookUrl: "https://hooks.rebind.test/x", content: { body: "{{domain}}" } },
    ]);
    const { msgs } = await enrollAndClaim(w.ws, w.ids, def, nextEpoch());
    const msg = msgs[0] as SendStepMessage;
    let asked = 0;
    const lookup = async () => {
      asked++;
      return [{ address: "127.0.0.1", family: 4 }];
    };
    const r = await sendStep(s.store, msg, { transport: () => mailTransportFromEnv(), lookup });
    expect(asked).toBe(1);
    expect(r).toMatchObject({ outcome: "failed", detail: "webhook: unsafe-address" });
    expect(await getSendRecord(s.store, w.ws, msg.enrollmentId, "hook")).toMatchObject({
      status: "failed",
      detail: "unsafe-address",
    });
    const e = await getEnrollment(s.store, w.ws, msg.enrollmentId);
    expect(e?.history).toMatchObject([{ stepId: "hook", outcome: "failed", detail: "webhook: unsafe-address" }]);
  });
});
