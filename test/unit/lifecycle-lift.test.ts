import {
  backtestStats,
  coverage,
  icpLift,
  type LabelledResult,
  LIFT_BANDS,
  type LiftBand,
  liftBand,
  MIN_LABELLED,
  type Rate,
  type Tier,
} from "@icp/core";
import fc from "fast-check";
import { describe, expect, it } from "vitest";

const rate = (accounts: number, won: number): Rate => ({ accounts, won, conversion: accounts ? won / accounts : null });
const rows = (n: number, r: LabelledResult): LabelledResult[] => Array.from({ length: n }, () => ({ ...r }));
const BAND_RANK: Record<LiftBand, number> = { "insufficient-data": -1, "below-2x": 0, "2x": 1, "3-4x": 2, "5x+": 3 };

describe("liftBand", () => {
  it.each([
    [0, "below-2x"],
    [1, "below-2x"],
    [1.99, "below-2x"],
    [1.9999, "below-2x"],
    [2, "2x"],
    [2.99, "2x"],
    [3, "3-4x"],
    [4.99, "3-4x"],
    [5, "5x+"],
    [12, "5x+"],
    [Number.POSITIVE_INFINITY, "5x+"],
  ] as const)("%s -> %s", (lift, band) => {
    expect(liftBand(lift)).toBe(band);
  });

  it("has no band without a number", () => {
    expect(liftBand(null)).toBe("insufficient-data");
    expect(liftBand(Number.NaN)).toBe("insufficient-data");
  });

  it("never falls as the lift grows", () => {
    fc.assert(
      fc.property(fc.double({ min: 0, max: 50, noNaN: true }), fc.double({ min: 0, max: 50, noNaN: true }), (x, y) => {
        const [lo, hi] = x <= y ? [x, y] : [y, x];
        expect(BAND_RANK[liftBand(lo)]).toBeLessThanOrEqual(BAND_RANK[liftBand(hi)]);
        expect(LIFT_BANDS).toContain(liftBand(lo));
      }),
      { numRuns: 100 },
    );
  });
});

describe("icpLift", () => {
  it("divides ICP conversion by non-ICP conversion, rounded to 2 decimals", () => {
    expect(icpLift(rate(10, 8), rate(10, 2))).toEqual({ lift: 4, band: "3-4x" });
    expect(icpLift(rate(3, 2), rate(4, 1))).toEqual({ lift: 2.67, band: "2x" });
    expect(icpLift(rate(10, 1), rate(10, 2))).toEqual({ lift: 0.5, band: "below-2x" });
    expect(icpLift(rate(4, 4), rate(5, 1))).toEqual({ lift: 5, band: "5x+" });
  });

  it("is unbounded (null, 5x+) when ICP accounts won and non-ICP ones never did", () => {
    expect(icpLift(rate(4, 1), rate(20, 0))).toEqual({ lift: null, band: "5x+" });
  });

  it("has insufficient data when nobody won, or one side has no accounts", () => {
    expect(icpLift(rate(4, 0), rate(20, 0))).toEqual({ lift: null, band: "insufficient-data" });
    expect(icpLift(rate(0, 0), rate(20, 3))).toEqual({ lift: null, band: "insufficient-data" });
    expect(icpLift(rate(5, 3), rate(0, 0))).toEqual({ lift: null, band: "insufficient-data" });
    expect(icpLift(rate(0, 0), rate(0, 0))).toEqual({ lift: null, band: "insufficient-data" });
  });

  it("reports a lift close to the exact ratio whenever both sides converted", () => {
    const sideArb = fc
      .integer({ min: 1, max: 500 })
      .chain((n) => fc.tuple(fc.constant(n), fc.integer({ min: 0, max: n })));
    fc.assert(
      fc.property(sideArb, sideArb, ([ia, iw], [na, nw]) => {
        const r = icpLift(rate(ia, iw), rate(na, nw));
        if (nw === 0) {
          expect(r.lift).toBeNull();
          expect(r.band).toBe(iw > 0 ? "5x+" : "insufficient-data");
          return;
        }
        const exact = iw / ia / (nw / na);
        expect(r.lift).not.toBeNull();
        expect(Math.abs((r.lift ?? Number.NaN) - exact)).toBeLessThanOrEqual(0.005 + 1e-9);
        expect(LIFT_BANDS).toContain(r.band);
      }),
      { numRuns: 150 },
    );
  });
});

