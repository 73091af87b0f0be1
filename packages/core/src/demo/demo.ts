import type { IcpDefinitionInput } from "../scoring/index.js";

/**
 * The seeds' example lead-scoring model as an ICP: size 25, industry 20, tech stack 15,
 * intent 20, plus country 10 and growth 10 (total 100). Four mandatory criteria,
 * qualified at 3 of 4 mandatory + 1 preferential.
 */
export const DEMO_ICP: IcpDefinitionInput = {
  name: "SaaS scale-ups",
  description: "B2B software companies of 50-500 people in Western Europe and North America, on a modern sales stack.",
  criteria: [
    {
      id: "size",
      kind: "firmographic",
      label: "50-500 employees",
      field: "employees",
      operator: "range",
      min: 50,
      max: 500,
      points: 25,
      mandatory: true,
    },
    {
      id: "industry",
      kind: "firmographic",
      label: "Software / SaaS",
      field: "industry",
      operator: "in",
      values: ["SaaS", "Software", "Fintech", "Martech"],
      points: 20,
      mandatory: true,
    },
    {
      id: "country",
      kind: "firmographic",
      label: "Target countries",
      field: "country",
      operator: "in",
      values: ["France", "Germany", "United Kingdom", "United States", "Canada", "Netherlands"],
      points: 10,
      mandatory: true,
    },
    {
      id: "tech-stack",
      kind: "technographic",
      label: "Uses a CRM we integrate with",
      field: "technologies",
      operator: "contains-any",
      values: ["HubSpot", "Salesforce", "Pipedrive"],
      points: 15,
      mandatory: true,
    },
    {
      id: "intent",
      kind: "behavioral",
      label: "Funding, hiring or new sales leader in 90 days",
      field: "signals",
      operator: "within-days",
      values: ["funding", "hiring", "new_sales_leader"],
      days: 90,
      points: 20,
      mandatory: false,
    },
    {
      id: "growth",
      kind: "firmographic",
      label: "Growth or scale stage",
      field: "growthStage",
      operator: "in",
      values: ["growth", "scale"],
      points: 10,
      mandatory: false,
    },
  ],
  qualification: { minMandatory: 3, minPreferential: 1 },
  tiers: { priority: 70, nurture: 40 },
  disqualifiers: [
    { id: "too-small", field: "employees", operator: "range", max: 9, reason: "fewer than 10 employees" },
    {
      id: "sanctioned",
      field: "country",
      operator: "in",
      values: ["Russia", "North Korea", "Iran"],
      reason: "excluded country",
    },
    {
      id: "competitor",
      field: "domain",
      operator: "in",
      values: ["outreach.io", "lemlist.com", "apollo.io"],
      reason: "competitor",
    },
  ],
  segments: [
    { name: "fintech", when: [{ field: "industry", operator: "eq", value: "Fintech" }] },
    { name: "saas", when: [{ field: "industry", operator: "in", values: ["SaaS", "Software", "Martech"] }] },
  ],
  personas: [
    {
      name: "sales-leader",
      titles: ["VP Sales", "Head of Sales", "CRO", "Chief Revenue"],
      seniorities: ["vp", "c_level"],
    },
    { name: "founder", titles: ["CEO", "Founder", "Co-founder"], seniorities: ["c_level"] },
    { name: "revops", titles: ["RevOps", "Revenue Operations", "Sales Ops"] },
  ],
};

/** Small deterministic PRNG (mulberry32) so demo data is the same on every machine. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const WORDS = [
  "nova",
  "blue",
  "peak",
  "flow",
  "data",
  "cloud",
  "bright",
  "swift",
  "north",
  "hive",
  "lumen",
  "orbit",
  "pixel",
  "quant",
  "relay",
  "spark",
  "terra",
  "vertex",
  "zen",
  "arc",
];
const SUFFIX = ["ly", "io", "hq", "labs", "works", "base", "stack", "desk", "loop", "mind"];
const INDUSTRIES = [
  "SaaS",
  "SaaS",
  "Software",
  "Fintech",
  "Martech",
  "Manufacturing",
  "Retail",
  "Healthcare",
  "Logistics",
  "Education",
];
const COUNTRIES = [
  "France",
  "Germany",
  "United Kingdom",
  "United States",
  "United States",
  "Canada",
  "Netherlands",
  "Spain",
  "Brazil",
  "India",
];
const TECH = [
  "HubSpot",
  "Salesforce",
  "Pipedrive",
  "Slack",
  "Intercom",
  "Segment",
  "Zendesk",
  "Stripe",
  "Snowflake",
  "Notion",
];
const STAGES = ["seed", "early", "growth", "scale", "mature"];
const FIRST = ["Alice", "Bruno", "Chloe", "David", "Emma", "Farid", "Grace", "Hugo", "Ines", "Jonas", "Karin", "Liam"];
const LAST = ["Martin", "Schmidt", "Smith", "Dubois", "Garcia", "Muller", "Brown", "Rossi", "Jensen", "Kowalski"];
const TITLES = [
  "VP Sales",
  "Head of Sales",
  "CEO",
  "Founder",
  "RevOps Manager",
  "Marketing Director",
  "CTO",
  "Account Executive",
];
const SIGNALS = ["funding", "hiring", "new_sales_leader", "site_visit", "content_download"];

/** A CSV of `count` plausible accounts (one contact each), in the column names an Apollo export uses. */
export function demoAccountsCsv(count: number, seed = 42, today = new Date("2026-11-20T00:00:00Z")): string {
  const rnd = prng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)] as T;
  const lines = [
    "Company,Website,Industry,# Employees,Annual Revenue,Country,Stage,Technologies,Signals,First Name,Last Name,Title,Email",
  ];
  for (let i = 0; i < count; i++) {
    const name = `${pick(WORDS)}${pick(SUFFIX)}`;
    const domain = `${name}${i}.example.com`;
    const employees = Math.round(5 * 10 ** (rnd() * 3.3));
    const revenue = Math.round(employees * (80_000 + rnd() * 120_000));
    const tech = [...new Set([pick(TECH), pick(TECH), pick(TECH)])].join(";");
    const signals: string[] = [];
    if (rnd() < 0.45) {
      const daysAgo = Math.floor(rnd() * 150);
      const at = new Date(today.getTime() - daysAgo * 86_400_000).toISOString().slice(0, 10);
      const type = pick(SIGNALS);
      signals.push(type === "funding" ? `funding:${at}:${Math.round(2 + rnd() * 40)}000000` : `${type}:${at}`);
    }
    const first = pick(FIRST);
    const last = pick(LAST);
    lines.push(
      [
        name.charAt(0).toUpperCase() + name.slice(1),
        `https://www.${domain}/`,
        pick(INDUSTRIES),
        employees,
        revenue,
        pick(COUNTRIES),
        pick(STAGES),
        tech,
        signals.join(";"),
        first,
        last,
        `"${pick(TITLES)}"`,
        `${first.toLowerCase()}.${last.toLowerCase()}@${domain}`,
      ].join(","),
    );
  }
  return `${lines.join("\n")}\n`;
}
