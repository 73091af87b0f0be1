import {
  type AccountFacts,
  type CompiledIcp,
  compileIcp,
  DEFAULT_SEGMENT,
  DEMO_ICP,
  IcpDefinition,
  type IcpDefinitionInput,
  matchPersona,
  type Persona,
  type Score,
} from "@icp/core";
import { describe, expect, it } from "vitest";
import { compile, DAY_MS, daysAgo, NOW } from "./support.js";

const demo: CompiledIcp = compileIcp({ ...IcpDefinition.parse(DEMO_ICP), id: "icp_demo", version: 3 });
const score = (facts: AccountFacts, now = NOW): Score => demo.score(facts, facts.domain, now);
const line = (s: Score, id: string) => {
  const l = s.breakdown.find((b) => b.criterion === id);
  if (!l) throw new Error(`no breakdown line ${id}`);
  return l;
};

/** Matches every DEMO_ICP criterion: 25 + 20 + 10 + 15 + 20 + 10 = 100. */
const perfect: AccountFacts = {
  domain: "acme.com",
  name: "Acme",
  industry: "SaaS",
  employees: 120,
  revenue: 12_000_000,
  country: "France",
  growthStage: "growth",
  technologies: ["Slack", "HubSpot"],
  signals: [{ type: "funding", at: daysAgo(10), amount: 5_000_000 }],
};

describe("DEMO_ICP", () => {
  it("passes IcpDefinition validation and keeps its settings", () => {
    const def = IcpDefinition.parse(DEMO_ICP);
    expect(def.criteria.map((c) => [c.id, c.points, c.mandatory])).toEqual([
      ["size", 25, true],
      ["industry", 20, true],
      ["country", 10, true],
      ["tech-stack", 15, true],
      ["intent", 20, false],
      ["growth", 10, false],
    ]);
    expect(def.criteria.reduce((a, c) => a + c.points, 0)).toBe(100);
    expect(def.status).toBe("active");
    expect(def.qualification).toEqual({ minMandatory: 3, minPreferential: 1 });
    expect(def.tiers).toEqual({ priority: 70, nurture: 40 });
  });

  it("scores a perfect account 100, priority, qualified, with every point explained", () => {
    const s = score(perfect);
    expect(s).toMatchObject({
      icpId: "icp_demo",
      icpVersion: 3,
      score: 100,
      tier: "priority",
      qualified: true,
      mandatoryMatched: 4,
      preferentialMatched: 2,
      segment: "saas",
    });
    expect(s.disqualifiedBy).toBeUndefined();
    expect(s.breakdown.every((l) => l.matched)).toBe(true);
    expect(s.breakdown.reduce((a, l) => a + l.points, 0)).toBe(s.score);
  });

  it("shows the account value each criterion looked at", () => {
    const s = score(perfect);
    expect(line(s, "size")).toEqual({
      criterion: "size",
      label: "50-500 employees",
      kind: "firmographic",
      mandatory: true,
      matched: true,
      value: 120,
      points: 25,
    });
    expect(line(s, "industry").value).toBe("SaaS");
    expect(line(s, "country").value).toBe("France");
    // contains-any shows only the technologies that matched, as the account spells them.
    expect(line(s, "tech-stack").value).toEqual(["HubSpot"]);
    // within-days shows the matching signal itself.
    expect(line(s, "intent")).toMatchObject({ kind: "behavioral", mandatory: false, value: perfect.signals?.[0] });
    expect(line(s, "growth").value).toBe("growth");
  });

  it("explains a partial score line by line and omits values the account does not have", () => {
    const facts: AccountFacts = {
      domain: "partial.io",
      industry: "software", // case-insensitive "in"
      employees: 800, // out of range: value shown, no points
      country: "GERMANY",
      technologies: ["Zendesk"],
    };
    const s = score(facts);
    expect(s.breakdown.map((l) => [l.criterion, l.matched, l.points])).toEqual([
      ["size", false, 0],
      ["industry", true, 20],
      ["country", true, 10],
      ["tech-stack", false, 0],
      ["intent", false, 0],
      ["growth", false, 0],
    ]);
    expect(s.score).toBe(30);
    expect(s.breakdown.reduce((a, l) => a + l.points, 0)).toBe(s.score);
    expect(s.tier).toBe("generic");
    expect(line(s, "size").value).toBe(800);
    expect(line(s, "industry").value).toBe("software");
    expect("value" in line(s, "tech-stack")).toBe(false);
    expect("value" in line(s, "intent")).toBe(false);
    expect("value" in line(s, "growth")).toBe(false);
    expect(s.mandatoryMatched).toBe(2);
    expect(s.preferentialMatched).toBe(0);
    expect(s.qualified).toBe(false);
  });

  it("scores an empty account 0, generic, default segment", () => {
    const s = score({ domain: "empty.com" });
    expect(s.score).toBe(0);
    expect(s.tier).toBe("generic");
    expect(s.qualified).toBe(false);
    expect(s.segment).toBe(DEFAULT_SEGMENT);
    expect(s.breakdown).toHaveLength(6);
    expect(s.breakdown.every((l) => !l.matched && l.points === 0)).toBe(true);
  });

  it("uses the default tier thresholds at their boundaries", () => {
    // size 25 + tech 15 = 40 -> nurture; size 25 + country 10 = 35 -> generic.
    expect(score({ domain: "a.com", employees: 50, technologies: ["pipedrive"] })).toMatchObject({
      score: 40,
      tier: "nurture",
    });
    expect(score({ domain: "a.com", employees: 500, country: "Canada" })).toMatchObject({ score: 35, tier: "generic" });
    // 25 + 20 + 15 + 10 = 70 -> priority; 25 + 20 + 10 + 10 = 65 -> nurture.
    expect(
      score({ domain: "a.com", employees: 60, industry: "Fintech", technologies: ["Salesforce"], country: "Canada" }),
    ).toMatchObject({ score: 70, tier: "priority" });
    expect(
      score({ domain: "a.com", employees: 60, industry: "Fintech", country: "Canada", growthStage: "scale" }),
    ).toMatchObject({ score: 65, tier: "nurture" });
  });

  it("range bounds are inclusive", () => {
    for (const employees of [50, 500]) expect(line(score({ domain: "a.com", employees }), "size").matched).toBe(true);
    for (const employees of [49, 501]) expect(line(score({ domain: "a.com", employees }), "size").matched).toBe(false);
  });
});