describe("backtestStats", () => {
  const sample: LabelledResult[] = [
    ...rows(3, { tier: "priority", qualified: true, outcome: "won" }),
    ...rows(1, { tier: "priority", qualified: true, outcome: "lost" }),
    ...rows(1, { tier: "priority", qualified: false, outcome: "won" }),
    ...rows(1, { tier: "nurture", qualified: true, outcome: "won" }),
    ...rows(2, { tier: "nurture", qualified: false, outcome: "lost" }),
    ...rows(1, { tier: "generic", qualified: false, outcome: "won" }),
    ...rows(3, { tier: "generic", qualified: false, outcome: "lost" }),
    ...rows(2, { tier: "disqualified", qualified: false, outcome: "lost" }),
  ];

  it("counts labelled, won, lost and qualified accounts", () => {
    const s = backtestStats(sample);
    expect(s.labelled).toBe(14);
    expect(s.won).toBe(6);
    expect(s.lost).toBe(8);
    expect(s.qualified).toBe(5);
    expect(s.icp).toEqual({ accounts: 5, won: 4, conversion: 0.8 });
    expect(s.nonIcp).toEqual({ accounts: 9, won: 2, conversion: 2 / 9 });
    expect(s.lift).toBe(3.6);
    expect(s.band).toBe("3-4x");
  });

  it("breaks conversion down by tier", () => {
    expect(backtestStats(sample).byTier).toEqual({
      priority: { accounts: 5, won: 4, conversion: 0.8 },
      nurture: { accounts: 3, won: 1, conversion: 1 / 3 },
      generic: { accounts: 4, won: 1, conversion: 0.25 },
      disqualified: { accounts: 2, won: 0, conversion: 0 },
    });
  });

  it("measures the priority tier's precision and recall on won", () => {
    expect(backtestStats(sample).priority).toEqual({ precision: 0.8, recall: 4 / 6 });
    const noPriority = backtestStats(rows(3, { tier: "generic", qualified: false, outcome: "won" }));
    expect(noPriority.priority).toEqual({ precision: null, recall: 0 });
    const noneWon = backtestStats(rows(3, { tier: "priority", qualified: true, outcome: "lost" }));
    expect(noneWon.priority).toEqual({ precision: 0, recall: null });
  });

  it("warns under 50 labelled accounts, and not from 50", () => {
    const labelledWarning = (n: number) => `only ${n} labelled accounts: test an ICP on at least 50 recent leads`;
    expect(backtestStats(sample).warnings).toEqual([labelledWarning(14)]);
    const mixed = (n: number) => [
      ...rows(Math.round(n * 0.3), { tier: "priority", qualified: true, outcome: "won" }),
      ...rows(n - Math.round(n * 0.3), { tier: "generic", qualified: false, outcome: "lost" }),
    ];
    expect(backtestStats(mixed(49)).warnings).toEqual([labelledWarning(49)]);
    expect(backtestStats(mixed(MIN_LABELLED)).warnings).toEqual([]);
    expect(backtestStats(mixed(80)).warnings).toEqual([]);
  });

  it("warns when the ICP qualifies too many or too few of the labelled accounts", () => {
    const broad = [
      ...rows(26, { tier: "priority", qualified: true, outcome: "won" }),
      ...rows(24, { tier: "generic", qualified: false, outcome: "lost" }),
    ];
    expect(backtestStats(broad).warnings).toEqual([
      "52% of accounts qualify: the ICP is too broad (a good ICP excludes 70-80%)",
    ]);
    const narrow = [
      ...rows(2, { tier: "priority", qualified: true, outcome: "won" }),
      ...rows(48, { tier: "generic", qualified: false, outcome: "lost" }),
    ];
    expect(backtestStats(narrow).warnings).toEqual(["only 4% of accounts qualify: the ICP is too narrow"]);
    const both = rows(10, { tier: "priority", qualified: true, outcome: "won" });
    expect(backtestStats(both).warnings).toEqual([
      "only 10 labelled accounts: test an ICP on at least 50 recent leads",
      "100% of accounts qualify: the ICP is too broad (a good ICP excludes 70-80%)",
    ]);
  });

  it("has no rates, no lift and only the labelled warning without rows", () => {
    const s = backtestStats([]);
    expect(s).toMatchObject({ labelled: 0, won: 0, lost: 0, qualified: 0, lift: null, band: "insufficient-data" });
    expect(s.icp.conversion).toBeNull();
    expect(s.byTier.priority).toEqual({ accounts: 0, won: 0, conversion: null });
    expect(s.priority).toEqual({ precision: null, recall: null });
    expect(s.warnings).toEqual(["only 0 labelled accounts: test an ICP on at least 50 recent leads"]);
  });

  it("keeps its counts consistent for any labelled rows", () => {
    const rowArb: fc.Arbitrary<LabelledResult> = fc
      .record({
        tier: fc.constantFrom<Tier>("priority", "nurture", "generic", "disqualified"),
        qualified: fc.boolean(),
        outcome: fc.constantFrom("won" as const, "lost" as const),
      })
      .map((r) => ({ ...r, qualified: r.qualified && r.tier !== "disqualified" }));
    fc.assert(
      fc.property(fc.array(rowArb, { maxLength: 120 }), (rs) => {
        const s = backtestStats(rs);
        const won = rs.filter((r) => r.outcome === "won").length;
        expect(s.labelled).toBe(rs.length);
        expect(s.won).toBe(won);
        expect(s.won + s.lost).toBe(rs.length);
        expect(s.icp.accounts + s.nonIcp.accounts).toBe(rs.length);
        expect(s.icp.won + s.nonIcp.won).toBe(won);
        expect(s.qualified).toBe(rs.filter((r) => r.qualified).length);
        const tiers = Object.values(s.byTier);
        expect(tiers.reduce((n, t) => n + t.accounts, 0)).toBe(rs.length);
        expect(tiers.reduce((n, t) => n + t.won, 0)).toBe(won);
        for (const t of tiers) expect(t.conversion).toBe(t.accounts ? t.won / t.accounts : null);
        expect(s.priority.recall === null).toBe(won === 0);
        expect(s.priority.precision === null).toBe(s.byTier.priority.accounts === 0);
        for (const v of [s.priority.precision, s.priority.recall]) if (v !== null) expect(v).toBeGreaterThanOrEqual(0);
        for (const v of [s.priority.precision, s.priority.recall]) if (v !== null) expect(v).toBeLessThanOrEqual(1);
        expect(s.warnings.some((w) => w.includes("labelled accounts"))).toBe(rs.length < MIN_LABELLED);
      }),
      { numRuns: 100 },
    );
  });
});

