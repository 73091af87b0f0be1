import {
  addToScore,
  csvCell,
  decayedScore,
  engagementRow,
  erfc,
  icpLift,
  liftBand,
  medianOfHistogram,
  normalCdf,
  signInboundWebhook,
  toCsv,
  totalsRow,
  twoProportionZTest,
  verifyInboundWebhook,
} from "@icp/core";
import { describe, expect, it } from "vitest";

describe("two-proportion z-test", () => {
  it("matches known values", () => {
    // 45/100 vs 30/100: pooled p = 0.375, se = 0.068465, z = 2.1909, two-sided p = 0.02846.
    const t = twoProportionZTest(45, 100, 30, 100);
    expect(t.z).toBeCloseTo(2.1909, 3);
    expect(t.pValue).toBeCloseTo(0.02846, 4);
    expect(t.significant).toBe(true);
    // 120/1000 vs 100/1000: pooled 0.11, se = 0.013993, z = 1.4293, p = 0.1529 — not significant.
    const u = twoProportionZTest(120, 1000, 100, 1000);
    expect(u.z).toBeCloseTo(1.4293, 3);
    expect(u.pValue).toBeCloseTo(0.1529, 3);
    expect(u.significant).toBe(false);
    // Symmetric, and no variance / no sample gives no test.
    expect(twoProportionZTest(30, 100, 45, 100).z).toBeCloseTo(-2.1909, 3);
    expect(twoProportionZTest(0, 10, 0, 10)).toEqual({ z: null, pValue: null, significant: false });
    expect(twoProportionZTest(1, 0, 1, 10).pValue).toBeNull();
  });

  it("normal CDF and erfc are accurate", () => {
    expect(normalCdf(1.959964)).toBeCloseTo(0.975, 6);
    expect(normalCdf(0)).toBeCloseTo(0.5, 7);
    expect(normalCdf(-1)).toBeCloseTo(0.158655, 6);
    expect(erfc(1)).toBeCloseTo(0.157299, 6);
  });
});

describe("lift bands", () => {
  it("bands the ICP / non-ICP ratio at 2x, 3-4x and 5x+", () => {
    expect(liftBand(1.9)).toBe("below-2x");
    expect(liftBand(2)).toBe("2x");
    expect(liftBand(3.5)).toBe("3-4x");
    expect(liftBand(5)).toBe("5x+");
    expect(icpLift({ accounts: 100, won: 30, conversion: 0.3 }, { accounts: 100, won: 10, conversion: 0.1 })).toEqual({
      lift: 3,
      band: "3-4x",
    });
  });
});

describe("rows, totals, medians", () => {
  it("rates count accounts reached; totals are the sum of groups", () => {
    const a = engagementRow("a", { a_touched: 10, a_opened: 5, a_replied: 1, n_sent: 12, n_opened: 9, amt: 100 });
    const b = engagementRow("b", { a_touched: 30, a_opened: 3, a_won: 3, n_won: 3, amt: 900.5 });
    expect(a).toMatchObject({ accountsReached: 10, openRate: 0.5, replyRate: 0.1, sent: 12, events: 21 });
    const t = totalsRow([a, b]);
    expect(t).toMatchObject({
      group: "total",
      accountsReached: 40,
      opened: 8,
      won: 3,
      revenue: 1000.5,
      openRate: 0.2,
      winRate: 0.075,
    });
    expect(totalsRow([])).toMatchObject({ accountsReached: 0, openRate: null });
  });

  it("medians of histograms", () => {
    expect(medianOfHistogram({ 3: 1, 10: 1, 30: 1 })).toBe(10);
    expect(medianOfHistogram({ 5: 2, 40: 2 })).toBe(5);
    expect(medianOfHistogram({})).toBeNull();
  });
});

describe("CSV", () => {
  it("neutralises formula injection and quotes", () => {
    for (const bad of ['=HYPERLINK("x")', "+1", "-2+3", "@SUM(A1)", "\tx", "\rx"])
      expect(csvCell(bad).replace(/^"/, "")[0]).toBe("'");
    expect(csvCell('a,"b"')).toBe('"a,""b"""');
    expect(csvCell(-5)).toBe("-5");
    expect(toCsv(["group", "n"], [{ group: "=cmd", n: 1 }])).toBe("group,n\r\n'=cmd,1\r\n");
  });
});

describe("engagement score", () => {
  it("halves every 14 days, whatever the order of events", () => {
    const a = addToScore(
      addToScore({ score: 0, scoreAt: null }, "replied", "2026-01-01T00:00:00Z"),
      "opened",
      "2026-01-15T00:00:00Z",
    );
    const b = addToScore(
      addToScore({ score: 0, scoreAt: null }, "opened", "2026-01-15T00:00:00Z"),
      "replied",
      "2026-01-01T00:00:00Z",
    );
    expect(a.score).toBeCloseTo(6, 6); // 10 halved once + 1
    expect(b.score).toBeCloseTo(6, 6);
    expect(decayedScore(a.score, a.scoreAt, Date.parse("2026-01-29T00:00:00Z"))).toBe(3);
  });
});

describe("inbound webhook signature", () => {
  const body = '{"type":"opened"}';
  it("accepts a good signature within 5 minutes and refuses bad, expired and malformed ones", () => {
    const h = signInboundWebhook("s3cret", body, 1_000_000);
    expect(verifyInboundWebhook("s3cret", h, body, 1_000_100)).toMatchObject({ ok: true, t: 1_000_000 });
    expect(verifyInboundWebhook("other", h, body, 1_000_100)).toMatchObject({ ok: false });
    expect(verifyInboundWebhook("s3cret", h, `${body} `, 1_000_100)).toMatchObject({ ok: false });
    expect(verifyInboundWebhook("s3cret", h, body, 1_000_301)).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/window/),
    });
    expect(verifyInboundWebhook("s3cret", "v1=abc", body, 1_000_000)).toMatchObject({ ok: false });
    expect(verifyInboundWebhook("s3cret", undefined, body, 1_000_000)).toMatchObject({ ok: false });
  });
});
