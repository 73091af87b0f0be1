import {
  type AccountInput,
  compileIcp,
  DEMO_ICP,
  type DemoEngagementAccount,
  demoAccountsCsv,
  demoEngagement,
  EventInput,
  IcpDefinition,
  icpLift,
  parseCsv,
} from "@icp/core";
import { describe, expect, it } from "vitest";

const now = new Date("2026-11-26T00:00:00Z");
const icp = compileIcp({ ...IcpDefinition.parse(DEMO_ICP), id: "icp_demo", version: 1 });
/** The 300 demo accounts as `npm start` scores them. */
const accounts: DemoEngagementAccount[] = parseCsv(demoAccountsCsv(300), now).rows.map((r, i) => {
  const a = r.account as AccountInput;
  const s = icp.score(a, a.domain, now.getTime());
  return {
    id: `acc_${String(i).padStart(26, "0")}`,
    tier: s.tier,
    qualified: s.qualified,
    segment: s.segment,
    contacts: [{ id: `c${i}`, email: `contact${i}@example.com` }],
  };
});
const events = demoEngagement(accounts, { now });

const accountsWith = (type: string) => new Set(events.filter((e) => e.type === type).map((e) => e.accountId));

describe("demo engagement", () => {
  it("is deterministic and every event is a valid EventInput with a unique id, within the last 60 days", () => {
    expect(demoEngagement(accounts, { now })).toEqual(events);
    expect(events.length).toBeGreaterThan(1000);
    expect(new Set(events.map((e) => e.id)).size).toBe(events.length);
    for (const e of events) {
      expect(EventInput.safeParse(e).success).toBe(true);
      expect(Date.parse(e.at)).toBeLessThanOrEqual(now.getTime());
      expect(Date.parse(e.at)).toBeGreaterThanOrEqual(now.getTime() - 61 * 86_400_000);
    }
    const types = new Set(events.map((e) => e.type));
    for (const t of ["sent", "delivered", "opened", "clicked", "replied", "meeting_booked", "won", "lost", "bounced"])
      expect(types).toContain(t);
  });

  it("follows the funnel: no meeting without a reply, no win without an opportunity, wins carry amounts", () => {
    const replied = accountsWith("replied");
    const opportunity = accountsWith("opportunity_created");
    for (const id of accountsWith("meeting_booked")) expect(replied).toContain(id);
    for (const id of accountsWith("won")) expect(opportunity).toContain(id);
    for (const e of events.filter((e) => e.type === "won")) expect(e.amount).toBeGreaterThan(0);
    const disqualified = new Set(accounts.filter((a) => a.tier === "disqualified").map((a) => a.id));
    expect(events.some((e) => disqualified.has(e.accountId as string))).toBe(false);
  });

  it("tells the ICP story: qualified accounts convert 3-4x better than the others", () => {
    const reached = accountsWith("sent");
    const won = accountsWith("won");
    const rate = (qualified: boolean) => {
      const group = accounts.filter((a) => a.qualified === qualified && reached.has(a.id));
      const w = group.filter((a) => won.has(a.id)).length;
      return { accounts: group.length, won: w, conversion: w / group.length };
    };
    expect(icpLift(rate(true), rate(false)).band).toBe("3-4x");
  });

  it("has an A/B winner: variant B gets more replies per send than A", () => {
    const replyRate = (variant: string) => {
      const sent = events.filter((e) => e.type === "sent" && e.stepId === "intro-email" && e.variant === variant);
      const repliedAccounts = accountsWith("replied");
      return sent.filter((e) => repliedAccounts.has(e.accountId)).length / sent.length;
    };
    expect(replyRate("B")).toBeGreaterThan(replyRate("A"));
  });
});
