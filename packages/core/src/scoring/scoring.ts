import type { AccountFacts, Contact, Tier } from "../accounts/index.js";
import { type CompiledCondition, compileCondition } from "./conditions.js";
import type { Criterion, Icp, Persona, TierThresholds } from "./icp.js";

export type BreakdownLine = {
  criterion: string;
  label?: string;
  kind: Criterion["kind"];
  mandatory: boolean;
  matched: boolean;
  /** The account's value the criterion looked at (the matching signal, technologies…). */
  value?: unknown;
  points: number;
};

export type Score = {
  icpId: string;
  icpVersion: number;
  score: number;
  tier: Tier;
  qualified: boolean;
  mandatoryMatched: number;
  preferentialMatched: number;
  breakdown: BreakdownLine[];
  disqualifiedBy?: { id: string; reason: string; value?: unknown };
  segment: string;
};

export const DEFAULT_SEGMENT = "default";

export function tierForScore(score: number, t: TierThresholds): Exclude<Tier, "disqualified"> {
  if (score >= t.priority) return "priority";
  if (score >= t.nurture) return "nurture";
  return "generic";
}

/** Higher is better; used to pick an account's best ICP and order listings. */
export const TIER_RANK: Record<Tier, number> = { priority: 3, nurture: 2, generic: 1, disqualified: 0 };

/**
 * An ICP turned into closures once, so that scoring many accounts does no
 * per-account parsing or lower-casing of the definition.
 */
export type CompiledIcp = {
  icp: Icp;
  score(facts: AccountFacts, domain: string, now: number): Score;
};

export function compileIcp(icp: Icp): CompiledIcp {
  const criteria = icp.criteria.map((c) => ({ c, test: compileCondition(c) }));
  const disqualifiers = icp.disqualifiers.map((d) => ({ d, test: compileCondition(d) }));
  const segments = icp.segments.map((s) => ({
    name: s.name,
    tests: s.when.map(compileCondition) as CompiledCondition[],
  }));
  const mandatoryCount = icp.criteria.filter((c) => c.mandatory).length;
  const needMandatory = Math.min(icp.qualification.minMandatory, mandatoryCount);
  const needPreferential = Math.min(icp.qualification.minPreferential, icp.criteria.length - mandatoryCount);

  return {
    icp,
    score(facts, domain, now) {
      let total = 0;
      let mandatoryMatched = 0;
      let preferentialMatched = 0;
      const breakdown: BreakdownLine[] = [];
      for (const { c, test } of criteria) {
        const r = test(facts, domain, now);
        const points = r.matched ? decayedPoints(c, r.value, now) : 0;
        total += points;
        if (r.matched) c.mandatory ? mandatoryMatched++ : preferentialMatched++;
        const line: BreakdownLine = {
          criterion: c.id,
          kind: c.kind,
          mandatory: c.mandatory,
          matched: r.matched,
          points,
        };
        if (c.label) line.label = c.label;
        if (r.value !== undefined) line.value = r.value;
        breakdown.push(line);
      }
      const score = Math.min(100, total);
      let segment = DEFAULT_SEGMENT;
      for (const s of segments) {
        if (s.tests.every((t) => t(facts, domain, now).matched)) {
          segment = s.name;
          break;
        }
      }
      const result: Score = {
        icpId: icp.id,
        icpVersion: icp.version,
        score,
        tier: tierForScore(score, icp.tiers),
        qualified: mandatoryMatched >= needMandatory && preferentialMatched >= needPreferential,
        mandatoryMatched,
        preferentialMatched,
        breakdown,
        segment,
      };
      for (const { d, test } of disqualifiers) {
        const r = test(facts, domain, now);
        if (r.matched) {
          result.tier = "disqualified";
          result.qualified = false;
          result.disqualifiedBy = { id: d.id, reason: d.reason, value: r.value };
          break;
        }
      }
      return result;
    },
  };
}

const DAY_MS = 86_400_000;