describe("coverage", () => {
  it("is too broad above 50%", () => {
    expect(coverage(100, 51)).toEqual({
      accounts: 100,
      qualified: 51,
      share: 0.51,
      warning: "too-broad",
      message: "51% of accounts qualify: the ICP is too broad (a good ICP excludes 70-80%)",
    });
    expect(coverage(1000, 501).warning).toBe("too-broad");
  });

  it("is fine at exactly 50% and at exactly 5%", () => {
    expect(coverage(100, 50)).toEqual({
      accounts: 100,
      qualified: 50,
      share: 0.5,
      warning: null,
      message: "50% of accounts qualify",
    });
    expect(coverage(2, 1).warning).toBeNull();
    expect(coverage(100, 5).warning).toBeNull();
    expect(coverage(1000, 51)).toMatchObject({ warning: null, message: "5.1% of accounts qualify" });
  });

  it("is too narrow below 5%", () => {
    expect(coverage(100, 4)).toEqual({
      accounts: 100,
      qualified: 4,
      share: 0.04,
      warning: "too-narrow",
      message: "only 4% of accounts qualify: the ICP is too narrow",
    });
    expect(coverage(1000, 49)).toMatchObject({ warning: "too-narrow", message: expect.stringContaining("4.9%") });
    expect(coverage(10, 0)).toMatchObject({ share: 0, warning: "too-narrow" });
  });

  it("rounds the share to one decimal in the message", () => {
    expect(coverage(3, 1).message).toBe("33.3% of accounts qualify");
    expect(coverage(3, 2).message).toMatch(/^66\.7% of accounts qualify: the ICP is too broad/);
  });

  it("has no share and no warning without accounts", () => {
    expect(coverage(0, 0)).toEqual({
      accounts: 0,
      qualified: 0,
      share: null,
      warning: null,
      message: "n/a of accounts qualify",
    });
  });

  it("warns exactly outside 5%..50%", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 10_000 }).chain((n) => fc.tuple(fc.constant(n), fc.integer({ min: 0, max: n }))),
        ([n, q]) => {
          const c = coverage(n, q);
          expect(c.share).toBe(q / n);
          const expected = q * 2 > n ? "too-broad" : q * 20 < n ? "too-narrow" : null;
          expect(c.warning).toBe(expected);
        },
      ),
      { numRuns: 150 },
    );
  });
});
