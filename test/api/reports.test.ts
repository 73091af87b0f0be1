import { DEMO_ICP, demoAccountsCsv, type EventInput } from "@icp/core";
import { publishEvents } from "@icp/store";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { drained } from "../support/events.js";
import { type TestStack, testStack, waitForImport } from "../support/stack.js";

type Acc = { id: string; tier: string; segment: string; qualified: boolean; icpId: string | null };
let s: TestStack;
let accts: Acc[];
const Q = "from=2026-02-01&to=2026-02-28";

beforeAll(async () => {
  s = await testStack();
  expect((await s.api("/v1/icps", { method: "POST", json: DEMO_ICP })).status).toBe(201);
  const job = await (await s.api("/v1/imports", { method: "POST", csv: demoAccountsCsv(160, 21) })).json();
  await waitForImport(s, job.id);
  accts = [];
  let cursor: string | undefined;
  do {
    const page = await (await s.api(`/v1/accounts?limit=200${cursor ? `&cursor=${cursor}` : ""}`)).json();
    accts.push(...page.items);
    cursor = page.nextCursor;
  } while (cursor);
  const icp = accts.filter((a) => a.qualified);
  const non = accts.filter((a) => !a.qualified);
  expect(icp.length).toBeGreaterThanOrEqual(20);
  expect(non.length).toBeGreaterThanOrEqual(60);
  const ev: EventInput[] = [];
  const at = (d: number) => `2026-02-${String(d).padStart(2, "0")}T10:00:00.000Z`;
  // ICP: 20 reached, 8 won (40%); non-ICP: 50 reached, 5 won (10%) → 4x, band 3-4x.
  icp.slice(0, 20).forEach((a, i) => {
    ev.push({ type: "sent", accountId: a.id, at: at(1) });
    if (i < 8) ev.push({ type: "won", accountId: a.id, amount: 1000 * (i + 1), at: at(1 + 2 * i) });
  });
  non.slice(0, 50).forEach((a, i) => {
    ev.push({ type: "sent", accountId: a.id, at: at(2) });
    if (i < 5) ev.push({ type: "won", accountId: a.id, amount: 500, at: at(12) });
  });
  // A/B on seq_ab step s1: A 30 sent / 15 replied, B 30 sent / 3 replied; funnel on the same step.
  const ab = non.slice(0, 60);
  ab.forEach((a, i) => {
    const variant = i < 30 ? "A" : "B";
    const step = { sequenceId: "seq_ab", sequenceVersion: 1, stepId: "s1", variant, channel: "email" as const };
    ev.push({ ...step, type: "sent", accountId: a.id, at: at(3) });
    if (i % 2 === 0) ev.push({ ...step, type: "opened", accountId: a.id, at: at(4) });
    if (i % 2 === 0) ev.push({ ...step, type: "opened", accountId: a.id, at: at(5) }); // a second open, same account
    if (i % 4 === 0) ev.push({ ...step, type: "clicked", accountId: a.id, at: at(5) });
    if ((variant === "A" && i % 2 === 0) || (variant === "B" && i % 10 === 0))
      ev.push({ ...step, type: "replied", accountId: a.id, at: at(6) });
  });
  // A sequence id that a spreadsheet would execute.
  ev.push({
    type: "sent",
    accountId: non[0]?.id as string,
    sequenceId: "=HYPERLINK(1)",
    sequenceVersion: 1,
    at: at(7),
  });
  await publishEvents(s.store, s.workspace, ev);
  await drained(s, "EventQueue");
}, 180_000);
afterAll(() => s?.stop());