describe("qualification", () => {
  const base: AccountFacts = { domain: "q.com", employees: 100, industry: "SaaS", country: "France" };

  it("needs >= 3 of 4 mandatory and >= 1 preferential", () => {
    // 3 mandatory, 0 preferential
    expect(score(base).qualified).toBe(false);
    // 3 mandatory + growth stage
    expect(score({ ...base, growthStage: "scale" })).toMatchObject({
      qualified: true,
      mandatoryMatched: 3,
      preferentialMatched: 1,
    });
    // 2 mandatory + 2 preferential: high score (25 + 20 + 20 + 10 = 75) but not qualified
    const two = score({
      domain: "q.com",
      employees: 100,
      industry: "SaaS",
      growthStage: "growth",
      signals: [{ type: "hiring", at: daysAgo(1) }],
    });
    expect(two).toMatchObject({ score: 75, tier: "priority", qualified: false, mandatoryMatched: 2 });
    // all 4 mandatory + 1 preferential
    expect(score({ ...base, technologies: ["HubSpot"], signals: [{ type: "hiring", at: daysAgo(1) }] }).qualified).toBe(
      true,
    );
  });

  const icp = (minMandatory: number, minPreferential: number, mandatory: boolean[]): CompiledIcp =>
    compile({
      name: "q",
      criteria: mandatory.map((m, i) => ({
        id: `c${i}`,
        kind: "firmographic",
        field: "industry",
        operator: "in",
        values: [`ind${i}`],
        points: 10,
        mandatory: m,
      })),
      qualification: { minMandatory, minPreferential },
    });
  /** Facts matching criteria whose index is in `idx` (industry can only match one, so use contains-any). */
  const matching = (idx: number[]): AccountFacts => ({
    domain: "q.com",
    industry: idx.map((i) => `ind${i}`).join(" "),
  });

  it("honours a configured minMandatory / minPreferential", () => {
    // Use contains-any on industry so one account can match several criteria.
    const c = compile({
      name: "q",
      criteria: [0, 1, 2, 3].map((i) => ({
        id: `c${i}`,
        kind: "firmographic",
        field: "industry",
        operator: "contains-any",
        values: [`ind${i}`],
        points: 10,
        mandatory: i < 2,
      })),
      qualification: { minMandatory: 1, minPreferential: 2 },
    });
    const q = (idx: number[]) => c.score(matching(idx), "q.com", NOW);
    expect(q([0, 2, 3]).qualified).toBe(true);
    expect(q([0, 2]).qualified).toBe(false);
    expect(q([2, 3]).qualified).toBe(false);
    expect(q([0, 1, 2, 3])).toMatchObject({ qualified: true, mandatoryMatched: 2, preferentialMatched: 2 });
  });

  it("caps the rule at the number of mandatory / preferential criteria that exist", () => {
    // Default rule 3/1, but only one mandatory criterion and no preferential one.
    const only = icp(3, 1, [true]);
    expect(only.score({ domain: "q.com", industry: "ind0" }, "q.com", NOW).qualified).toBe(true);
    expect(only.score({ domain: "q.com", industry: "other" }, "q.com", NOW).qualified).toBe(false);
    // No mandatory criterion at all: only the preferential part counts.
    const pref = icp(3, 1, [false, false]);
    expect(pref.score({ domain: "q.com", industry: "ind1" }, "q.com", NOW).qualified).toBe(true);
    expect(pref.score({ domain: "q.com" }, "q.com", NOW).qualified).toBe(false);
    // 0/0 qualifies anything that is not disqualified.
    expect(icp(0, 0, [true, false]).score({ domain: "q.com" }, "q.com", NOW).qualified).toBe(true);
  });

  it("applies the default rule (3 mandatory, 1 preferential) when none is given", () => {
    const c = compile({
      name: "d",
      criteria: [0, 1, 2, 3, 4].map((i) => ({
        id: `c${i}`,
        kind: "firmographic",
        field: "industry",
        operator: "contains-any",
        values: [`ind${i}`],
        points: 10,
        mandatory: i < 4,
      })),
    });
    const q = (idx: number[]) => c.score(matching(idx), "q.com", NOW).qualified;
    expect(q([0, 1, 2, 4])).toBe(true);
    expect(q([0, 1, 4])).toBe(false);
    expect(q([0, 1, 2, 3])).toBe(false);
  });

  it("a disqualified account is never qualified", () => {
    const s = score({ ...perfect, domain: "outreach.io" });
    expect(s).toMatchObject({
      score: 100,
      tier: "disqualified",
      qualified: false,
      disqualifiedBy: { id: "competitor", reason: "competitor", value: "outreach.io" },
    });
  });
});

