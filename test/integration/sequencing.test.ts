import { CreateQueueCommand, ReceiveMessageCommand } from "@aws-sdk/client-sqs";
import { UpdateCommand } from "@aws-sdk/lib-dynamodb";
import { accountId, DEMO_ICP, type Enrollment, SendStepMessage, type TierChangedEvent, type Track } from "@icp/core";
import {
  accountEnrollments,
  claimDueSteps,
  completeStep,
  createStore,
  deferStep,
  enroll,
  getEnrollment,
  keys,
  listEnrollments,
  openEnrollments,
  publishTierChanges,
  runTick,
  staleClaims,
  stopAccountEnrollments,
} from "@icp/store";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually, type TestStack, testStack, waitForImport } from "../support/stack.js";

let s: TestStack;
const seq: Record<Track, string> = { priority: "", nurture: "", generic: "" };

/** A sequence whose first step is days away, so the background tick leaves it alone during the test. */
async function createSequence(name: string, steps = 2): Promise<string> {
  const res = await s.api("/v1/sequences", {
    method: "POST",
    json: {
      name,
      steps: Array.from({ length: steps }, (_, i) => ({
        id: `s${i + 1}`,
        channel: "email",
        delay: { amount: i === 0 ? 5 : 2, unit: "business_days" },
        content: { subject: `Hello ${i + 1}`, body: "Hi there, a short note." },
      })),
    },
  });
  expect(res.status).toBe(201);
  return ((await res.json()) as { id: string }).id;
}

const csv = (rows: string[]) =>
  `Website,Company,Industry,Employees,Country,Technologies,Signals,Email,Title,Time Zone\n${rows.join("\n")}\n`;
const recent = new Date(Date.now() - 5 * 86_400_000).toISOString().slice(0, 10);
const priorityRow = (d: string, tz = "") =>
  `${d},${d},SaaS,120,Germany,HubSpot,funding:${recent},vp@${d},VP Sales,${tz}`;
const nurtureRow = (d: string) => `${d},${d},SaaS,120,Germany,,,ceo@${d},CEO,`;
const genericRow = (d: string) => `${d},${d},Retail,120,Brazil,,,x@${d},Buyer,`;
const disqualifiedRow = (d: string) => `${d},${d},SaaS,5,Germany,HubSpot,,y@${d},CEO,`;

const idOf = (domain: string) => accountId(s.workspace, domain);
const enrollmentsOf = async (domain: string) => {
  const res = await s.api(`/v1/accounts/${domain}/enrollments?limit=100`);
  expect(res.status).toBe(200);
  return ((await res.json()) as { items: Enrollment[] }).items;
};

let eventSeq = 0;
/** A tier change as ingest or the rescore would publish it, on the real route queue. */
async function tierChange(
  domain: string,
  from: TierChangedEvent["from"],
  to: TierChangedEvent["to"],
  eventId?: string,
) {
  const evt: TierChangedEvent = {
    kind: "tier-changed",
    eventId: eventId ?? `evt_test_${Date.now()}_${eventSeq++}`,
    workspaceId: s.workspace,
    accountId: idOf(domain),
    domain,
    from,
    to,
    score: to === "priority" ? 80 : 50,
    icpId: null,
    icpVersion: null,
    segment: "saas",
    at: new Date().toISOString(),
    source: "test",
  };
  await publishTierChanges(s.store, [evt]);
  return evt;
}

/** Wait until the account's open enrollments are exactly `tracks` (and routing has settled). */
async function waitOpen(domain: string, tracks: Track[]): Promise<Enrollment[]> {
  return eventually(
    async () => {
      const list = await openEnrollments(s.store, s.workspace, idOf(domain));
      const got = list.map((e) => e.track).sort();
      return JSON.stringify(got) === JSON.stringify([...tracks].sort()) ? list : undefined;
    },
    20_000,
    `${domain} open in [${tracks.join(", ")}]`,
  );
}

