import {
  type AccountFacts,
  backtest,
  DEMO_ICP,
  type LabelledAccount,
  type Outcome,
  REVIEW_AFTER_DAYS,
  reviewReminder,
  reviewVersion,
} from "@icp/core";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { compile, DAY_MS, daysAgo, factsArb, makeIcp, NOW } from "./support.js";

const icp = makeIcp(DEMO_ICP, "icp_demo", 3);
const demo = compile(DEMO_ICP, "icp_demo", 3);

/** Hand-made accounts and how DEMO_ICP sees them (checked below, so the stats tests rest on known tiers). */
const ACCOUNTS: Record<string, { facts: AccountFacts; tier: string; qualified: boolean; score: number }> = {
  // 25 + 20 + 10 + 15 + 20 (funding 10 days ago) + 10: all four mandatory and both preferential.
  "a.com": {
    facts: {
      domain: "a.com",
      employees: 200,
      industry: "SaaS",
      country: "France",
      technologies: ["HubSpot"],
      signals: [{ type: "funding", at: daysAgo(10) }],
      growthStage: "growth",
    },
    tier: "priority",
    qualified: true,
    score: 100,
  },
  // 70 points from the four mandatory criteria, but no preferential one: priority yet not qualified.
  "b.com": {
    facts: {
      domain: "b.com",
      employees: 200,
      industry: "Software",
      country: "Germany",
      technologies: ["Salesforce"],
      signals: [{ type: "funding", at: daysAgo(100) }],
      growthStage: "seed",
    },
    tier: "priority",
    qualified: false,
    score: 70,
  },
  // 3 of 4 mandatory + growth stage: qualified, 65 points.
  "c.com": {
    facts: { domain: "c.com", employees: 200, industry: "saas", country: "FRANCE", growthStage: "growth" },
    tier: "nurture",
    qualified: true,
    score: 65,
  },
  "d.com": {
    facts: { domain: "d.com", employees: 200, industry: "SaaS", country: "Spain", growthStage: "seed" },
    tier: "nurture",
    qualified: false,
    score: 45,
  },
  "e.com": {
    facts: { domain: "e.com", employees: 20_000, industry: "Retail", country: "Brazil" },
    tier: "generic",
    qualified: false,
    score: 0,
  },
  "f.com": {
    facts: { domain: "f.com", employees: 5, industry: "SaaS", country: "France", technologies: ["HubSpot"] },
    tier: "disqualified",
    qualified: false,
    score: 45,
  },
  "outreach.io": {
    facts: {
      domain: "outreach.io",
      employees: 200,
      industry: "SaaS",
      country: "France",
      technologies: ["HubSpot"],
      growthStage: "growth",
    },
    tier: "disqualified",
    qualified: false,
    score: 80,
  },
  "h.com": {
    facts: { domain: "h.com", employees: 200, industry: "SaaS", country: "Russia", technologies: ["HubSpot"] },
    tier: "disqualified",
    qualified: false,
    score: 60,
  },
};

const account = (domain: keyof typeof ACCOUNTS & string) => {
  const a = ACCOUNTS[domain];
  if (!a) throw new Error(`no account ${domain}`);
  return { domain, facts: a.facts };
};
const labelled = (domain: string, outcome: Outcome): LabelledAccount => ({ ...account(domain), outcome });

describe("the hand-made accounts under DEMO_ICP", () => {
  it.each(Object.entries(ACCOUNTS))("%s scores as expected", (domain, want) => {
    const s = demo.score(want.facts, domain, NOW);
    expect({ tier: s.tier, qualified: s.qualified, score: s.score }).toEqual({
      tier: want.tier,
      qualified: want.qualified,
      score: want.score,
    });
  });
});

