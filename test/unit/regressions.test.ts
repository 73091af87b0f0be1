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
    const p = parseJsonAccounts([{ domain: "big.com", revenue: 1e21 }], now);
    expect(p.rows[0]?.account.revenue).toBe(1e21);
  });

  it("matches persona keywords as whole words", () => {
    const personas = [{ name: "cro", titles: ["CRO"] }];
    expect(matchPersona(personas, { title: "Microsoft Partner Manager" })).toBeUndefined();
    expect(matchPersona(personas, { title: "CRO, EMEA" })).toBe("cro");
    expect(matchPersona([{ name: "vp", titles: ["VP Sales"] }], { title: "Senior VP Sales Europe" })).toBe("vp");
  });
});