/** The route worker has processed the event (the account remembers it). */
async function waitRouted(evt: TierChangedEvent) {
  await eventually(
    async () => {
      const { GetCommand } = await import("@aws-sdk/lib-dynamodb");
      const res = await s.store.ddb.send(
        new GetCommand({
          TableName: s.cfg.tableName,
          Key: keys.routeState(s.workspace, evt.accountId),
          ConsistentRead: true,
        }),
      );
      return (res.Item?.seen as string[] | undefined)?.includes(evt.eventId) ? true : undefined;
    },
    20_000,
    `route of ${evt.eventId}`,
  );
}

beforeAll(async () => {
  s = await testStack();
  expect((await s.api("/v1/icps", { method: "POST", json: DEMO_ICP })).status).toBe(201);
  seq.priority = await createSequence("Priority outreach");
  seq.nurture = await createSequence("Nurture");
  seq.generic = await createSequence("Generic content", 1);
  const put = await s.api("/v1/routing-rules", {
    method: "PUT",
    json: {
      rules: [
        { tier: "priority", sequenceId: seq.priority },
        { tier: "nurture", sequenceId: seq.nurture },
        { tier: "generic", sequenceId: seq.generic },
      ],
      reEntry: { mode: "never" },
    },
  });
  expect(put.status).toBe(200);
  const job = (await (
    await s.api("/v1/imports", {
      method: "POST",
      csv: csv([
        priorityRow("prio-one.com", "America/New_York"),
        priorityRow("prio-two.com"),
        priorityRow("prio-three.com"),
        nurtureRow("nurt-one.com"),
        nurtureRow("nurt-two.com"),
        genericRow("gen-one.com"),
        disqualifiedRow("dq-one.com"),
      ]),
    })
  ).json()) as { id: string };
  expect(await waitForImport(s, job.id)).toMatchObject({ status: "completed", accepted: 7 });
}, 60_000);
afterAll(() => s?.stop());

