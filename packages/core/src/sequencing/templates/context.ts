import { type AccountFacts, type Contact, SignalType } from "../../accounts/index.js";

/** What a template can read: the render context of one account / contact / sender, and its shape. */

export type TemplateAccount = {
  domain: string;
  facts: AccountFacts;
  segment?: string;
  tier?: string;
  score?: number;
};
export type TemplateContact = Contact & { persona?: string };
export type TemplateSender = { name?: string; email?: string; signature?: string };
export type TemplateSignal = { type: SignalType; at: string; amount?: number; detail?: string };

export type TemplateContext = {
  company: string;
  domain: string;
  industry?: string;
  employees?: number;
  revenue?: number;
  country?: string;
  growthStage?: string;
  segment?: string;
  tier?: string;
  score?: number;
  technologies: string[];
  firstName?: string;
  lastName?: string;
  fullName?: string;
  title?: string;
  email?: string;
  persona?: string;
  sender: TemplateSender;
  /** The most recent signal of each type, e.g. `signals.funding.amount`. */
  signals: Partial<Record<SignalType, TemplateSignal>>;
};

const defined = <T extends Record<string, unknown>>(o: T): T =>
  Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined && v !== "")) as T;

const time = (at: string) => {
  const t = Date.parse(at);
  return Number.isNaN(t) ? Number.NEGATIVE_INFINITY : t;
};

/** The most recent signal of each known type. */
function latestSignals(facts: AccountFacts): Partial<Record<SignalType, TemplateSignal>> {
  const signals: Partial<Record<SignalType, TemplateSignal>> = {};
  for (const s of facts.signals ?? []) {
    if (!SignalType.safeParse(s.type).success) continue;
    const prev = signals[s.type];
    if (!prev || time(s.at) > time(prev.at))
      signals[s.type] = defined({ type: s.type, at: s.at, amount: s.amount, detail: s.detail });
  }
  return signals;
}

/**
 * What a template can read for one account / contact / sender. Pure: `AccountRecord` and
 * `StoredContact` of @icp/store fit the parameter types as they are.
 */
export function templateContext(
  account: TemplateAccount,
  contact?: TemplateContact,
  sender?: TemplateSender,
): TemplateContext {
  const f = account.facts;
  const fullName = [contact?.firstName, contact?.lastName].filter((x) => x?.trim()).join(" ");
  return defined({
    company: f.name?.trim() || account.domain,
    domain: account.domain,
    industry: f.industry,
    employees: f.employees,
    revenue: f.revenue,
    country: f.country,
    growthStage: f.growthStage,
    segment: account.segment,
    tier: account.tier,
    score: account.score,
    technologies: [...(f.technologies ?? [])],
    firstName: contact?.firstName,
    lastName: contact?.lastName,
    fullName: fullName || undefined,
    title: contact?.title,
    email: contact?.email,
    persona: contact?.persona,
    sender: defined({ name: sender?.name, email: sender?.email, signature: sender?.signature }),
    signals: latestSignals(f),
  });
}

/** Shape of the context, for save-time validation of the paths a template reads. */
export type Shape = { kind: "leaf" } | { kind: "list"; of: Shape } | { kind: "object"; fields: Record<string, Shape> };
export const LEAF: Shape = { kind: "leaf" };
const obj = (names: string[], of: Shape = LEAF): Shape & { kind: "object" } => ({
  kind: "object",
  fields: Object.fromEntries(names.map((n) => [n, of])),
});
const SIGNAL_SHAPE = obj(["type", "at", "amount", "detail"]);
export const CONTEXT_SHAPE: Shape & { kind: "object" } = {
  kind: "object",
  fields: {
    ...obj([
      "company",
      "domain",
      "industry",
      "employees",
      "revenue",
      "country",
      "growthStage",
      "segment",
      "tier",
      "score",
      "firstName",
      "lastName",
      "fullName",
      "title",
      "email",
      "persona",
    ]).fields,
    technologies: { kind: "list", of: LEAF },
    sender: obj(["name", "email", "signature"]),
    signals: obj([...SignalType.options], SIGNAL_SHAPE),
  },
};

/** Top-level variable names a template can use (for docs and error hints). */
export const TEMPLATE_VARIABLES = Object.keys(CONTEXT_SHAPE.fields);

export const shapeName = (s: Shape) => (s.kind === "leaf" ? "a value" : s.kind === "list" ? "a list" : "an object");

/** What `#each` iterates over: a list's items, or an object's values when they all have one shape. */
export function elementShape(s: Shape): Shape | undefined {
  if (s.kind === "list") return s.of;
  if (s.kind === "object") {
    const values = Object.values(s.fields);
    const first = values[0];
    if (first && values.every((v) => v === first || (v.kind === "leaf" && first.kind === "leaf"))) return first;
  }
  return undefined;
}
