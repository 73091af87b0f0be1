import {
  type CappedChannel,
  type CapUsage,
  capDecision,
  channelLimits,
  DEFAULT_SENDER_LIMITS,
  emailDailyLimit,
  mailboxAgeDays,
  nextSendAt,
  SenderLimits,
  utcDay,
  utcWeek,
} from "@icp/core";
import fc from "fast-check";
import { describe, expect, it } from "vitest";

const START = Date.parse("2025-03-03T00:00:00Z"); // a Monday
const DAY = 86_400_000;

const limitsArb = fc.record({
  emailStart: fc.integer({ min: 1, max: 40 }),
  emailRampPerDay: fc.integer({ min: 0, max: 5 }),
  emailMax: fc.integer({ min: 1, max: 120 }),
  emailGapSeconds: fc.integer({ min: 0, max: 900 }),
  emailGapJitterSeconds: fc.integer({ min: 0, max: 300 }),
  linkedinInvitesPerDay: fc.integer({ min: 0, max: 25 }),
  linkedinInvitesPerWeek: fc.integer({ min: 0, max: 110 }),
  linkedinMessagesPerDay: fc.integer({ min: 0, max: 60 }),
});
const channelArb = fc.constantFrom<CappedChannel>("email", "linkedin_invite", "linkedin_message");

/** A sender's book of sends, enforcing nothing: what the properties check. */
type Sent = { at: number };

/** Replays attempts through capDecision, reserving like the store does when it says ok. */
function simulate(
  channel: CappedChannel,
  limits: SenderLimits,
  warmupStart: number,
  attempts: number[],
): { sent: Sent[]; waits: { now: number; until: number }[] } {
  const sent: Sent[] = [];
  const waits: { now: number; until: number }[] = [];
  let nextAt: string | null = null;
  for (const t of attempts) {
    const now = new Date(t);
    const lim = channelLimits(channel, limits, new Date(warmupStart), now);
    const usage: CapUsage = {
      today: sent.filter((s) => utcDay(new Date(s.at)) === utcDay(now)).length,
      week: sent.filter((s) => utcWeek(new Date(s.at)) === utcWeek(now)).length,
      nextAt,
    };
    const d = capDecision(usage, lim, now);
    if (d.ok) {
      sent.push({ at: t });
      nextAt = nextSendAt(lim, now, `s#${sent.length}`).toISOString();
    } else waits.push({ now: t, until: d.waitUntil.getTime() });
  }
  return { sent, waits };
}