describe("GET /v1/reports/engagement", () => {
  it("groups by segment with totals equal to the sum of the groups", async () => {
    const r = await (await s.api(`/v1/reports/engagement?groupBy=segment&${Q}`)).json();
    expect(r.groups.length).toBeGreaterThan(1);
    for (const k of ["accountsReached", "sent", "won", "replied", "opened", "events", "revenue"])
      expect(r.totals[k]).toBeCloseTo(
        r.groups.reduce((x: number, g: Record<string, number>) => x + (g[k] as number), 0),
        6,
      );
    expect(r.totals.revenue).toBe(36_000 + 2_500);
    expect(r.totals.won).toBe(13);
    expect(r.totals.winRate).toBeCloseTo(13 / r.totals.accountsReached, 4);
  });

  it("counts accounts once per group (two opens, one account) and filters by segment", async () => {
    const r = await (await s.api(`/v1/reports/engagement?groupBy=variant&${Q}`)).json();
    const a = r.groups.find((g: { group: string }) => g.group === "seq_ab#1#s1#A");
    expect(a).toMatchObject({ accountsReached: 30, sent: 30, opened: 15, replied: 15, openRate: 0.5, replyRate: 0.5 });
    expect(a.events).toBe(30 + 30 + 8 + 15);
    const seg = accts[0]?.segment as string;
    const f = await (await s.api(`/v1/reports/engagement?groupBy=tier&${Q}&segment=${encodeURIComponent(seg)}`)).json();
    const all = await (await s.api(`/v1/reports/engagement?groupBy=segment&${Q}`)).json();
    expect(f.totals.accountsReached).toBe(all.groups.find((g: { group: string }) => g.group === seg)?.accountsReached);
  });

  it("filters by ICP and segment together: the intersection, from one counter partition", async () => {
    const a = accts.find((x) => x.icpId) as Acc;
    const icpId = a.icpId as string;
    const seg = encodeURIComponent(a.segment);
    const both = await (
      await s.api(`/v1/reports/engagement?groupBy=segment&${Q}&icpId=${icpId}&segment=${seg}`)
    ).json();
    expect(both.filters).toEqual({ icpId, segment: a.segment });
    expect(both.groups.map((g: { group: string }) => g.group)).toEqual([a.segment]);
    const byIcp = await (await s.api(`/v1/reports/engagement?groupBy=segment&${Q}&icpId=${icpId}`)).json();
    const expected = byIcp.groups.find((g: { group: string }) => g.group === a.segment);
    expect(expected.accountsReached).toBeGreaterThan(0);
    expect(both.totals).toEqual({ ...expected, group: "total" });
    const bySeg = await (await s.api(`/v1/reports/engagement?groupBy=icp&${Q}&segment=${seg}`)).json();
    const icpGroups = bySeg.groups.filter((g: { group: string }) => g.group.startsWith(`${icpId}#`));
    expect(icpGroups.reduce((x: number, g: { sent: number }) => x + g.sent, 0)).toBe(both.totals.sent);
    const lift = await s.api(`/v1/reports/icp-lift?${Q}&icpId=${icpId}&segment=${seg}`);
    expect(lift.status).toBe(200);
  });

  it("serves CSV that spreadsheets cannot execute", async () => {
    const res = await s.api(`/v1/reports/engagement?groupBy=sequence&${Q}&format=csv`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/csv/);
    const lines = (await res.text()).trim().split("\r\n");
    expect(lines[0]).toMatch(/^group,accountsReached,sent/);
    expect(lines.some((l) => l.startsWith("'=HYPERLINK(1)#1,"))).toBe(true);
    expect(lines.some((l) => /^[=+\-@]/.test(l))).toBe(false);
    expect(lines.at(-1)).toMatch(/^total,/);
  });

  it("refuses bad parameters with problem+json naming the field", async () => {
    for (const q of ["groupBy=planet", "from=2026-13-01", "from=2026-03-01&to=2026-02-01"]) {
      const res = await s.api(`/v1/reports/engagement?${q}`);
      expect(res.status).toBe(400);
      const p = await res.json();
      expect(p.errors[0].field).toMatch(/^query\./);
    }
  });
});

describe("GET /v1/reports/icp-lift and friends", () => {
  it("compares ICP and non-ICP conversion with its band, cycle and deal size by tier", async () => {
    const r = await (await s.api(`/v1/reports/icp-lift?${Q}`)).json();
    expect(r.basis).toBe("won");
    expect(r.icp).toMatchObject({ accounts: 20, won: 8, conversion: 0.4 });
    // Non-ICP reached: 50 + the A/B accounts beyond the first 50 (the first 50 overlap).
    expect(r.nonIcp.won).toBe(5);
    expect(r.nonIcp.accounts).toBe(60);
    expect(r.lift).toBeCloseTo(0.4 / (5 / 60), 2);
    expect(r.band).toBe("3-4x");
    const tiers = r.byTier.map((t: { tier: string }) => t.tier);
    expect(tiers.length).toBeGreaterThan(0);
    const wonTotal = r.byTier.reduce((x: number, t: { won: number }) => x + t.won, 0);
    expect(wonTotal).toBe(13);
    for (const t of r.byTier)
      if (t.won) {
        expect(t.averageDealSize).toBeCloseTo(t.revenue / t.won, 2);
        expect(t.salesCycleMedianDays).toBeGreaterThanOrEqual(0);
      }
  });

  it("declares the A/B winner when the difference is significant", async () => {
    const r = await (await s.api(`/v1/reports/variants?${Q}`)).json();
    const cmp = r.items.find((i: { step: string }) => i.step === "s1");
    expect(cmp).toMatchObject({ sequence: "seq_ab#1", metric: "replyRate", winner: "A" });
    expect(cmp.test.pValue).toBeLessThan(0.05);
    expect(cmp.variants.map((v: { variant: string }) => v.variant)).toEqual(["A", "B"]);
  });

  it("shows the step funnel sent → opened → clicked → replied", async () => {
    const r = await (await s.api(`/v1/reports/funnel?${Q}&sequenceId=seq_ab`)).json();
    expect(r.items).toEqual([
      {
        sequence: "seq_ab#1",
        steps: [expect.objectContaining({ step: "s1", sent: 60, opened: 30, clicked: 15, replied: 18 })],
      },
    ]);
  });
});
