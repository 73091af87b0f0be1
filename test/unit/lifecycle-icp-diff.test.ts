import { DEMO_ICP, diffIcp, type IcpChange, IcpDefinition, stableJson } from "@icp/core";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { criterionArb, icpDefArb } from "./support.js";

const parse = (def: unknown): IcpDefinition => IcpDefinition.parse(def);
const clone = <T>(x: T): T => structuredClone(x);

/** The same value with every object's keys in reverse order, at every depth. */
function reverseKeys<T>(value: T): T {
  if (Array.isArray(value)) return value.map(reverseKeys) as T;
  if (value && typeof value === "object")
    return Object.fromEntries(
      Object.entries(value as Record<string, unknown>)
        .reverse()
        .map(([k, v]) => [k, reverseKeys(v)]),
    ) as T;
  return value;
}

const demo = parse(DEMO_ICP);

describe("diffIcp", () => {
  it("finds nothing between identical definitions", () => {
    expect(diffIcp(demo, parse(DEMO_ICP))).toEqual([]);
    expect(diffIcp(demo, demo)).toEqual([]);
  });

  it("ignores key order at every depth", () => {
    const reordered = reverseKeys(clone(demo));
    expect(Object.keys(reordered)).not.toEqual(Object.keys(demo));
    expect(Object.keys(reordered.criteria[0] ?? {})).not.toEqual(Object.keys(demo.criteria[0] ?? {}));
    expect(diffIcp(demo, reordered)).toEqual([]);
    expect(diffIcp(reordered, demo)).toEqual([]);
  });

  it("reports a changed tier threshold", () => {
    const b = clone(demo);
    b.tiers.priority = 75;
    expect(diffIcp(demo, b)).toEqual([{ op: "changed", path: "tiers.priority", from: 70, to: 75 }]);
  });

  it("reports changed qualification rules and top-level fields", () => {
    const b = clone(demo);
    b.qualification.minMandatory = 2;
    b.name = "Renamed";
    b.status = "inactive";
    expect(diffIcp(demo, b)).toEqual([
      { op: "changed", path: "name", from: "SaaS scale-ups", to: "Renamed" },
      { op: "changed", path: "status", from: "active", to: "inactive" },
      { op: "changed", path: "qualification.minMandatory", from: 3, to: 2 },
    ]);
  });

  it("reports a description added or removed", () => {
    const { description: _d, ...rest } = demo;
    const without = parse(rest);
    expect(diffIcp(without, demo)).toEqual([
      { op: "changed", path: "description", from: undefined, to: demo.description },
    ]);
    expect(diffIcp(demo, without)).toEqual([
      { op: "changed", path: "description", from: demo.description, to: undefined },
    ]);
  });

  it("reports a removed criterion by id", () => {
    const b = clone(demo);
    b.criteria = b.criteria.filter((c) => c.id !== "growth");
    const growth = demo.criteria.find((c) => c.id === "growth");
    expect(diffIcp(demo, b)).toEqual([{ op: "removed", path: "criteria.growth", from: growth }]);
  });

  it("reports an added criterion by id", () => {
    const b = clone(demo);
    const added = parse({
      ...DEMO_ICP,
      criteria: [
        ...DEMO_ICP.criteria,
        {
          id: "slack",
          kind: "technographic",
          field: "technologies",
          operator: "contains-any",
          values: ["Slack"],
          points: 5,
        },
      ],
    }).criteria.at(-1);
    if (!added) throw new Error("no criterion");
    b.criteria.push(added);
    expect(diffIcp(demo, b)).toEqual([{ op: "added", path: "criteria.slack", to: added }]);
  });

  it("names each changed field of a criterion", () => {
    const b = clone(demo);
    const size = b.criteria.find((c) => c.id === "size");
    if (size?.operator !== "range") throw new Error("no size criterion");
    size.points = 30;
    size.max = 1000;
    expect(diffIcp(demo, b)).toEqual([
      { op: "changed", path: "criteria.size.max", from: 500, to: 1000 },
      { op: "changed", path: "criteria.size.points", from: 25, to: 30 },
    ]);
  });

  it("reports a field added to a criterion, and list values compared by content", () => {
    const b = clone(demo);
    const intent = b.criteria.find((c) => c.id === "intent");
    if (intent?.operator !== "within-days") throw new Error("no intent criterion");
    intent.halfLifeDays = 30;
    intent.values = ["funding", "hiring"];
    expect(diffIcp(demo, b)).toEqual([
      {
        op: "changed",
        path: "criteria.intent.values",
        from: ["funding", "hiring", "new_sales_leader"],
        to: ["funding", "hiring"],
      },
      { op: "changed", path: "criteria.intent.halfLifeDays", from: undefined, to: 30 },
    ]);
  });

  it("does not report a criterion moved to another position", () => {
    const b = clone(demo);
    b.criteria.reverse();
    expect(diffIcp(demo, b)).toEqual([]);
  });

  it("reports disqualifiers, segments and personas by id or name", () => {
    const b = clone(demo);
    b.disqualifiers = b.disqualifiers.filter((d) => d.id !== "competitor");
    const fintech = b.segments.find((s) => s.name === "fintech");
    if (!fintech) throw new Error("no segment");
    fintech.when = [{ field: "industry", operator: "eq", value: "Banking" }];
    b.personas.push({ name: "cto", titles: ["CTO"] });
    const changes = diffIcp(demo, b);
    expect(changes.map((c) => `${c.op} ${c.path}`)).toEqual([
      "removed disqualifiers.competitor",
      "changed segments.fintech.when",
      "added personas.cto",
    ]);
    expect(changes[1]).toMatchObject({ to: [{ field: "industry", operator: "eq", value: "Banking" }] });
  });
});