describe("disqualifiers of DEMO_ICP", () => {
  it("too small: fewer than 10 employees", () => {
    expect(score({ ...perfect, employees: 9 }).disqualifiedBy).toEqual({
      id: "too-small",
      reason: "fewer than 10 employees",
      value: 9,
    });
    // 10 is not too small, just outside the 50-500 criterion: 100 - 25 = 75.
    expect(score({ ...perfect, employees: 10 })).toMatchObject({ score: 75, tier: "priority", qualified: true });
    expect(score({ ...perfect, employees: 10 }).disqualifiedBy).toBeUndefined();
    expect(score({ ...perfect, employees: 0 }).tier).toBe("disqualified");
    // Unknown size is not "too small".
    expect(score({ ...perfect, employees: undefined }).tier).toBe("priority");
  });

  it("sanctioned country, case-insensitive", () => {
    expect(score({ ...perfect, country: "north korea" }).disqualifiedBy?.id).toBe("sanctioned");
  });

  it("the first matching disqualifier is reported", () => {
    const s = score({ ...perfect, domain: "apollo.io", employees: 3, country: "Iran" });
    expect(s.disqualifiedBy?.id).toBe("too-small");
  });
});

describe("within-days signals honour now", () => {
  const intent = (signals: AccountFacts["signals"], now = NOW) =>
    line(score({ domain: "a.com", signals }, now), "intent");

  it("89 and 90 days old match a 90-day criterion, 91 does not", () => {
    expect(intent([{ type: "funding", at: daysAgo(89) }]).matched).toBe(true);
    expect(intent([{ type: "funding", at: daysAgo(90) }]).matched).toBe(true);
    expect(intent([{ type: "funding", at: daysAgo(91) }]).matched).toBe(false);
  });

  it("a signal of today matches, future signals do not count", () => {
    expect(intent([{ type: "hiring", at: daysAgo(0) }]).matched).toBe(true);
    expect(intent([{ type: "hiring", at: daysAgo(-1) }]).matched).toBe(false);
    expect(intent([{ type: "hiring", at: new Date(NOW + 1000).toISOString() }]).matched).toBe(false);
  });

  it("the same signal matches or not depending on the now passed in", () => {
    const signals = [{ type: "new_sales_leader" as const, at: "2026-08-01" }];
    expect(intent(signals, Date.parse("2026-10-30T00:00:00Z")).matched).toBe(true);
    expect(intent(signals, Date.parse("2026-10-30T00:00:00Z") + DAY_MS).matched).toBe(false);
    expect(intent(signals, Date.parse("2026-07-31T00:00:00Z")).matched).toBe(false);
  });

  it("signal types outside the criterion do not count", () => {
    expect(intent([{ type: "site_visit", at: daysAgo(1) }]).matched).toBe(false);
    expect(intent([{ type: "content_download", at: daysAgo(1) }]).matched).toBe(false);
  });

  it("shows the most recent matching signal, ignoring future and stale ones", () => {
    const signals: AccountFacts["signals"] = [
      { type: "funding", at: daysAgo(60), amount: 1 },
      { type: "hiring", at: daysAgo(5), detail: "SDRs" },
      { type: "site_visit", at: daysAgo(1) },
      { type: "funding", at: daysAgo(-3) },
      { type: "hiring", at: daysAgo(120) },
    ];
    expect(intent(signals).value).toEqual({ type: "hiring", at: daysAgo(5), detail: "SDRs" });
  });

  it("date-times with an offset are compared as instants", () => {
    // 2026-11-20T01:00:00+02:00 is 2026-11-19T23:00Z: in the past at NOW.
    expect(intent([{ type: "hiring", at: "2026-11-20T01:00:00+02:00" }]).matched).toBe(true);
    // 2026-11-19T23:00:00-02:00 is 2026-11-20T01:00Z: in the future at NOW.
    expect(intent([{ type: "hiring", at: "2026-11-19T23:00:00-02:00" }]).matched).toBe(false);
  });

  it("without types, any signal type counts", () => {
    const c = compile({
      name: "any",
      criteria: [{ id: "recent", kind: "behavioral", field: "signals", operator: "within-days", days: 7, points: 5 }],
    });
    const at = (type: "custom" | "site_visit", days: number) =>
      c.score({ domain: "a.com", signals: [{ type, at: daysAgo(days) }] }, "a.com", NOW).score;
    expect(at("custom", 7)).toBe(5);
    expect(at("site_visit", 8)).toBe(0);
  });
});

