import {
  type AccountFacts,
  type CompiledIcp,
  compileIcp,
  type Icp,
  IcpDefinition,
  type IcpDefinitionInput,
  type Signal,
} from "@icp/core";
import fc from "fast-check";

/** Fixed "now" for every scoring test: 2026-11-20T00:00:00Z. */
export const NOW_ISO = "2026-11-20T00:00:00.000Z";
export const NOW = Date.parse(NOW_ISO);
export const NOW_DATE = new Date(NOW);
export const DAY_MS = 86_400_000;

/** ISO date (YYYY-MM-DD) `days` before NOW (negative = in the future). */
export const daysAgo = (days: number) => new Date(NOW - days * DAY_MS).toISOString().slice(0, 10);

/** Validate a definition the way the API does and give it an id and version. */
export function makeIcp(def: IcpDefinitionInput, id = "icp_01", version = 1): Icp {
  return { ...IcpDefinition.parse(def), id, version };
}

export function compile(def: IcpDefinitionInput, id = "icp_01", version = 1): CompiledIcp {
  return compileIcp(makeIcp(def, id, version));
}

export const INDUSTRIES = ["SaaS", "Software", "Fintech", "Martech", "Retail", "Healthcare", "Logistics"] as const;
export const COUNTRIES = ["France", "Germany", "United States", "Canada", "Spain", "Brazil", "Russia"] as const;
export const TECH = ["HubSpot", "Salesforce", "Pipedrive", "Slack", "Intercom", "Stripe", "Notion"] as const;
export const STAGES = ["seed", "early", "growth", "scale", "mature", "enterprise"] as const;
export const MATURITY = ["low", "medium", "high"] as const;
export const SIGNAL_TYPES = [
  "funding",
  "hiring",
  "new_sales_leader",
  "site_visit",
  "content_download",
  "tool_change",
  "custom",
] as const;

/** Case variations must not change matching, so generators mix them in. */
export const anyCase = (s: string) => fc.constantFrom(s, s.toLowerCase(), s.toUpperCase());

export const signalArb: fc.Arbitrary<Signal> = fc
  .record({ type: fc.constantFrom(...SIGNAL_TYPES), age: fc.integer({ min: -30, max: 400 }) })
  .map(({ type, age }) => ({ type, at: daysAgo(age) }));

/** Random account facts over small value pools so criteria match often enough to be interesting. */
export const factsArb: fc.Arbitrary<AccountFacts> = fc.record(
  {
    domain: fc.constantFrom("acme.com", "beta.io", "outreach.io", "gamma.co.uk"),
    industry: fc.constantFrom(...INDUSTRIES).chain(anyCase),
    employees: fc.integer({ min: 0, max: 20_000 }),
    revenue: fc.integer({ min: 0, max: 500_000_000 }),
    country: fc.constantFrom(...COUNTRIES).chain(anyCase),
    growthStage: fc.constantFrom(...STAGES),
    technologies: fc.subarray([...TECH]),
    techMaturity: fc.constantFrom(...MATURITY),
    signals: fc.array(signalArb, { maxLength: 4 }),
  },
  { requiredKeys: ["domain"] },
);

const slugArb = fc.stringMatching(/^[a-z][a-z0-9]{0,6}$/);
const nonEmptySub = <T>(xs: readonly T[]) => fc.subarray([...xs], { minLength: 1 });

/** A condition (criterion or disqualifier body) that passes IcpDefinition validation. */
export const conditionArb: fc.Arbitrary<Record<string, unknown>> = fc.oneof(
  nonEmptySub(INDUSTRIES).map((values) => ({ field: "industry", operator: "in", values })),
  nonEmptySub(COUNTRIES).map((values) => ({ field: "country", operator: "in", values })),
  nonEmptySub(STAGES).map((values) => ({ field: "growthStage", operator: "in", values })),
  fc.constantFrom(...MATURITY).map((value) => ({ field: "techMaturity", operator: "eq", value })),
  fc.constantFrom(...INDUSTRIES).map((value) => ({ field: "industry", operator: "eq", value })),
  fc
    .tuple(fc.integer({ min: 0, max: 20_000 }), fc.integer({ min: 0, max: 20_000 }))
    .map(([a, b]) => ({ field: "employees", operator: "range", min: Math.min(a, b), max: Math.max(a, b) })),
  fc.integer({ min: 0, max: 20_000 }).map((min) => ({ field: "employees", operator: "range", min })),
  fc.integer({ min: 0, max: 500_000_000 }).map((max) => ({ field: "revenue", operator: "range", max })),
  fc.integer({ min: 0, max: 10_000 }).map((value) => ({ field: "employees", operator: "eq", value })),
  nonEmptySub(TECH).map((values) => ({ field: "technologies", operator: "contains-any", values })),
  fc.constantFrom("saas", "tech", "care").map((k) => ({ field: "industry", operator: "contains-any", values: [k] })),
  nonEmptySub(SIGNAL_TYPES).map((values) => ({ field: "signals", operator: "contains-any", values })),
  fc
    .record({ values: fc.subarray([...SIGNAL_TYPES]), days: fc.integer({ min: 1, max: 400 }) })
    .map(({ values, days }) => ({ field: "signals", operator: "within-days", values, days })),
  fc.constantFrom("technologies", "industry", "signals", "employees").map((field) => ({ field, operator: "exists" })),
);

export const criterionArb = fc
  .record({
    cond: conditionArb,
    points: fc.integer({ min: 0, max: 100 }),
    mandatory: fc.boolean(),
    kind: fc.constantFrom("firmographic", "technographic", "behavioral"),
  })
  .map(({ cond, ...rest }) => ({ ...cond, ...rest }));

/** A valid ICP definition with 1..8 random criteria (ids made unique by position). */
export const icpDefArb: fc.Arbitrary<IcpDefinitionInput> = fc
  .record({
    criteria: fc.array(criterionArb, { minLength: 1, maxLength: 8 }),
    minMandatory: fc.integer({ min: 0, max: 5 }),
    minPreferential: fc.integer({ min: 0, max: 5 }),
    nurture: fc.integer({ min: 0, max: 99 }),
    gap: fc.integer({ min: 1, max: 100 }),
    segmentName: slugArb,
  })
  .map(({ criteria, minMandatory, minPreferential, nurture, gap, segmentName }) => ({
    name: "random",
    criteria: criteria.map((c, i) => ({ ...c, id: `c${i}` })) as IcpDefinitionInput["criteria"],
    qualification: { minMandatory, minPreferential },
    tiers: { nurture, priority: Math.min(100, nurture + gap) },
    segments: [{ name: segmentName, when: [{ field: "industry", operator: "eq", value: "SaaS" }] }],
  }));