describe("routing tier changes into sequences (import -> route queue -> enrollments)", () => {
  it("enrolls imported accounts in their tier's sequence, addressing the persona contact in its zone", async () => {
    for (const d of ["prio-one.com", "prio-two.com", "prio-three.com"]) {
      const [e] = await waitOpen(d, ["priority"]);
      expect(e).toMatchObject({ sequenceId: seq.priority, status: "active", stepIndex: 0, stepId: "s1", claim: null });
      expect(e?.source).toMatch(/^route:/);
    }
    await waitOpen("nurt-one.com", ["nurture"]);
    await waitOpen("gen-one.com", ["generic"]);
    const [p1] = await enrollmentsOf("prio-one.com");
    expect(p1?.timezone).toBe("America/New_York");
    expect(p1?.contactId).toBeDefined();
    // The first step is 5 business days out, at an opening of the recipient's window (08:00-18:00 local, Mon-Fri).
    const due = new Date(p1?.dueAt ?? "");
    expect(due.getTime()).toBeGreaterThan(Date.now() + 5 * 86_400_000);
    const local = new Intl.DateTimeFormat("en-US", {
      timeZone: "America/New_York",
      hourCycle: "h23",
      hour: "2-digit",
      weekday: "short",
    }).formatToParts(due);
    const hour = Number(local.find((p) => p.type === "hour")?.value);
    expect(hour).toBeGreaterThanOrEqual(8);
    expect(hour).toBeLessThan(18);
    expect(["Sat", "Sun"]).not.toContain(local.find((p) => p.type === "weekday")?.value);
    // Disqualified accounts are never enrolled.
    expect(await enrollmentsOf("dq-one.com")).toEqual([]);
  });

  it("nurture -> priority (a real funding signal re-scores it): stops nurture and enrolls priority", async () => {
    const [before] = await waitOpen("nurt-two.com", ["nurture"]);
    const res = await s.api("/v1/accounts/nurt-two.com/signals", {
      method: "POST",
      json: { signals: [{ type: "funding", at: recent }] },
    });
    expect(await res.json()).toMatchObject({ tier: "priority", tierChange: { from: "nurture", to: "priority" } });
    const [now] = await waitOpen("nurt-two.com", ["priority"]);
    expect(now?.sequenceId).toBe(seq.priority);
    expect(await getEnrollment(s.store, s.workspace, before?.id ?? "")).toMatchObject({
      status: "stopped",
      stopReason: "tier changed from nurture to priority",
      dueAt: null,
    });
  });

  it("priority -> nurture moves the account; redelivery and late older events change nothing; re-entry never", async () => {
    const [p] = await waitOpen("prio-two.com", ["priority"]);
    const move = await tierChange("prio-two.com", "priority", "nurture");
    const [n] = await waitOpen("prio-two.com", ["nurture"]);
    expect(n?.sequenceId).toBe(seq.nurture);
    expect((await getEnrollment(s.store, s.workspace, p?.id ?? ""))?.status).toBe("stopped");

    // The same event again (SQS redelivery): deduped by event id, nothing changes.
    await publishTierChanges(s.store, [move]);
    // An older event arriving late must not undo the newer move.
    const late = {
      ...move,
      eventId: `${move.eventId}-late`,
      from: null,
      to: "priority" as const,
      at: new Date(Date.parse(move.at) - 60_000).toISOString(),
    };
    await publishTierChanges(s.store, [late]);
    await waitRouted(late);
    await waitRouted(move);
    expect((await openEnrollments(s.store, s.workspace, idOf("prio-two.com"))).map((e) => e.id)).toEqual([n?.id]);

    // Back to priority: nurture stops, but the priority sequence is not entered twice (re-entry never).
    const back = await tierChange("prio-two.com", "nurture", "priority");
    await waitRouted(back);
    await waitOpen("prio-two.com", []);
    const all = await accountEnrollments(s.store, s.workspace, idOf("prio-two.com"));
    expect(all.filter((e) => e.sequenceId === seq.priority)).toHaveLength(1);
  });

  it("-> disqualified stops everything", async () => {
    await waitOpen("prio-three.com", ["priority"]);
    const dq = await tierChange("prio-three.com", "priority", "disqualified");
    await waitRouted(dq);
    await waitOpen("prio-three.com", []);
    const all = await accountEnrollments(s.store, s.workspace, idOf("prio-three.com"));
    expect(all.length).toBeGreaterThan(0);
    for (const e of all) expect(e.status).toBe("stopped");
  });

  it("re-entry after N days: refused inside the period, allowed once it has passed", async () => {
    const put = await s.api("/v1/routing-rules", {
      method: "PUT",
      json: {
        rules: [
          { tier: "priority", sequenceId: seq.priority },
          { tier: "nurture", sequenceId: seq.nurture },
          { tier: "generic", sequenceId: seq.generic },
        ],
        reEntry: { mode: "after_days", days: 7 },
      },
    });
    expect(put.status).toBe(200);
    const [first] = await waitOpen("prio-one.com", ["priority"]);
    await waitRouted(await tierChange("prio-one.com", "priority", "disqualified"));
    await waitRouted(await tierChange("prio-one.com", "disqualified", "priority"));
    expect(await openEnrollments(s.store, s.workspace, idOf("prio-one.com"))).toEqual([]);

    // Ten days pass (the stopped enrollment's end moves back in time).
    await s.store.ddb.send(
      new UpdateCommand({
        TableName: s.cfg.tableName,
        Key: keys.enrollment(s.workspace, first?.id ?? ""),
        UpdateExpression: "SET updatedAt = :t",
        ExpressionAttributeValues: { ":t": new Date(Date.now() - 10 * 86_400_000).toISOString() },
      }),
    );
    await waitRouted(await tierChange("prio-one.com", "priority", "generic"));
    await waitOpen("prio-one.com", ["generic"]);
    await waitRouted(await tierChange("prio-one.com", "generic", "priority"));
    const [again] = await waitOpen("prio-one.com", ["priority"]);
    expect(again?.sequenceId).toBe(seq.priority);
    expect(again?.id).not.toBe(first?.id);
  });

  it("one open enrollment per account per track, even under concurrent enrolls", async () => {
    const accountId = idOf("gen-one.com");
    await stopAccountEnrollments(s.store, s.workspace, accountId, "test reset");
    const results = await Promise.all(
      Array.from({ length: 10 }, () =>
        enroll(s.store, s.workspace, { accountId, sequenceId: seq.nurture, track: "nurture", source: "manual" }),
      ),
    );
    expect(results.filter((r) => r.created)).toHaveLength(1);
    expect(new Set(results.map((r) => r.enrollment.id)).size).toBe(1);
  });
});