describe("backtest", () => {
  const accounts = [
    labelled("a.com", "won"),
    labelled("b.com", "won"),
    labelled("c.com", "lost"),
    labelled("d.com", "won"),
    labelled("e.com", "lost"),
    labelled("f.com", "lost"),
    labelled("outreach.io", "won"),
  ];

  it("scores each labelled account with the ICP and measures won against lost", () => {
    const s = backtest(icp, accounts, NOW);
    expect(s).toMatchObject({ labelled: 7, won: 4, lost: 3, qualified: 2 });
    expect(s.icp).toEqual({ accounts: 2, won: 1, conversion: 0.5 });
    expect(s.nonIcp).toEqual({ accounts: 5, won: 3, conversion: 0.6 });
    expect(s.lift).toBe(0.83);
    expect(s.band).toBe("below-2x");
    expect(s.byTier).toEqual({
      priority: { accounts: 2, won: 2, conversion: 1 },
      nurture: { accounts: 2, won: 1, conversion: 0.5 },
      generic: { accounts: 1, won: 0, conversion: 0 },
      disqualified: { accounts: 2, won: 1, conversion: 0.5 },
    });
    expect(s.priority).toEqual({ precision: 1, recall: 0.5 });
    expect(s.warnings).toEqual(["only 7 labelled accounts: test an ICP on at least 50 recent leads"]);
  });

  it("scores at the given time: an old enough signal no longer counts", () => {
    // a.com's funding leaves the 90-day window 80 days from now: 80 points, still priority and qualified.
    const later = backtest(icp, [labelled("a.com", "won")], NOW + 81 * DAY_MS);
    expect(later.byTier.priority.accounts).toBe(1);
    // Without growth stage, the intent signal is a.com's only preferential criterion.
    const noGrowth = { ...account("a.com"), facts: { ...account("a.com").facts, growthStage: "seed" as const } };
    expect(backtest(icp, [{ ...noGrowth, outcome: "won" }], NOW).qualified).toBe(1);
    expect(backtest(icp, [{ ...noGrowth, outcome: "won" }], NOW + 81 * DAY_MS).qualified).toBe(0);
  });

  it("shows a good ICP separating winners from losers", () => {
    const good = [
      ...Array.from({ length: 4 }, () => labelled("a.com", "won")),
      labelled("a.com", "lost"),
      labelled("e.com", "won"),
      ...Array.from({ length: 4 }, () => labelled("e.com", "lost")),
    ];
    const s = backtest(icp, good, NOW);
    expect(s.lift).toBe(4);
    expect(s.band).toBe("3-4x");
    expect(s.priority).toEqual({ precision: 0.8, recall: 0.8 });
  });

  it("has insufficient data without labelled accounts", () => {
    const s = backtest(icp, [], NOW);
    expect(s).toMatchObject({ labelled: 0, lift: null, band: "insufficient-data" });
  });
});