/** A change to a parsed definition; some of them may turn out to change nothing. */
type Mutation = (d: IcpDefinition) => void;
const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  fc.integer({ min: 0, max: 99 }).map(
    (n): Mutation =>
      (d) => {
        d.tiers.nurture = Math.min(n, d.tiers.priority - 1);
      },
  ),
  fc.integer({ min: 0, max: 50 }).map(
    (n): Mutation =>
      (d) => {
        d.qualification.minPreferential = n;
      },
  ),
  fc.nat().map(
    (i): Mutation =>
      (d) => {
        if (d.criteria.length > 1) d.criteria.splice(i % d.criteria.length, 1);
      },
  ),
  criterionArb.map(
    (c): Mutation =>
      (d) => {
        if (d.criteria.some((x) => x.id === "zz")) return;
        d.criteria.push(
          parse({ name: "x", criteria: [{ ...c, id: "zz" }] }).criteria[0] as IcpDefinition["criteria"][0],
        );
      },
  ),
  fc.tuple(fc.nat(), fc.integer({ min: 0, max: 100 })).map(
    ([i, p]): Mutation =>
      (d) => {
        const c = d.criteria[i % d.criteria.length];
        if (c) c.points = p;
      },
  ),
  fc.tuple(fc.nat(), fc.boolean()).map(
    ([i, m]): Mutation =>
      (d) => {
        const c = d.criteria[i % d.criteria.length];
        if (c) c.mandatory = m;
      },
  ),
  fc.constantFrom("random", "other").map(
    (name): Mutation =>
      (d) => {
        d.name = name;
      },
  ),
  fc.constantFrom("hello", undefined).map(
    (description): Mutation =>
      (d) => {
        if (description === undefined) delete d.description;
        else d.description = description;
      },
  ),
  fc.constant<Mutation>((d) => {
    d.disqualifiers.push({ id: "dq", field: "employees", operator: "range", max: 5, reason: "tiny" });
  }),
  fc.constant<Mutation>((d) => {
    d.personas.push({ name: "boss", titles: ["CEO"] });
  }),
);

const pairArb = fc
  .tuple(icpDefArb, fc.array(mutationArb, { maxLength: 3 }), fc.boolean())
  .map(([def, mutations, reorder]) => {
    const a = parse(def);
    const b = clone(a);
    for (const m of mutations) m(b);
    return { a, b: reorder ? reverseKeys(b) : b };
  });

const pathsOf = (changes: IcpChange[]) => changes.map((c) => c.path).sort();

describe("diffIcp properties", () => {
  it("finds nothing between a generated ICP and itself, or itself with keys reordered", () => {
    fc.assert(
      fc.property(icpDefArb, (def) => {
        const a = parse(def);
        expect(diffIcp(a, a)).toEqual([]);
        expect(diffIcp(a, reverseKeys(clone(a)))).toEqual([]);
      }),
      { numRuns: 80 },
    );
  });

  it("is empty exactly when the definitions are stableJson-equal", () => {
    let equal = 0;
    let different = 0;
    fc.assert(
      fc.property(pairArb, ({ a, b }) => {
        const same = stableJson(a) === stableJson(b);
        if (same) equal++;
        else different++;
        expect(diffIcp(a, b).length === 0).toBe(same);
      }),
      { numRuns: 150 },
    );
    // Both sides of the "iff" were exercised.
    expect(equal).toBeGreaterThan(5);
    expect(different).toBeGreaterThan(5);
  });

  it("is symmetric: swapping the versions swaps from/to and added/removed", () => {
    fc.assert(
      fc.property(pairArb, ({ a, b }) => {
        const forward = diffIcp(a, b);
        const backward = diffIcp(b, a);
        expect(pathsOf(backward)).toEqual(pathsOf(forward));
        for (const f of forward) {
          const r = backward.find((x) => x.path === f.path);
          if (f.op === "changed") expect(r).toEqual({ op: "changed", path: f.path, from: f.to, to: f.from });
          if (f.op === "added") expect(r).toEqual({ op: "removed", path: f.path, from: f.to });
          if (f.op === "removed") expect(r).toEqual({ op: "added", path: f.path, to: f.from });
        }
      }),
      { numRuns: 100 },
    );
  });

  it("every change carries values that really differ", () => {
    fc.assert(
      fc.property(pairArb, ({ a, b }) => {
        for (const c of diffIcp(a, b)) if (c.op === "changed") expect(stableJson(c.from)).not.toBe(stableJson(c.to));
      }),
      { numRuns: 100 },
    );
  });
});
