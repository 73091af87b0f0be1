import { createHash } from "node:crypto";
import { inflateRawSync } from "node:zlib";
import { GetCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import { DEMO_ICP, demoAccountsCsv, type EngagementEventsMessage, type EventType } from "@icp/core";
import {
  engagementMarkers,
  engagementReport,
  engagementSummary,
  enroll,
  eventsBetween,
  getEnrollment,
  isSuppressed,
  keys,
  MAX_IDS_PER_ACCOUNT,
  openEnrollments,
  publish,
  publishEvents,
  recordEvents,
} from "@icp/store";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { drained, normalize, recomputeCounters, storedCounters } from "../support/events.js";
import { eventually, type TestStack, testStack, waitForImport } from "../support/stack.js";

let s: TestStack;
let accounts: { id: string; domain: string; tier: string; segment: string }[] = [];

beforeAll(async () => {
  s = await testStack();
  expect((await s.api("/v1/icps", { method: "POST", json: DEMO_ICP })).status).toBe(201);
  const job = await (await s.api("/v1/imports", { method: "POST", csv: demoAccountsCsv(60, 11) })).json();
  await waitForImport(s, job.id);
  const page = await (await s.api("/v1/accounts?limit=100")).json();
  accounts = page.items;
  expect(accounts.length).toBe(60);
}, 120_000);
afterAll(() => s?.stop(), 60_000);

const acc = (i: number) => accounts[i] as (typeof accounts)[number];
const total = async (from: string, to: string) =>
  (await engagementReport(s.store, s.workspace, { groupBy: "segment", from, to })).totals;

describe("engagement events through the EventQueue worker", () => {
  it("records each event id once under redelivery, across batches and provider retries", async () => {
    const a = acc(0);
    const at = "2026-03-02T10:00:00.000Z";
    const events = [
      { id: "p-1", type: "sent" as const, accountId: a.id, contactEmail: "ann@x.io", at },
      { id: "p-2", type: "opened" as const, accountId: a.id, contactEmail: "ann@x.io", at: "2026-03-02T11:00:00.000Z" },
      {
        id: "p-3",
        type: "opened" as const,
        domain: a.domain,
        contactEmail: "bob@x.io",
        at: "2026-03-02T12:00:00.000Z",
      },
    ];
    const res = await s.api("/v1/events", { method: "POST", json: events });
    expect(res.status).toBe(202);
    expect(await res.json()).toEqual({ accepted: 3, ids: ["p-1", "p-2", "p-3"] });
    await drained(s, "EventQueue");
    // The very same message delivered twice more, and a provider retrying p-2 in another batch.
    const msg: EngagementEventsMessage = { kind: "engagement-events", workspaceId: s.workspace, events };
    await publish(s.store, "EventQueue", [msg, msg]);
    await publishEvents(s.store, s.workspace, [{ ...events[1], at: "2026-03-02T11:05:00.000Z" } as never]);
    await drained(s, "EventQueue");
    const sum = await engagementSummary(s.store, s.workspace, a.id);
    expect(sum.events).toBe(3);
    const t = await total("2026-03-02", "2026-03-02");
    expect(t).toMatchObject({ accountsReached: 1, sent: 1, accountsSent: 1, opened: 1, events: 3 });
    const m = await engagementMarkers(s.store, s.workspace, a.id);
    expect(m.account).toEqual({ sent: at, opened: "2026-03-02T11:00:00.000Z" });
    expect(Object.keys(m.byContact).sort()).toEqual(["ann@x.io", "bob@x.io"]);
  });

  it("keeps the true first time of late, out-of-order events and moves the unique count to its day", async () => {
    const a = acc(1);
    await publishEvents(s.store, s.workspace, [
      { id: "o-late", type: "opened", accountId: a.id, enrollmentId: "enr_1", at: "2026-04-10T09:00:00.000Z" },
    ]);
    await drained(s, "EventQueue");
    expect((await total("2026-04-10", "2026-04-10")).opened).toBe(1);
    await publishEvents(s.store, s.workspace, [
      { id: "o-early", type: "opened", accountId: a.id, enrollmentId: "enr_1", at: "2026-04-08T09:00:00.000Z" },
    ]);
    await drained(s, "EventQueue");
    const m = await engagementMarkers(s.store, s.workspace, a.id);
    expect(m.account.opened).toBe("2026-04-08T09:00:00.000Z");
    expect(m.byEnrollment.enr_1?.opened).toBe("2026-04-08T09:00:00.000Z");
    // The account opened once: on the 8th, no longer on the 10th; both events still count as events.
    expect(await total("2026-04-10", "2026-04-10")).toMatchObject({ opened: 0, events: 1 });
    expect(await total("2026-04-08", "2026-04-08")).toMatchObject({ opened: 1, events: 1 });
    expect(await total("2026-04-01", "2026-04-30")).toMatchObject({ opened: 1, accountsReached: 1, events: 2 });
  });

  it("shows engagement events on the account timeline with their fields, newest first", async () => {
    const a = acc(2);
    await publishEvents(s.store, s.workspace, [
      {
        id: "tl-1",
        type: "sent",
        accountId: a.id,
        sequenceId: "seq_x",
        stepId: "intro",
        channel: "email",
        at: "2026-05-01T08:00:00.000Z",
      },
      {
        id: "tl-2",
        type: "clicked",
        accountId: a.id,
        url: "https://acme.example/pricing",
        at: "2026-05-03T08:00:00.000Z",
      },
      { id: "tl-3", type: "won", accountId: a.id, amount: 12000, at: "2026-05-20T08:00:00.000Z" },
    ]);
    await drained(s, "EventQueue");
    const tl = await (await s.api(`/v1/accounts/${a.id}/timeline`)).json();
    const engagement = tl.items.filter((i: { kind?: string }) => i.kind === "engagement");
    expect(engagement.map((i: { id: string }) => i.id)).toEqual(["tl-3", "tl-2", "tl-1"]);
    expect(engagement[0]).toMatchObject({ type: "won", amount: 12000, at: "2026-05-20T08:00:00.000Z" });
    expect(engagement[1]).toMatchObject({ type: "clicked", url: "https://acme.example/pricing" });
    expect(engagement[2]).toMatchObject({ type: "sent", sequenceId: "seq_x", stepId: "intro", channel: "email" });
    expect(engagement[0].gsi1pk).toBeUndefined();
    const lift = await (await s.api("/v1/reports/icp-lift?from=2026-05-01&to=2026-05-31")).json();
    const tier = lift.byTier.find((t: { tier: string }) => t.tier === a.tier);
    expect(tier).toMatchObject({ won: 1, revenue: 12000, averageDealSize: 12000, salesCycleMedianDays: 19 });
  });

  it("suppresses unsubscribed and hard-bounced emails", async () => {
    const a = acc(3);
    await publishEvents(s.store, s.workspace, [
      { type: "unsubscribed", accountId: a.id, contactEmail: "Gone@Example.org" },
      { type: "bounced", accountId: a.id, contactEmail: "bounce@example.net" },
    ]);
    await drained(s, "EventQueue");
    expect(await isSuppressed(s.store, s.workspace, { email: "gone@example.org" })).toEqual({
      suppressed: true,
      reason: "unsubscribed",
    });
    expect(await isSuppressed(s.store, s.workspace, { email: "bounce@example.net" })).toEqual({
      suppressed: true,
      reason: "hard-bounce",
    });
    expect((await isSuppressed(s.store, s.workspace, { email: "other@example.org" })).suppressed).toBe(false);
    // Do-not-contact domains through the API.
    expect(
      (await s.api("/v1/suppressions", { method: "POST", json: { domain: "https://www.Rival.com/" } })).status,
    ).toBe(201);
    expect(await isSuppressed(s.store, s.workspace, { email: "ceo@rival.com" })).toMatchObject({ suppressed: true });
    const list = await (await s.api("/v1/suppressions")).json();
    expect(list.items.map((i: { value: string }) => i.value).sort()).toEqual([
      "bounce@example.net",
      "gone@example.org",
      "rival.com",
    ]);
    expect((await s.api("/v1/suppressions?domain=rival.com", { method: "DELETE" })).status).toBe(204);
    expect((await s.api("/v1/suppressions?domain=rival.com", { method: "DELETE" })).status).toBe(404);
    expect((await isSuppressed(s.store, s.workspace, { email: "ceo@rival.com" })).suppressed).toBe(false);
  });

  it("stops the account's sequences on a reply", async () => {
    const seq = await s.api("/v1/sequences", {
      method: "POST",
      json: {
        name: "Intro",
        steps: [
          { id: "s1", channel: "email", content: { subject: "Hi", body: "Hello" } },
          {
            id: "s2",
            channel: "email",
            delay: { amount: 3, unit: "business_days" },
            content: { subject: "Re", body: "Again" },
          },
        ],
      },
    });
    expect(seq.status).toBe(201);
    const { id: sequenceId } = await seq.json();
    const a = accounts.find((x, i) => i > 4 && x.tier !== "disqualified") ?? acc(5);
    const { enrollment } = await enroll(s.store, s.workspace, {
      accountId: a.id,
      sequenceId,
      track: "nurture",
      source: "manual",
    });
    expect((await openEnrollments(s.store, s.workspace, a.id)).length).toBeGreaterThan(0);
    await publishEvents(s.store, s.workspace, [{ type: "replied", accountId: a.id, sequenceId, stepId: "s1" }]);
    await drained(s, "EventQueue");
    expect(await openEnrollments(s.store, s.workspace, a.id)).toEqual([]);
    expect((await getEnrollment(s.store, s.workspace, enrollment.id))?.status).toBe("stopped");
  });

  it("drops events for unknown accounts without failing the worker", async () => {
    const res = await publishEvents(s.store, s.workspace, [
      { id: "u-1", type: "opened", domain: "no-such-account.example" },
      { id: "u-2", type: "opened", accountId: acc(6).id, at: "2026-06-01T00:00:00.000Z" },
    ]);
    expect(res.accepted).toBe(2);
    await drained(s, "EventQueue");
    expect((await engagementSummary(s.store, s.workspace, acc(6).id)).events).toBe(1);
    expect(await total("2026-06-01", "2026-06-01")).toMatchObject({ events: 1, accountsReached: 1 });
  });
});

/** Seeded PRNG (mulberry32). */
function rng(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe("counters reconcile with the events", () => {
  it("agree with a recompute from the stored events after a random stream with duplicates and redeliveries", async () => {
    const r = rng(20260501);
    const pick = <T>(xs: readonly T[]) => xs[Math.floor(r() * xs.length)] as T;
    const types: EventType[] = [
      "sent",
      "delivered",
      "opened",
      "clicked",
      "replied",
      "meeting_booked",
      "won",
      "lost",
      "bounced",
    ];
    const pool = accounts.slice(10, 40);
    const events = Array.from({ length: 400 }, (_, i) => {
      const type = pick(types);
      const day = 1 + Math.floor(r() * 2);
      return {
        id: `rnd-${i}`,
        type,
        accountId: pick(pool).id,
        ...(r() < 0.7 ? { contactEmail: `c${Math.floor(r() * 3)}@contacts.example` } : {}),
        ...(r() < 0.8
          ? {
              sequenceId: pick(["seq_a", "seq_b"]),
              sequenceVersion: 1,
              stepId: pick(["s1", "s2", "s3"]),
              variant: pick(["A", "B"]),
            }
          : {}),
        ...(r() < 0.8 ? { channel: pick(["email", "linkedin_message"] as const) } : {}),
        ...(type === "won" ? { amount: Math.round(r() * 50_000) } : {}),
        at: new Date(Date.UTC(2026, 6, day, Math.floor(r() * 24), Math.floor(r() * 60))).toISOString(),
      };
    });
    // Shuffled batches, with ~20% of the events repeated in other batches, and every message sent twice.
    const stream = [...events, ...events.filter(() => r() < 0.2)].sort(() => r() - 0.5);
    const messages: EngagementEventsMessage[] = [];
    for (let i = 0; i < stream.length; ) {
      const n = 1 + Math.floor(r() * 250);
      const batch = stream.slice(i, i + n);
      const unique = [...new Map(batch.map((e) => [e.id, e])).values()];
      messages.push({ kind: "engagement-events", workspaceId: s.workspace, events: unique });
      i += n;
    }
    await publish(s.store, "EventQueue", [...messages, ...messages]);
    await drained(s, "EventQueue", 240_000);

    const stored = await eventsBetween(s.store, s.workspace, "2026-07-01", "2026-07-31");
    expect(stored.length).toBe(400);
    const expected = normalize(recomputeCounters(stored));
    const actual = await storedCounters(s.store, s.workspace);
    const july = new Map([...actual].filter(([k]) => k.split("\t")[2]?.startsWith("2026-07")));
    expect(july.size).toBeGreaterThan(100);
    expect(Object.fromEntries(july)).toEqual(Object.fromEntries(expected));

    // Totals equal the sum of groups, for every grouping, with and without filters.
    for (const groupBy of ["segment", "tier", "icp", "sequence", "step", "channel", "variant"] as const) {
      const rep = await engagementReport(s.store, s.workspace, { groupBy, from: "2026-07-01", to: "2026-07-31" });
      for (const k of ["accountsReached", "sent", "opened", "clicked", "replied", "meetings", "won", "events"] as const)
        expect(rep.totals[k]).toBe(rep.groups.reduce((x, g) => x + g[k], 0));
      expect(rep.totals.revenue).toBeCloseTo(
        rep.groups.reduce((x, g) => x + g.revenue, 0),
        2,
      );
    }
    const bySegment = await engagementReport(s.store, s.workspace, {
      groupBy: "segment",
      from: "2026-07-01",
      to: "2026-07-31",
    });
    expect(bySegment.totals.events).toBe(400);
    expect(bySegment.totals.accountsReached).toBe(new Set(events.map((e) => e.accountId)).size);
    const seg = bySegment.groups[0]?.group as string;
    const filtered = await engagementReport(s.store, s.workspace, {
      groupBy: "sequence",
      from: "2026-07-01",
      to: "2026-07-31",
      segment: seg,
    });
    const inSeg = new Set(pool.filter((a) => a.segment === seg).map((a) => a.id));
    expect(filtered.totals.sent).toBe(
      events.filter((e) => e.type === "sent" && e.sequenceId && inSeg.has(e.accountId)).length,
    );
    const timeline = await eventually(async () => {
      const tl = await (await s.api(`/v1/accounts/${pool[0]?.id}/timeline?limit=500`)).json();
      return tl.items.length ? tl.items : undefined;
    });
    expect(timeline.filter((i: { kind?: string }) => i.kind === "engagement").length).toBe(
      events.filter((e) => e.accountId === pool[0]?.id).length,
    );
  }, 300_000);
});

describe("exactly once when a worker dies half-way or copies of a message race", () => {
  const msgOf = (events: EngagementEventsMessage["events"]): EngagementEventsMessage => ({
    kind: "engagement-events",
    workspaceId: s.workspace,
    events,
  });
  const batchKeyOf = (m: EngagementEventsMessage) =>
    createHash("sha256").update(JSON.stringify(m)).digest("hex").slice(0, 32);
  const kinds: EventType[] = ["sent", "opened", "clicked", "replied", "bounced"];
  const make = (prefix: string, n: number, pool: typeof accounts, day: number) =>
    Array.from({ length: n }, (_, i) => ({
      id: `${prefix}-${i}`,
      type: kinds[i % kinds.length] as EventType,
      accountId: (pool[i % pool.length] as (typeof accounts)[number]).id,
      contactEmail: `k${i % 4}@dies.example`,
      sequenceId: "seq_k",
      sequenceVersion: 1,
      stepId: `s${i % 3}`,
      variant: i % 2 ? "A" : "B",
      channel: "email" as const,
      at: new Date(Date.UTC(2026, 7, day, i % 24, i % 60)).toISOString(),
    }));

  it("counts every event once after a failure at each step, concurrent copies and a takeover", async () => {
    const pool = accounts.slice(44, 56);
    const all: EngagementEventsMessage["events"][] = [];
    // A worker dying after each step: the failed delivery, then the message again.
    for (const [i, step] of (["committed", "owed", "counted"] as const).entries()) {
      const events = make(`die${i}`, 30, pool, 1 + i);
      all.push(events);
      const m = msgOf(events);
      await expect(
        recordEvents(s.store, m, undefined, (at) => {
          if (at === step) throw new Error(`killed after ${step}`);
        }),
      ).rejects.toThrow(/killed/);
      const again = await recordEvents(s.store, m);
      // Every step that was reached is not redone: the events were recorded by the failed delivery.
      expect(again).toMatchObject({ recorded: 0, duplicates: 30 });
    }
    // Three copies of one message at once, with an overlapping message and a provider retry in it.
    const a = make("race", 40, pool, 5);
    const b = [...make("race-b", 25, pool.slice(6), 5), a[3] as (typeof a)[number]];
    all.push(a, b.slice(0, 25));
    const runs = await Promise.all([
      recordEvents(s.store, msgOf(a)),
      recordEvents(s.store, msgOf(a)),
      recordEvents(s.store, msgOf(b)),
      recordEvents(s.store, msgOf(a)),
    ]);
    expect(runs.reduce((n, r) => n + r.recorded, 0)).toBe(65);
    // A holder that is still running when its claim runs out: another copy takes over and finishes first.
    const t = make("takeover", 30, pool, 7);
    all.push(t);
    const m = msgOf(t);
    let paused: () => void = () => {};
    let reached: () => void = () => {};
    const atCommitted = new Promise<void>((r) => {
      reached = r;
    });
    const slow = recordEvents(s.store, m, undefined, (step) =>
      step === "committed"
        ? new Promise<void>((r) => {
            paused = r;
            reached();
          })
        : undefined,
    );
    await atCommitted;
    await s.store.ddb.send(
      new UpdateCommand({
        TableName: s.store.cfg.tableName,
        Key: keys.eventBatch(s.workspace, batchKeyOf(m)),
        UpdateExpression: "SET #until = :zero",
        ExpressionAttributeNames: { "#until": "until" },
        ExpressionAttributeValues: { ":zero": 0 },
      }),
    );
    const fast = await recordEvents(s.store, m);
    expect(fast.recorded).toBe(0);
    // Another batch rewrites those accounts meanwhile (dropping the done batch's shares).
    const later = make("after-takeover", 12, pool, 8);
    all.push(later);
    await recordEvents(s.store, msgOf(later));
    paused();
    expect((await slow).recorded).toBe(30);
    const done = await s.store.ddb.send(
      new GetCommand({ TableName: s.store.cfg.tableName, Key: keys.eventBatch(s.workspace, batchKeyOf(m)) }),
    );
    expect(done.Item?.st).toBe("done");

    const stored = await eventsBetween(s.store, s.workspace, "2026-08-01", "2026-08-31");
    const ids = all.flat().map((e) => e.id);
    expect(stored.map((e) => e.id).sort()).toEqual([...ids].sort());
    const expected = normalize(recomputeCounters(stored));
    const actual = await storedCounters(s.store, s.workspace);
    const august = new Map([...actual].filter(([k]) => k.split("\t")[2]?.startsWith("2026-08")));
    expect(Object.fromEntries(august)).toEqual(Object.fromEntries(expected));
    for (const acc of pool)
      expect((await engagementSummary(s.store, s.workspace, acc.id)).events).toBe(
        all.flat().filter((e) => e.accountId === acc.id).length,
      );
    // Effects of events recorded by a delivery that died before running them ran on the retry.
    expect(await isSuppressed(s.store, s.workspace, { email: "k0@dies.example" })).toMatchObject({ suppressed: true });
  }, 180_000);

  it("recognises an old event by its timeline entry once its id left the account's recent ids", async () => {
    const a = acc(57);
    const n = MAX_IDS_PER_ACCOUNT + 100;
    const events = Array.from({ length: n }, (_, i) => ({
      id: `old-${i}`,
      type: "opened" as const,
      accountId: a.id,
      at: new Date(Date.UTC(2026, 8, 1) + i * 60_000).toISOString(),
    }));
    for (let i = 0; i < n; i += 400) await recordEvents(s.store, msgOf(events.slice(i, i + 400)));
    const item = await s.store.ddb.send(
      new GetCommand({ TableName: s.store.cfg.tableName, Key: keys.engagement(s.workspace, a.id) }),
    );
    // The nested parts are stored deflated (z); the item stays far below DynamoDB's 400 KB.
    const nested = JSON.parse(inflateRawSync(item.Item?.z).toString("utf8"));
    expect(nested.ids.length).toBe(MAX_IDS_PER_ACCOUNT);
    expect(nested.ids).not.toContain("old-0");
    expect(item.Item?.floor).toBe(events[n - 1]?.at);
    expect(item.Item?.z.length).toBeLessThan(50_000);
    // A provider retrying the oldest events (same id and time) in a new batch, with two new events.
    const retry = [
      ...events.slice(0, 3),
      { id: "old-new-1", type: "clicked" as const, accountId: a.id, at: "2026-09-01T00:30:00.000Z" },
      { id: "old-new-2", type: "clicked" as const, accountId: a.id, at: "2026-09-03T00:00:00.000Z" },
    ];
    const r = await recordEvents(s.store, msgOf(retry));
    expect(r).toMatchObject({ recorded: 2, duplicates: 3 });
    expect((await engagementSummary(s.store, s.workspace, a.id)).events).toBe(n + 2);
    expect(await total("2026-09-01", "2026-09-30")).toMatchObject({ events: n + 2, opened: 1, clicked: 1 });
  }, 180_000);
});