describe("reviewVersion", () => {
  const period = { from: "2026-08-01T00:00:00.000Z", to: "2026-11-20T23:59:59.999Z" };
  const withOutcome = (domain: string, outcome: Outcome, at: string) => ({
    ...account(domain),
    outcome: { outcome, at },
  });
  const accounts = [
    withOutcome("a.com", "won", "2026-09-01T10:00:00.000Z"),
    withOutcome("b.com", "won", "2026-07-31T23:59:59.999Z"), // just before the period
    withOutcome("c.com", "lost", period.from), // first instant of the period
    withOutcome("d.com", "won", period.to), // last instant of the period
    account("e.com"),
    withOutcome("f.com", "lost", "2026-12-01T00:00:00.000Z"), // after the period
    withOutcome("outreach.io", "won", "2026-10-10T00:00:00.000Z"),
    account("h.com"),
  ];
  const version = { ...icp, createdAt: "2026-06-01T00:00:00.000Z" };

  it("counts tiers and coverage over every account", () => {
    const r = reviewVersion(version, accounts, period, NOW);
    expect(r.version).toBe(3);
    expect(r.createdAt).toBe("2026-06-01T00:00:00.000Z");
    expect(r.tiers).toEqual({ priority: 2, nurture: 2, generic: 1, disqualified: 3 });
    expect(r.coverage).toEqual({
      accounts: 8,
      qualified: 2,
      share: 0.25,
      warning: null,
      message: "25% of accounts qualify",
    });
  });

  it("measures outcomes only inside the period, bounds included", () => {
    const o = reviewVersion(version, accounts, period, NOW).outcomes;
    expect(o).toMatchObject({ labelled: 4, won: 3, lost: 1, qualified: 2 });
    expect(o.icp).toEqual({ accounts: 2, won: 1, conversion: 0.5 });
    expect(o.nonIcp).toEqual({ accounts: 2, won: 2, conversion: 1 });
    expect(o.byTier).toEqual({
      priority: { accounts: 1, won: 1, conversion: 1 },
      nurture: { accounts: 2, won: 1, conversion: 0.5 },
      generic: { accounts: 0, won: 0, conversion: null },
      disqualified: { accounts: 1, won: 1, conversion: 1 },
    });
    expect(o.lift).toBe(0.5);
  });

  it("has no outcomes when the period holds none", () => {
    const r = reviewVersion(version, accounts, { from: "2025-01-01", to: "2025-12-31" }, NOW);
    expect(r.outcomes.labelled).toBe(0);
    expect(r.tiers).toEqual({ priority: 2, nurture: 2, generic: 1, disqualified: 3 });
  });

  it("handles a workspace without accounts", () => {
    const r = reviewVersion(version, [], period, NOW);
    expect(r.tiers).toEqual({ priority: 0, nurture: 0, generic: 0, disqualified: 0 });
    expect(r.coverage).toMatchObject({ accounts: 0, share: null, warning: null });
    expect(r.outcomes.labelled).toBe(0);
  });

  it("agrees with backtest when every outcome falls in the period", () => {
    const outcomeArb = fc.record({
      outcome: fc.constantFrom<Outcome>("won", "lost"),
      day: fc.integer({ min: 0, max: 60 }),
    });
    fc.assert(
      fc.property(
        fc.array(fc.tuple(factsArb, fc.option(outcomeArb, { nil: undefined })), { maxLength: 30 }),
        (rows) => {
          const all = rows.map(([facts, o]) => ({
            domain: facts.domain,
            facts,
            ...(o ? { outcome: { outcome: o.outcome, at: `${daysAgo(o.day)}T12:00:00.000Z` } } : {}),
          }));
          const r = reviewVersion(version, all, { from: daysAgo(60), to: `${daysAgo(0)}T23:59:59.999Z` }, NOW);
          const withOutcomes = all.flatMap((a) => (a.outcome ? [{ ...a, outcome: a.outcome.outcome }] : []));
          expect(r.outcomes).toEqual(backtest(icp, withOutcomes, NOW));
          expect(Object.values(r.tiers).reduce((n, x) => n + x, 0)).toBe(all.length);
          expect(r.coverage.accounts).toBe(all.length);
          expect(r.coverage.qualified).toBe(all.filter((a) => demo.score(a.facts, a.domain, NOW).qualified).length);
        },
      ),
      { numRuns: 50 },
    );
  });
});

describe("reviewReminder", () => {
  const activated = (days: number) => new Date(NOW - days * DAY_MS).toISOString();

  it("is not due at 90 days", () => {
    expect(REVIEW_AFTER_DAYS).toBe(90);
    expect(reviewReminder(activated(90), NOW)).toEqual({ versionAgeDays: 90, reviewDue: false });
  });

  it("is due at 91 days", () => {
    expect(reviewReminder(activated(91), NOW)).toEqual({ versionAgeDays: 91, reviewDue: true });
    expect(reviewReminder(activated(400), NOW)).toEqual({ versionAgeDays: 400, reviewDue: true });
  });

  it("counts whole days only", () => {
    expect(reviewReminder(activated(90.9), NOW)).toEqual({ versionAgeDays: 90, reviewDue: false });
    expect(reviewReminder(new Date(NOW - 91 * DAY_MS + 1).toISOString(), NOW)).toEqual({
      versionAgeDays: 90,
      reviewDue: false,
    });
    expect(reviewReminder(activated(0), NOW)).toEqual({ versionAgeDays: 0, reviewDue: false });
  });

  it("accepts a plain date", () => {
    expect(reviewReminder("2026-08-21", NOW)).toEqual({ versionAgeDays: 91, reviewDue: true });
    expect(reviewReminder("2026-08-22", NOW)).toEqual({ versionAgeDays: 90, reviewDue: false });
  });

  it("is due exactly when more than 90 whole days have passed", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 1000 * DAY_MS }), (ageMs) => {
        const r = reviewReminder(new Date(NOW - ageMs).toISOString(), NOW);
        expect(r.versionAgeDays).toBe(Math.floor(ageMs / DAY_MS));
        expect(r.reviewDue).toBe(ageMs >= 91 * DAY_MS);
      }),
      { numRuns: 200 },
    );
  });
});
