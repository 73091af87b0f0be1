import { IcpDefinition, matchPersona, mergeByDomain, parseCsv, parseJsonAccounts } from "@icp/core";
import { describe, expect, it } from "vitest";

const now = new Date("2026-11-20T00:00:00Z");
const criterion = { id: "c", kind: "firmographic", field: "industry", operator: "eq", value: "SaaS", points: 10 };

describe("regressions found by the unit-test review", () => {
  it("refuses `in` on a numeric field at definition time", () => {
    const r = IcpDefinition.safeParse({
      name: "x",
      criteria: [{ id: "n", kind: "firmographic", field: "employees", operator: "in", values: ["120"], points: 10 }],
    });
    expect(r.success).toBe(false);
    expect(r.error?.issues[0]).toMatchObject({ path: ["criteria", 0, "operator"] });
  });

  it("names a duplicate segment by its name path", () => {
    const seg = { name: "s", when: [{ field: "industry", operator: "eq", value: "SaaS" }] };
    const r = IcpDefinition.safeParse({ name: "x", criteria: [criterion], segments: [seg, seg] });
    expect(r.error?.issues[0]).toMatchObject({ path: ["segments", 1, "name"], message: 'duplicate name "s"' });
  });

  it("keeps a contact that only has a title when rows of a domain merge", () => {
    const p = parseCsv("Website,Title\nacme.com,CEO\nacme.com,\n", now);
    expect(mergeByDomain(p.rows)[0]?.account.contacts).toEqual([{ title: "CEO" }]);
  });

  it("reports a row whose quoted cell spans lines at the line it starts on", () => {
    const p = parseCsv('Website,Title\n"not a domain","VP\nSales"\nok.com,x\n\nbad,y\n', now);
    expect(p.errors.map((e) => e.line)).toEqual([2, 6]);
  });

  it("reads large whole numbers from JSON", () => {
    const p = parseJsonAccounts([{ domain: "big.com", revenue: 9e15 }], now);
    expect(p.rows[0]?.account.revenue).toBe(9e15);
    // Beyond what the store can write (or any revenue), a row error instead of a failed chunk.
    const tooBig = parseJsonAccounts([{ domain: "big.com", revenue: 1e21 }], now);
    expect(tooBig.errors[0]).toMatchObject({ line: 1, field: "revenue" });
    const tiny = parseJsonAccounts(
      [{ domain: "tiny.com", signals: [{ type: "funding", at: "2026-01-01", amount: 5e-242 }] }],
      now,
    );
    expect(tiny.errors[0]).toMatchObject({ line: 1, field: "signals.0.amount" });
  });

  it("matches persona keywords as whole words", () => {
    const personas = [{ name: "cro", titles: ["CRO"] }];
    expect(matchPersona(personas, { title: "Microsoft Partner Manager" })).toBeUndefined();
    expect(matchPersona(personas, { title: "CRO, EMEA" })).toBe("cro");
    expect(matchPersona([{ name: "vp", titles: ["VP Sales"] }], { title: "Senior VP Sales Europe" })).toBe("vp");
  });
});

describe("regressions found by the lifecycle review", () => {
  const base = {
    name: "x",
    criteria: [{ id: "c", kind: "firmographic", field: "industry", operator: "in", values: ["SaaS"], points: 50 }],
  };
  const now = Date.parse("2026-11-20T00:00:00Z");
  const tenDaysAgo = "2026-11-10";

  it("ages accounts whose disqualifiers or segments look at signal windows", async () => {
    const { compileIcp, nextAgingAt } = await import("@icp/core");
    const def = IcpDefinition.parse({
      ...base,
      disqualifiers: [
        { id: "d", field: "signals", operator: "within-days", values: ["funding"], days: 30, reason: "r" },
      ],
      segments: [{ name: "hot", when: [{ field: "signals", operator: "within-days", days: 30 }] }],
    });
    const icp = compileIcp({ ...def, id: "i", version: 1 });
    const facts = { domain: "a.com", industry: "SaaS", signals: [{ type: "funding" as const, at: tenDaysAgo }] };
    expect(nextAgingAt([icp], facts, now)).toBe(Date.parse(tenDaysAgo) + 30 * 86_400_000 + 1);
  });

  it("bands the lift on its rounded value", async () => {
    const { icpLift } = await import("@icp/core");
    expect(icpLift({ accounts: 5, won: 3, conversion: 0.6 }, { accounts: 5, won: 1, conversion: 0.2 })).toEqual({
      lift: 3,
      band: "3-4x",
    });
    expect(icpLift({ accounts: 5, won: 3, conversion: 0.6 }, { accounts: 10, won: 1, conversion: 0.1 })).toEqual({
      lift: 6,
      band: "5x+",
    });
  });

  it("collapses duplicate signals on an account's first write too", async () => {
    const { nextAccountState } = await import("@icp/store");
    const dup = { type: "funding" as const, at: tenDaysAgo };
    const s1 = nextAccountState(
      "acc_X",
      undefined,
      { domain: "a.com", signals: [dup, dup] },
      [],
      now,
      "import:a#0",
      "2026-11-20T00:00:00Z",
    );
    expect(s1.facts.signals).toEqual([dup]);
  });

  it("diffs segment order and refuses duplicate persona names", async () => {
    const { diffIcp } = await import("@icp/core");
    const seg = (name: string) => ({ name, when: [{ field: "industry", operator: "eq", value: name }] });
    const a = IcpDefinition.parse({ ...base, segments: [seg("a"), seg("b")] });
    const b = IcpDefinition.parse({ ...base, segments: [seg("b"), seg("a")] });
    expect(diffIcp(a, b)).toEqual([{ op: "changed", path: "segments.order", from: ["a", "b"], to: ["b", "a"] }]);
    const p = { name: "p", titles: ["CEO"] };
    expect(IcpDefinition.safeParse({ ...base, personas: [p, p] }).error?.issues[0]?.path).toEqual([
      "personas",
      1,
      "name",
    ]);
  });
});
