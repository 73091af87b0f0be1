import { Condition, DEMO_ICP, IcpDefinition, type IcpDefinitionInput, TierThresholds } from "@icp/core";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { icpDefArb } from "./support.js";

type Issue = { path: string; message: string };

const crit = (over: Record<string, unknown> = {}) => ({
  id: "industry",
  kind: "firmographic",
  field: "industry",
  operator: "in",
  values: ["SaaS"],
  points: 10,
  ...over,
});
const base = (over: Record<string, unknown> = {}) => ({ name: "Test ICP", criteria: [crit()], ...over });

/** Issues of a definition that must fail, as "path" + message. */
function issues(def: unknown): Issue[] {
  const r = IcpDefinition.safeParse(def);
  if (r.success) throw new Error(`expected ${JSON.stringify(def)} to be rejected`);
  return r.error.issues.map((i) => ({ path: i.path.join("."), message: i.message }));
}

describe("IcpDefinition defaults", () => {
  it("applies status, qualification 3/1, tiers 70/40 and empty lists", () => {
    const d = IcpDefinition.parse(base());
    expect(d).toEqual({
      name: "Test ICP",
      status: "active",
      criteria: [{ ...crit(), mandatory: false }],
      qualification: { minMandatory: 3, minPreferential: 1 },
      tiers: { priority: 70, nurture: 40 },
      disqualifiers: [],
      segments: [],
      personas: [],
    });
  });

  it("fills in partial qualification and tiers", () => {
    const d = IcpDefinition.parse(base({ qualification: { minPreferential: 0 }, tiers: { priority: 90 } }));
    expect(d.qualification).toEqual({ minMandatory: 3, minPreferential: 0 });
    expect(d.tiers).toEqual({ priority: 90, nurture: 40 });
  });

  it("trims the name and rejects a blank one", () => {
    expect(IcpDefinition.parse(base({ name: "  Spaced  " })).name).toBe("Spaced");
    expect(issues(base({ name: "   " }))).toEqual([{ path: "name", message: expect.any(String) }]);
  });

  it("accepts every random definition built by the test generator, idempotently", () => {
    fc.assert(
      fc.property(icpDefArb, (def) => {
        const once = IcpDefinition.parse(def);
        expect(IcpDefinition.parse(once)).toEqual(once);
      }),
      { numRuns: 50 },
    );
  });

  it("accepts DEMO_ICP", () => {
    expect(IcpDefinition.safeParse(DEMO_ICP).success).toBe(true);
  });
});