/** Full points, or for a decaying signal criterion the points left after its half-lives, rounded. */
function decayedPoints(c: Criterion, matchedValue: unknown, now: number): number {
  if (c.operator !== "within-days" || !c.halfLifeDays) return c.points;
  const at = Date.parse((matchedValue as { at: string }).at);
  const ageDays = Math.max(0, (now - at) / DAY_MS);
  return Math.round(c.points * 0.5 ** (ageDays / c.halfLifeDays));
}

/**
 * When this account's score could next change on its own, as its signals age: the end of a
 * within-days window, or (for decaying criteria) a day later. Undefined when nothing ages.
 * The signal sweep re-scores accounts at this time.
 */
export function nextAgingAt(icps: readonly CompiledIcp[], facts: AccountFacts, now: number): number | undefined {
  let next: number | undefined;
  const consider = (t: number) => {
    if (t > now && (next === undefined || t < next)) next = t;
  };
  // Criteria, disqualifiers and segment conditions can all look at signal windows.
  for (const { icp } of icps)
    for (const c of [...icp.criteria, ...icp.disqualifiers, ...icp.segments.flatMap((seg) => seg.when)]) {
      if (c.operator !== "within-days") continue;
      const types = c.values?.length ? new Set<string>(c.values) : undefined;
      for (const s of facts.signals ?? []) {
        if (types && !types.has(s.type)) continue;
        const at = Date.parse(s.at);
        consider(at + c.days * DAY_MS + 1); // leaves the window
        if (at > now) consider(at); // a future-dated signal enters it
        if (c.halfLifeDays && at <= now && now - at <= c.days * DAY_MS) consider(now + DAY_MS);
      }
    }
  return next;
}

/** a is better than b: better tier first, then higher score, then the ICP created first (stable). */
function better(a: Score, b: Score): boolean {
  if (TIER_RANK[a.tier] !== TIER_RANK[b.tier]) return TIER_RANK[a.tier] > TIER_RANK[b.tier];
  if (a.score !== b.score) return a.score > b.score;
  return a.icpId < b.icpId;
}

/** Score against every active ICP and keep the best. Undefined when the workspace has no active ICP. */
export function scoreBest(
  icps: readonly CompiledIcp[],
  facts: AccountFacts,
  domain: string,
  now: number,
): Score | undefined {
  return scoreAll(icps, facts, domain, now).best;
}

/** Every ICP's score (for per-ICP coverage) and the best one (what the account takes). */
export function scoreAll(
  icps: readonly CompiledIcp[],
  facts: AccountFacts,
  domain: string,
  now: number,
): { best: Score | undefined; all: Score[] } {
  let best: Score | undefined;
  const all: Score[] = [];
  for (const icp of icps) {
    const s = icp.score(facts, domain, now);
    all.push(s);
    if (!best || better(s, best)) best = s;
  }
  return { best, all };
}

const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/**
 * Compiled keyword patterns, by keyword: a persona is matched for every contact of every import,
 * and compiling a Unicode pattern costs far more than running it. Bounded: keywords come from
 * the ICPs, but a process may serve many workspaces.
 */
const wordPatterns = new Map<string, RegExp>();
const WORD_PATTERNS_MAX = 2_000;

/** A keyword as a whole word or phrase: "CRO" matches "CRO, EMEA" but not "Microsoft". */
const wordMatch = (title: string, keyword: string) => {
  let re = wordPatterns.get(keyword);
  if (!re) {
    if (wordPatterns.size >= WORD_PATTERNS_MAX) wordPatterns.clear();
    re = new RegExp(`(^|[^\\p{L}\\p{N}])${escapeRe(keyword.toLowerCase())}($|[^\\p{L}\\p{N}])`, "u");
    wordPatterns.set(keyword, re);
  }
  return re.test(title);
};

/** First persona whose title keywords appear (as whole words) in the contact's title. */
export function matchPersona(personas: readonly Persona[], contact: Contact): string | undefined {
  const title = contact.title?.toLowerCase();
  if (!title) return undefined;
  return personas.find((p) => p.titles.some((t) => wordMatch(title, t)))?.name;
}