describe("segments", () => {
  it("fintech before saas; else default", () => {
    expect(score({ ...perfect, industry: "fintech" }).segment).toBe("fintech");
    expect(score({ ...perfect, industry: "Martech" }).segment).toBe("saas");
    expect(score({ ...perfect, industry: "Retail" }).segment).toBe(DEFAULT_SEGMENT);
    expect(score({ domain: "x.com" }).segment).toBe(DEFAULT_SEGMENT);
  });

  const segmented = (segments: IcpDefinitionInput["segments"]) =>
    compile({
      name: "seg",
      criteria: [{ id: "c", kind: "firmographic", field: "industry", operator: "exists", points: 1 }],
      segments,
    });

  it("the first segment whose conditions all match wins", () => {
    const c = segmented([
      {
        name: "big-eu",
        when: [
          { field: "employees", operator: "range", min: 1000 },
          { field: "country", operator: "in", values: ["France", "Germany"] },
        ],
      },
      { name: "big", when: [{ field: "employees", operator: "range", min: 1000 }] },
      { name: "any-crm", when: [{ field: "technologies", operator: "contains-any", values: ["hubspot"] }] },
    ]);
    const seg = (f: Omit<AccountFacts, "domain">) => c.score({ domain: "s.com", ...f }, "s.com", NOW).segment;
    expect(seg({ employees: 5000, country: "Germany", technologies: ["HubSpot"] })).toBe("big-eu");
    expect(seg({ employees: 5000, country: "Spain", technologies: ["HubSpot"] })).toBe("big");
    expect(seg({ employees: 10, country: "Germany", technologies: ["HubSpot"] })).toBe("any-crm");
    expect(seg({ employees: 10, country: "Germany" })).toBe(DEFAULT_SEGMENT);
  });

  it("segments are independent of points and disqualification", () => {
    const c = compile({
      name: "seg",
      criteria: [{ id: "c", kind: "firmographic", field: "industry", operator: "in", values: ["SaaS"], points: 0 }],
      disqualifiers: [{ id: "dq", field: "domain", operator: "exists", reason: "all" }],
      segments: [{ name: "by-domain", when: [{ field: "domain", operator: "contains-any", values: [".io"] }] }],
    });
    expect(c.score({ domain: "x.io" }, "x.io", NOW)).toMatchObject({ segment: "by-domain", tier: "disqualified" });
    expect(c.score({ domain: "x.com" }, "x.com", NOW).segment).toBe(DEFAULT_SEGMENT);
  });
});