describe("scheduler: claiming due steps", () => {
  const FUTURE = () => new Date(Date.now() + 60 * 86_400_000);

  it("10 concurrent tick invocations on 200 due enrollments claim each exactly once", async () => {
    const rows = Array.from({ length: 200 }, (_, i) => priorityRow(`bulk-${i}.com`));
    const job = (await (await s.api("/v1/imports", { method: "POST", csv: csv(rows) })).json()) as { id: string };
    await waitForImport(s, job.id);
    // Every account routed into the priority sequence.
    const bulkIds = new Set(rows.map((_, i) => idOf(`bulk-${i}.com`)));
    const due = await eventually(
      async () => {
        const ids: string[] = [];
        let bulk = 0;
        let cursor: string | undefined;
        do {
          const page = await listEnrollments(s.store, s.workspace, {
            status: "active",
            limit: 500,
            ...(cursor ? { cursor } : {}),
          });
          ids.push(...page.items.map((e) => e.id));
          bulk += page.items.filter((e) => bulkIds.has(e.accountId)).length;
          cursor = page.nextCursor;
        } while (cursor);
        return bulk === 200 ? ids : undefined;
      },
      60_000,
      "200 enrollments",
    );
    expect(due.length).toBeGreaterThanOrEqual(200);
    const active = (await Promise.all(due.map((id) => getEnrollment(s.store, s.workspace, id)))).filter(
      (e) => e?.status === "active" && e.claim === null,
    );

    const at = FUTURE();
    const runs = await Promise.all(
      Array.from({ length: 10 }, () => claimDueSteps(s.store, at, { limit: 1000, concurrency: 8 })),
    );
    const claimed = runs.flat();
    const ids = claimed.map((m) => m.enrollmentId);
    expect(new Set(ids).size).toBe(ids.length); // nobody claimed twice
    expect(new Set(ids)).toEqual(new Set(active.map((e) => e?.id)));
    expect(runs.filter((r) => r.length > 0).length).toBeGreaterThan(1); // they really raced
    for (const m of claimed) expect(SendStepMessage.parse(m)).toMatchObject({ stepIndex: 0, stepId: "s1" });
    // Claimed steps left the due index: nothing more to claim.
    expect(await claimDueSteps(s.store, at, { limit: 1000 })).toEqual([]);

    // Completing a claimed step schedules the next one (2 business days, in the window); once only.
    const m = claimed[0] as SendStepMessage;
    const done = await completeStep(s.store, s.workspace, m.enrollmentId, m.claim, {
      stepId: "s1",
      outcome: "sent",
      at,
    });
    expect(done).toMatchObject({ ok: true, duplicate: false, enrollment: { stepIndex: 1, stepId: "s2", claim: null } });
    const again = await completeStep(s.store, s.workspace, m.enrollmentId, m.claim, {
      stepId: "s1",
      outcome: "sent",
      at,
    });
    expect(again).toMatchObject({ ok: true, duplicate: true });
    const e = await getEnrollment(s.store, s.workspace, m.enrollmentId);
    expect(e?.history).toHaveLength(1);
    expect(Date.parse(e?.dueAt ?? "")).toBeGreaterThan(at.getTime() + 86_400_000);
    // A stale claim changes nothing.
    expect(
      await completeStep(s.store, s.workspace, m.enrollmentId, "not-the-claim", { stepId: "s2", outcome: "sent", at }),
    ).toEqual({ ok: false, reason: "stale-claim" });

    // Deferring gives the step back to the due index at the next opening.
    const m2 = claimed[1] as SendStepMessage;
    const deferred = await deferStep(s.store, s.workspace, m2.enrollmentId, m2.claim, at, "cap reached");
    expect(deferred).toMatchObject({ claim: null, deferReason: "cap reached", stepIndex: 0 });
    expect(await deferStep(s.store, s.workspace, m2.enrollmentId, m2.claim, at, "again")).toBeUndefined();
    const reclaimed = await eventually(async () => {
      const r = await claimDueSteps(s.store, new Date(at.getTime() + 7 * 86_400_000), { limit: 10 });
      return r.find((x) => x.enrollmentId === m2.enrollmentId) ? r : undefined;
    });
    const m3 = reclaimed.find((x) => x.enrollmentId === m2.enrollmentId) as SendStepMessage;
    expect(m3.claim).not.toBe(m2.claim);

    // The last step completes the enrollment and frees the track.
    const m4 = claimed[2] as SendStepMessage;
    await completeStep(s.store, s.workspace, m4.enrollmentId, m4.claim, { stepId: "s1", outcome: "sent", at });
    const next = await eventually(async () => {
      const rr = await claimDueSteps(s.store, new Date(at.getTime() + 30 * 86_400_000), { limit: 1000 });
      return rr.find((x) => x.enrollmentId === m4.enrollmentId);
    });
    const fin = await completeStep(s.store, s.workspace, m4.enrollmentId, next?.claim ?? "", {
      stepId: "s2",
      outcome: "sent",
      at,
    });
    expect(fin).toMatchObject({ ok: true, enrollment: { status: "completed", dueAt: null } });
    const acc = (await getEnrollment(s.store, s.workspace, m4.enrollmentId))?.accountId ?? "";
    expect(await openEnrollments(s.store, s.workspace, acc)).toEqual([]);
  }, 120_000);

  it("the tick publishes claimed steps on the send queue and re-queues stale claims with the same claim", async () => {
    const q = await s.store.sqs.send(new CreateQueueCommand({ QueueName: `probe-send-${Date.now()}` }));
    const url = q.QueueUrl ?? "";
    const probe = createStore({ ...s.cfg, queues: { ...s.cfg.queues, SendQueue: url } });
    const fresh = await Promise.all(
      Array.from({ length: 5 }, (_, i) =>
        enroll(s.store, s.workspace, {
          accountId: idOf(`bulk-${i}.com`),
          sequenceId: seq.generic,
          track: "generic",
          source: "manual",
        }),
      ),
    );
    const at = new Date(Date.now() + 200 * 86_400_000);
    const r = await runTick(probe, () => at);
    const got: SendStepMessage[] = [];
    for (;;) {
      const res = await probe.sqs.send(new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10 }));
      if (!res.Messages?.length) break;
      for (const msg of res.Messages) got.push(SendStepMessage.parse(JSON.parse(msg.Body ?? "")));
    }
    expect(r.claimed).toBeGreaterThanOrEqual(5);
    // The earlier test's claims were never completed: older than 10 minutes, they went out again.
    expect(r.requeued).toBeGreaterThan(100);
    expect(got).toHaveLength(r.claimed + r.requeued);
    expect(new Set(got.map((m) => m.enrollmentId)).size).toBe(got.length);
    for (const f of fresh) expect(got.map((m) => m.enrollmentId)).toContain(f.enrollment.id);
    // Nobody completes them: 10 minutes later they are stale and go out again, with the same claims.
    const later = new Date(at.getTime() + 11 * 60_000);
    const stale = await staleClaims(probe, later);
    expect(new Set(stale.map((m) => `${m.enrollmentId}|${m.claim}`))).toEqual(
      new Set(got.map((m) => `${m.enrollmentId}|${m.claim}`)),
    );
    // And not again right away.
    expect(await staleClaims(probe, new Date(later.getTime() + 60_000))).toEqual([]);
  }, 60_000);
});