describe("IcpDefinition errors name the offending path", () => {
  it("range on a text field", () => {
    expect(issues(base({ criteria: [crit({ operator: "range", min: 1, values: undefined })] }))).toEqual([
      { path: "criteria.0.operator", message: 'operator "range" does not apply to field "industry"' },
    ]);
  });

  it("contains-any on employees", () => {
    expect(
      issues(base({ criteria: [crit(), crit({ id: "size", field: "employees", operator: "contains-any" })] })),
    ).toEqual([
      { path: "criteria.1.operator", message: 'operator "contains-any" does not apply to field "employees"' },
    ]);
  });

  it("range without min and max", () => {
    expect(issues(base({ criteria: [crit({ field: "employees", operator: "range", values: undefined })] }))).toEqual([
      { path: "criteria.0.min", message: "range needs min, max or both" },
    ]);
  });

  it("min greater than max", () => {
    expect(issues(base({ criteria: [crit({ field: "revenue", operator: "range", min: 10, max: 5 })] }))).toEqual([
      { path: "criteria.0.max", message: "min must be <= max" },
    ]);
    // min == max is a valid single-value range.
    expect(
      IcpDefinition.safeParse(base({ criteria: [crit({ field: "revenue", operator: "range", min: 5, max: 5 })] }))
        .success,
    ).toBe(true);
  });

  it("duplicate criterion ids", () => {
    expect(issues(base({ criteria: [crit(), crit({ values: ["Fintech"] }), crit()] }))).toEqual([
      { path: "criteria.1.id", message: 'duplicate id "industry"' },
      { path: "criteria.2.id", message: 'duplicate id "industry"' },
    ]);
  });

  it("duplicate disqualifier ids", () => {
    const dq = { id: "dq", field: "employees", operator: "range", max: 9, reason: "small" };
    expect(issues(base({ disqualifiers: [dq, dq] }))).toEqual([
      { path: "disqualifiers.1.id", message: 'duplicate id "dq"' },
    ]);
  });

  it("nurture >= priority", () => {
    for (const tiers of [{ priority: 40, nurture: 40 }, { priority: 40, nurture: 50 }, { priority: 30 }]) {
      expect(issues(base({ tiers }))).toEqual([{ path: "tiers.nurture", message: "nurture must be below priority" }]);
    }
    expect(TierThresholds.safeParse({ priority: 41, nurture: 40 }).success).toBe(true);
  });

  it("thresholds out of range", () => {
    expect(issues(base({ tiers: { priority: 101, nurture: 40 } }))[0]?.path).toBe("tiers.priority");
    expect(issues(base({ tiers: { priority: 70, nurture: -1 } }))[0]?.path).toBe("tiers.nurture");
    expect(issues(base({ tiers: { priority: 70.5, nurture: 40 } }))[0]?.path).toBe("tiers.priority");
  });

  it("points above 100, negative or fractional", () => {
    expect(issues(base({ criteria: [crit({ points: 101 })] }))).toEqual([
      { path: "criteria.0.points", message: expect.stringContaining("100") },
    ]);
    expect(issues(base({ criteria: [crit({ points: -1 })] }))[0]?.path).toBe("criteria.0.points");
    expect(issues(base({ criteria: [crit({ points: 2.5 })] }))[0]?.path).toBe("criteria.0.points");
  });

  it("unknown operator", () => {
    const [issue, ...rest] = issues(base({ criteria: [crit({ operator: "like" })] }));
    expect(rest).toEqual([]);
    expect(issue?.path).toBe("criteria.0.operator");
    expect(issue?.message).toMatch(/eq.*in.*range.*contains-any.*exists.*within-days/);
  });

  it("unknown field", () => {
    expect(issues(base({ criteria: [crit({ field: "revenue_usd" })] }))[0]?.path).toBe("criteria.0.field");
  });

  it("within-days only on signals, with days 1..3650 and known signal types", () => {
    const wd = (over: Record<string, unknown>) =>
      crit({ field: "signals", operator: "within-days", values: ["hiring"], days: 30, ...over });
    expect(IcpDefinition.safeParse(base({ criteria: [wd({})] })).success).toBe(true);
    expect(IcpDefinition.safeParse(base({ criteria: [wd({ values: undefined })] })).success).toBe(true);
    expect(issues(base({ criteria: [wd({ field: "country" })] }))[0]?.path).toBe("criteria.0.field");
    expect(issues(base({ criteria: [wd({ days: 0 })] }))[0]?.path).toBe("criteria.0.days");
    expect(issues(base({ criteria: [wd({ days: 3651 })] }))[0]?.path).toBe("criteria.0.days");
    expect(issues(base({ criteria: [wd({ values: ["webinar"] })] }))[0]?.path).toBe("criteria.0.values.0");
  });

  it("eq must match the field's type; in and eq do not apply to list fields", () => {
    expect(issues(base({ criteria: [crit({ field: "employees", operator: "eq", value: "50" })] }))).toEqual([
      {
        path: "criteria.0.operator",
        message: 'operator "eq" does not apply to field "employees" with a text value',
      },
    ]);
    expect(issues(base({ criteria: [crit({ operator: "eq", value: 5 })] }))[0]).toEqual({
      path: "criteria.0.operator",
      message: 'operator "eq" does not apply to field "industry"',
    });
    expect(issues(base({ criteria: [crit({ field: "technologies" })] }))[0]?.message).toBe(
      'operator "in" does not apply to field "technologies"',
    );
    expect(issues(base({ criteria: [crit({ field: "signals", operator: "eq", value: "x" })] }))[0]?.path).toBe(
      "criteria.0.operator",
    );
  });

  it("bad ids, empty values and missing criteria", () => {
    expect(issues(base({ criteria: [crit({ id: "Bad Id" })] }))[0]).toEqual({
      path: "criteria.0.id",
      message: "use lowercase letters, digits, - and _ (max 63)",
    });
    expect(issues(base({ criteria: [crit({ values: [] })] }))[0]?.path).toBe("criteria.0.values");
    expect(issues(base({ criteria: [crit({ values: ["  "] })] }))[0]?.path).toBe("criteria.0.values.0");
    expect(issues(base({ criteria: [] }))[0]?.path).toBe("criteria");
    expect(issues({ criteria: [crit()] })[0]?.path).toBe("name");
    expect(issues(base({ criteria: [crit({ kind: "psychographic" })] }))[0]?.path).toBe("criteria.0.kind");
  });

  it("operator checks also apply to disqualifiers and segment conditions", () => {
    expect(
      issues(base({ disqualifiers: [{ id: "dq", field: "country", operator: "range", max: 3, reason: "r" }] }))[0],
    ).toEqual({ path: "disqualifiers.0.operator", message: 'operator "range" does not apply to field "country"' });
    expect(issues(base({ disqualifiers: [{ id: "dq", field: "country", operator: "exists" }] }))[0]?.path).toBe(
      "disqualifiers.0.reason",
    );
    expect(
      issues(base({ segments: [{ name: "s", when: [{ field: "industry", operator: "range", min: 1 }] }] }))[0],
    ).toEqual({ path: "segments.0.when.0.operator", message: 'operator "range" does not apply to field "industry"' });
    expect(issues(base({ segments: [{ name: "s", when: [] }] }))[0]?.path).toBe("segments.0.when");
  });

  it("reports every problem at once", () => {
    const paths = issues(
      base({
        criteria: [crit({ points: 500 }), crit({ id: "size", field: "employees", operator: "range", min: 9, max: 1 })],
        tiers: { priority: 10, nurture: 20 },
      }),
    ).map((i) => i.path);
    expect(paths).toEqual(expect.arrayContaining(["criteria.0.points", "criteria.1.max", "tiers.nurture"]));
  });

  it("personas need a slug name and at least one title", () => {
    expect(issues(base({ personas: [{ name: "VP", titles: ["VP Sales"] }] }))[0]?.path).toBe("personas.0.name");
    expect(issues(base({ personas: [{ name: "vp", titles: [] }] }))[0]?.path).toBe("personas.0.titles");
    expect(issues(base({ personas: [{ name: "vp", titles: ["x"], seniorities: ["intern"] }] }))[0]?.path).toBe(
      "personas.0.seniorities.0",
    );
  });
});

describe("Condition", () => {
  it("carries exactly the operands of its operator", () => {
    expect(Condition.parse({ field: "industry", operator: "in", values: ["a"], value: "ignored" })).toEqual({
      field: "industry",
      operator: "in",
      values: ["a"],
    });
    expect(Condition.safeParse({ field: "industry", operator: "in" }).success).toBe(false);
    expect(Condition.safeParse({ field: "industry", operator: "eq" }).success).toBe(false);
  });

  it("trims text operands", () => {
    expect(Condition.parse({ field: "industry", operator: "eq", value: "  SaaS " })).toEqual({
      field: "industry",
      operator: "eq",
      value: "SaaS",
    });
  });
});

describe("typed input", () => {
  it("IcpDefinitionInput accepts a definition without the defaulted fields", () => {
    const input: IcpDefinitionInput = {
      name: "typed",
      criteria: [{ id: "x", kind: "behavioral", field: "signals", operator: "exists", points: 1 }],
    };
    expect(IcpDefinition.parse(input).criteria[0]?.mandatory).toBe(false);
  });
});