describe("condition operators through scoring", () => {
  const one = (criterion: Record<string, unknown>, facts: Omit<AccountFacts, "domain">, domain = "acme.com") =>
    compile({
      name: "one",
      criteria: [{ id: "c", kind: "firmographic", points: 7, ...criterion } as IcpDefinitionInput["criteria"][number]],
    }).score({ domain, ...facts }, domain, NOW).breakdown[0];

  it("eq compares text case-insensitively and numbers exactly", () => {
    expect(one({ field: "techMaturity", operator: "eq", value: "High" }, { techMaturity: "high" })?.matched).toBe(true);
    expect(one({ field: "industry", operator: "eq", value: "SaaS" }, { industry: "B2B SaaS" })?.matched).toBe(false);
    expect(one({ field: "employees", operator: "eq", value: 10 }, { employees: 10 })?.matched).toBe(true);
    expect(one({ field: "employees", operator: "eq", value: 10 }, { employees: 11 })?.matched).toBe(false);
    expect(one({ field: "employees", operator: "eq", value: 10 }, {})?.matched).toBe(false);
    expect(one({ field: "domain", operator: "eq", value: "ACME.com" }, {})?.matched).toBe(true);
  });

  it("contains-any on a text field looks for keywords", () => {
    const c = { field: "industry", operator: "contains-any", values: ["SaaS", "cloud"] };
    expect(one(c, { industry: "B2B SaaS" })).toMatchObject({ matched: true, value: "B2B SaaS" });
    expect(one(c, { industry: "Retail" })?.matched).toBe(false);
    expect(one(c, {})?.matched).toBe(false);
  });

  it("contains-any on signals lists the distinct matching types", () => {
    const c = { field: "signals", operator: "contains-any", values: ["hiring", "funding"] };
    const r = one(c, {
      signals: [
        { type: "hiring", at: daysAgo(1) },
        { type: "site_visit", at: daysAgo(1) },
        { type: "hiring", at: daysAgo(500) },
      ],
    });
    expect(r).toMatchObject({ matched: true, value: ["hiring"], points: 7 });
    expect(one(c, { signals: [{ type: "custom", at: daysAgo(1) }] })?.matched).toBe(false);
  });

  it("exists: empty lists and missing values do not count", () => {
    expect(one({ field: "technologies", operator: "exists" }, { technologies: [] })?.matched).toBe(false);
    expect(one({ field: "technologies", operator: "exists" }, { technologies: ["x"] })?.matched).toBe(true);
    expect(one({ field: "revenue", operator: "exists" }, { revenue: 0 })?.matched).toBe(true);
    expect(one({ field: "industry", operator: "exists" }, {})?.matched).toBe(false);
  });

  it("range with only min or only max", () => {
    expect(one({ field: "revenue", operator: "range", min: 1e6 }, { revenue: 1e9 })?.matched).toBe(true);
    expect(one({ field: "revenue", operator: "range", max: 1e6 }, { revenue: 1e9 })?.matched).toBe(false);
    expect(one({ field: "revenue", operator: "range", max: 1e6 }, {})?.matched).toBe(false);
  });
});

describe("matchPersona", () => {
  const personas: Persona[] = IcpDefinition.parse(DEMO_ICP).personas;

  it("matches title keywords case-insensitively, first persona wins", () => {
    expect(matchPersona(personas, { title: "VP Sales EMEA" })).toBe("sales-leader");
    expect(matchPersona(personas, { title: "head of sales" })).toBe("sales-leader");
    expect(matchPersona(personas, { title: "CEO & Founder" })).toBe("founder");
    expect(matchPersona(personas, { title: "Co-Founder" })).toBe("founder");
    expect(matchPersona(personas, { title: "Senior RevOps Manager" })).toBe("revops");
    // "CRO" (sales-leader) appears before "Founder" in the list of personas.
    expect(matchPersona(personas, { title: "CRO and Founder" })).toBe("sales-leader");
  });

  it("no title or no keyword: undefined", () => {
    expect(matchPersona(personas, {})).toBeUndefined();
    expect(matchPersona(personas, { title: "" })).toBeUndefined();
    expect(matchPersona(personas, { title: "Account Executive" })).toBeUndefined();
    expect(matchPersona([], { title: "CEO" })).toBeUndefined();
  });
});
