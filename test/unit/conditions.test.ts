import { type AccountFacts, type Condition, compileCondition, type Signal } from "@icp/core";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { DAY_MS, NOW, SIGNAL_TYPES, TECH } from "./support.js";

const run = (c: Condition, facts: Omit<AccountFacts, "domain">, domain = "acme.com", now = NOW) =>
  compileCondition(c)({ domain, ...facts }, domain, now);

describe("compileCondition", () => {
  it("in: case-insensitive text membership, never on numbers or missing values", () => {
    const c: Condition = { field: "country", operator: "in", values: ["France", "united states"] };
    expect(run(c, { country: "FRANCE" })).toEqual({ matched: true, value: "FRANCE" });
    expect(run(c, { country: "United States" }).matched).toBe(true);
    expect(run(c, { country: "Spain" })).toEqual({ matched: false, value: "Spain" });
    expect(run(c, {})).toEqual({ matched: false, value: undefined });
  });

  it("in on the domain field looks at the domain argument", () => {
    const c: Condition = { field: "domain", operator: "in", values: ["Apollo.io"] };
    expect(run(c, {}, "apollo.io")).toEqual({ matched: true, value: "apollo.io" });
    expect(run(c, {}, "apollo.com").matched).toBe(false);
  });

  it("contains-any on technologies returns the hits as spelled by the account", () => {
    const c: Condition = { field: "technologies", operator: "contains-any", values: ["hubspot", "SALESFORCE"] };
    expect(run(c, { technologies: ["Slack", "HubSpot", "Salesforce"] })).toEqual({
      matched: true,
      value: ["HubSpot", "Salesforce"],
    });
    expect(run(c, { technologies: ["Slack"] })).toEqual({ matched: false, value: undefined });
    expect(run(c, {})).toEqual({ matched: false, value: undefined });
  });

  it("within-days value is the latest qualifying signal", () => {
    const c: Condition = { field: "signals", operator: "within-days", values: ["hiring"], days: 30 };
    const s1: Signal = { type: "hiring", at: new Date(NOW - 20 * DAY_MS).toISOString() };
    const s2: Signal = { type: "hiring", at: new Date(NOW - 2 * DAY_MS).toISOString() };
    expect(run(c, { signals: [s2, s1] })).toEqual({ matched: true, value: s2 });
    expect(run(c, { signals: [] })).toEqual({ matched: false, value: undefined });
  });

  it("is pure: a compiled condition gives the same answer every time", () => {
    const c = compileCondition({ field: "technologies", operator: "contains-any", values: ["Slack"] });
    const facts: AccountFacts = { domain: "a.com", technologies: ["slack"] };
    expect(c(facts, "a.com", NOW)).toEqual(c(facts, "a.com", NOW));
  });
});

describe("compileCondition properties", () => {
  const sigArb = fc.record({
    type: fc.constantFrom(...SIGNAL_TYPES),
    offsetMs: fc.integer({ min: -40 * DAY_MS, max: 400 * DAY_MS }),
  });

  it("within-days matches iff a signal of a wanted type is at most `days` old and not in the future", () => {
    fc.assert(
      fc.property(
        fc.array(sigArb, { maxLength: 6 }),
        fc.subarray([...SIGNAL_TYPES]),
        fc.integer({ min: 1, max: 365 }),
        (raw, types, days) => {
          const signals: Signal[] = raw.map((s) => ({ type: s.type, at: new Date(NOW - s.offsetMs).toISOString() }));
          const r = run({ field: "signals", operator: "within-days", values: types, days }, { signals });
          const ok = raw.filter(
            (s) => (types.length === 0 || types.includes(s.type)) && s.offsetMs >= 0 && s.offsetMs <= days * DAY_MS,
          );
          expect(r.matched).toBe(ok.length > 0);
          if (ok.length) {
            const newest = Math.min(...ok.map((s) => s.offsetMs));
            expect(Date.parse((r.value as Signal).at)).toBe(NOW - newest);
          }
        },
      ),
    );
  });

  it("range matches iff min <= value <= max", () => {
    fc.assert(
      fc.property(
        fc.option(fc.integer({ min: 0, max: 1000 }), { nil: undefined }),
        fc.option(fc.integer({ min: 0, max: 1000 }), { nil: undefined }),
        fc.option(fc.integer({ min: 0, max: 1000 }), { nil: undefined }),
        (min, max, v) => {
          fc.pre(min !== undefined || max !== undefined);
          const r = run({ field: "revenue", operator: "range", min, max }, { revenue: v });
          const want = v !== undefined && (min === undefined || v >= min) && (max === undefined || v <= max);
          expect(r).toEqual({ matched: want, value: v });
        },
      ),
    );
  });

  it("contains-any on a list matches iff the case-folded sets intersect", () => {
    const caseArb = fc.constantFrom(...TECH).chain((t) => fc.constantFrom(t, t.toLowerCase(), t.toUpperCase()));
    fc.assert(
      fc.property(
        fc.array(caseArb, { minLength: 1, maxLength: 4 }),
        fc.array(caseArb, { maxLength: 5 }),
        (values, technologies) => {
          const r = run({ field: "technologies", operator: "contains-any", values }, { technologies });
          const wanted = new Set(values.map((v) => v.toLowerCase()));
          const hits = technologies.filter((t) => wanted.has(t.toLowerCase()));
          expect(r.matched).toBe(hits.length > 0);
          expect(r.value).toEqual(hits.length ? hits : undefined);
        },
      ),
    );
  });
});