describe("sender caps", () => {
  it("ramps email 30/day +2 per day of mailbox age up to 100", () => {
    const l = DEFAULT_SENDER_LIMITS;
    expect(emailDailyLimit(l, 0)).toBe(30);
    expect(emailDailyLimit(l, 1)).toBe(32);
    expect(emailDailyLimit(l, 10)).toBe(50);
    expect(emailDailyLimit(l, 35)).toBe(100);
    expect(emailDailyLimit(l, 400)).toBe(100);
    expect(mailboxAgeDays("2025-03-01T23:59:00Z", new Date("2025-03-02T00:01:00Z"))).toBe(1);
    expect(mailboxAgeDays("2025-03-05T00:00:00Z", new Date("2025-03-02T00:00:00Z"))).toBe(0);
    expect(channelLimits("linkedin_invite", l, new Date(START), new Date(START))).toMatchObject({
      perDay: 20,
      perWeek: 100,
    });
    expect(channelLimits("linkedin_message", l, new Date(START), new Date(START)).perDay).toBe(50);
    expect(channelLimits("email", l, new Date(START), new Date(START)).gapMs).toBe(9 * 60_000);
  });

  it("is configurable per sender", () => {
    const l = SenderLimits.parse({ emailStart: 5, emailRampPerDay: 10, emailMax: 40 });
    expect(emailDailyLimit(l, 0)).toBe(5);
    expect(emailDailyLimit(l, 2)).toBe(25);
    expect(emailDailyLimit(l, 9)).toBe(40);
  });

  it("blocks the gap, then the daily cap, with a wait in the future", () => {
    const now = new Date("2025-03-04T10:00:00Z");
    const lim = channelLimits("email", DEFAULT_SENDER_LIMITS, new Date(START), now);
    const gap = capDecision({ today: 3, week: 3, nextAt: "2025-03-04T10:05:00Z" }, lim, now);
    expect(gap).toEqual({ ok: false, reason: "gap", waitUntil: new Date("2025-03-04T10:05:00Z") });
    const daily = capDecision({ today: lim.perDay, week: 40, nextAt: null }, lim, now);
    expect(daily).toEqual({ ok: false, reason: "daily", waitUntil: new Date("2025-03-05T00:00:00Z") });
    const weekly = capDecision(
      { today: 0, week: 100, nextAt: null },
      channelLimits("linkedin_invite", DEFAULT_SENDER_LIMITS, new Date(START), now),
      now,
    );
    expect(weekly).toEqual({ ok: false, reason: "weekly", waitUntil: new Date("2025-03-10T00:00:00Z") });
  });

  it("jitters the gap deterministically within its bound", () => {
    const now = new Date(START);
    const lim = channelLimits("email", DEFAULT_SENDER_LIMITS, now, now);
    const a = nextSendAt(lim, now, "seed-1").getTime() - START;
    expect(nextSendAt(lim, now, "seed-1").getTime() - START).toBe(a);
    expect(a).toBeGreaterThanOrEqual(lim.gapMs);
    expect(a).toBeLessThan(lim.gapMs + lim.jitterMs);
    const spread = new Set(Array.from({ length: 20 }, (_, i) => nextSendAt(lim, now, `seed-${i}`).getTime()));
    expect(spread.size).toBeGreaterThan(10);
  });

  it("property: never over the daily or weekly cap, never inside the gap; waits are always later than now", () => {
    fc.assert(
      fc.property(
        channelArb,
        limitsArb,
        fc.integer({ min: 0, max: 60 }),
        fc.array(fc.integer({ min: 0, max: 21 * DAY }), { minLength: 1, maxLength: 400 }),
        (channel, raw, ageDays, offsets) => {
          const limits = SenderLimits.parse(raw);
          const warmup = START - ageDays * DAY;
          const attempts = offsets.map((o) => START + o).sort((a, b) => a - b);
          const { sent, waits } = simulate(channel, limits, warmup, attempts);
          const perDay = new Map<string, number>();
          const perWeek = new Map<string, number>();
          for (const s of sent) {
            const d = utcDay(new Date(s.at));
            perDay.set(d, (perDay.get(d) ?? 0) + 1);
            const w = utcWeek(new Date(s.at));
            perWeek.set(w, (perWeek.get(w) ?? 0) + 1);
          }
          for (const [d, n] of perDay)
            expect(n).toBeLessThanOrEqual(channelLimits(channel, limits, new Date(warmup), new Date(d)).perDay);
          if (channel === "linkedin_invite")
            for (const n of perWeek.values()) expect(n).toBeLessThanOrEqual(limits.linkedinInvitesPerWeek);
          const gap = channelLimits(channel, limits, new Date(warmup), new Date(START)).gapMs;
          for (let i = 1; i < sent.length; i++)
            expect((sent[i] as Sent).at - (sent[i - 1] as Sent).at).toBeGreaterThanOrEqual(gap);
          for (const w of waits) expect(w.until).toBeGreaterThan(w.now);
        },
      ),
      { numRuns: 300 },
    );
  });

  it("property: a blocked step retried at waitUntil goes out eventually (deferred, never dropped)", () => {
    fc.assert(
      fc.property(
        channelArb,
        limitsArb.filter((l) => l.linkedinInvitesPerDay > 0 && l.linkedinInvitesPerWeek > 0),
        fc.integer({ min: 0, max: 2000 }),
        fc.integer({ min: 0, max: 14 * DAY }),
        (channel, raw, already, offset) => {
          const limits = SenderLimits.parse({
            ...raw,
            linkedinMessagesPerDay: Math.max(1, raw.linkedinMessagesPerDay),
          });
          let now = new Date(START + offset);
          const lim = channelLimits(channel, limits, new Date(START), now);
          let usage: CapUsage = {
            today: Math.min(already, lim.perDay),
            week: lim.perWeek === null ? 0 : Math.min(already, lim.perWeek),
            nextAt: new Date(now.getTime() + 60_000).toISOString(),
          };
          for (let i = 0; i < 20; i++) {
            const d = capDecision(usage, channelLimits(channel, limits, new Date(START), now), now);
            if (d.ok) return;
            expect(d.waitUntil.getTime()).toBeGreaterThan(now.getTime());
            const next = d.waitUntil;
            usage = {
              today: utcDay(next) === utcDay(now) ? usage.today : 0,
              week: utcWeek(next) === utcWeek(now) ? usage.week : 0,
              nextAt: usage.nextAt,
            };
            now = next;
          }
          throw new Error("never allowed to send");
        },
      ),
      { numRuns: 300 },
    );
  });
});
