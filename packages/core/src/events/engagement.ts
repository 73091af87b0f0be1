import { checkSignature, type SignatureCheck, signatureHeader } from "../shared/index.js";
import type { EngagementEventsMessage, EventType, FirstSeen } from "./events.js";

/**
 * Per-account engagement, computed event by event (pure; packages/store persists the state).
 *
 * Counters are pre-aggregated per workspace × scope × dimension × day × value. Scopes make
 * the report filters cheap: `all`, `icp:<id>`, `seg:<segment>` and `icpseg:<id>|<segment>`.
 * Dimensions: total, segment, tier, qualified, icp (id#version), sequence (id#version),
 * step (sequence#stepId), channel, variant (step#variant). Metrics per counter:
 * `n_<type>` events, `a_<type>` unique accounts, `c_<type>` unique contacts (first time
 * within that dimension value, on the day of the true first event: a late, earlier event
 * moves the unique count to its day), `amt` revenue of `won`, `cy_<days>` sales-cycle
 * histogram (first touch → first won, on the tier dimension).
 */
export type StoredEvent = EngagementEventsMessage["events"][number];
export type EventDims = {
  segment: string;
  tier: string;
  qualified: boolean;
  icpId: string | null;
  icpVersion: number | null;
};

/** Unique-counted types; `touched` = any event (an account reached). */
export const UNIQUE_TYPES = [
  "touched",
  "sent",
  "opened",
  "clicked",
  "replied",
  "meeting_booked",
  "opportunity_created",
  "won",
] as const;
export type UniqueType = (typeof UNIQUE_TYPES)[number];
const isUnique = (t: string): t is UniqueType => (UNIQUE_TYPES as readonly string[]).includes(t);

export const DIMENSIONS = [
  "total",
  "segment",
  "tier",
  "qualified",
  "icp",
  "sequence",
  "step",
  "channel",
  "variant",
] as const;
export type Dimension = (typeof DIMENSIONS)[number];

/** Engagement score: points per event, halved every 14 days. */
export const SCORE_HALF_LIFE_DAYS = 14;
export const EVENT_WEIGHTS: Record<EventType, number> = {
  sent: 0,
  delivered: 0,
  opened: 1,
  clicked: 3,
  replied: 10,
  bounced: -2,
  unsubscribed: -10,
  connection_accepted: 3,
  meeting_booked: 20,
  opportunity_created: 15,
  won: 30,
  lost: -5,
};
const DAY_MS = 86_400_000;
const decay = (ms: number) => 0.5 ** (ms / (SCORE_HALF_LIFE_DAYS * DAY_MS));

/** A score stored at reference time `at`, seen at `now` (never below 0). */
export function decayedScore(score: number, at: string | null, now: number): number {
  if (at === null) return 0;
  return Math.max(0, Math.round(score * decay(Math.max(0, now - Date.parse(at))) * 100) / 100);
}

/** Add one event to a decayed score; the order of events does not matter. */
export function addToScore(
  s: { score: number; scoreAt: string | null },
  type: EventType,
  at: string,
): { score: number; scoreAt: string } {
  const w = EVENT_WEIGHTS[type];
  if (s.scoreAt === null) return { score: w, scoreAt: at };
  const ref = at > s.scoreAt ? at : s.scoreAt;
  const score = s.score * decay(Date.parse(ref) - Date.parse(s.scoreAt)) + w * decay(Date.parse(ref) - Date.parse(at));
  return { score, scoreAt: ref };
}

/**
 * The scopes an event counts in: everything, its segment, its ICP, and its ICP × segment (so
 * that a report filtered by both reads one partition too; +1 counter per dimension, not a scan).
 */
export function scopesOf(d: Pick<EventDims, "icpId" | "segment">): string[] {
  const out = ["all", `seg:${d.segment}`];
  if (d.icpId) out.push(`icp:${d.icpId}`, `icpseg:${d.icpId}|${d.segment}`);
  return out;
}

/** Scope that a report filter reads: all, one segment, one ICP, or one ICP and one segment. */
export function scopeFor(f: { icpId?: string; segment?: string }): string {
  if (f.icpId && f.segment !== undefined) return `icpseg:${f.icpId}|${f.segment}`;
  if (f.icpId) return `icp:${f.icpId}`;
  if (f.segment !== undefined) return `seg:${f.segment}`;
  return "all";
}

export function dimsOf(d: EventDims, e: StoredEvent): [Dimension, string][] {
  const out: [Dimension, string][] = [
    ["total", "all"],
    ["segment", d.segment],
    ["tier", d.tier],
    ["qualified", d.qualified ? "yes" : "no"],
    ["icp", d.icpId ? `${d.icpId}#${d.icpVersion ?? 0}` : "none"],
  ];
  if (e.sequenceId) {
    const seq = `${e.sequenceId}#${e.sequenceVersion ?? 0}`;
    out.push(["sequence", seq]);
    if (e.stepId) {
      out.push(["step", `${seq}#${e.stepId}`]);
      if (e.variant) out.push(["variant", `${seq}#${e.stepId}#${e.variant}`]);
    }
  }
  if (e.channel) out.push(["channel", e.channel]);
  return out;
}

/** A unique marker: when, and the scope context (icp, segment) it was counted in. */
export type UniqueMark = [at: string, icpId: string, segment: string];

export type EngagementState = {
  first: FirstSeen;
  byContact: Record<string, FirstSeen>;
  byEnrollment: Record<string, FirstSeen>;
  /** `${dim}|${value}` (account) or `${contact}@${dim}|${value}` → type → marker. */
  u: Record<string, Partial<Record<UniqueType, UniqueMark>>>;
  score: number;
  scoreAt: string | null;
  events: number;
  lastAt: string | null;
};

export const emptyEngagement = (): EngagementState => ({
  first: {},
  byContact: {},
  byEnrollment: {},
  u: {},
  score: 0,
  scoreAt: null,
  events: 0,
  lastAt: null,
});

/** Counter increments: `${scope}\t${dim}\t${day}\t${value}` → metric → amount. */
export type Deltas = Record<string, Record<string, number>>;
export const deltaKey = (scope: string, dim: string, day: string, value: string) =>
  `${scope}\t${dim}\t${day}\t${value}`;
export const parseDeltaKey = (k: string) => {
  const [scope, dim, day, value] = k.split("\t") as [string, string, string, string];
  return { scope, dim, day, value };
};

export function addDelta(d: Deltas, key: string, metric: string, n: number) {
  const m = d[key] ?? {};
  d[key] = m;
  m[metric] = (m[metric] ?? 0) + n;
  if (m[metric] === 0) delete m[metric];
  if (!Object.keys(m).length) delete d[key];
}

export function mergeDeltas(into: Deltas, from: Deltas) {
  for (const [k, ms] of Object.entries(from)) for (const [m, n] of Object.entries(ms)) addDelta(into, k, m, n);
}

const dayOf = (at: string) => at.slice(0, 10);
const setFirst = (f: FirstSeen, t: EventType, at: string) => {
  const cur = f[t];
  if (cur === undefined || at < cur) f[t] = at;
};

/**
 * Apply one new event to an account's state: markers, unique counts, score, and the counter
 * increments it causes (added to `deltas`). Events may come in any order: a unique first
 * always ends up on the day of the earliest event.
 */
export function applyEvent(s: EngagementState, d: EventDims, e: StoredEvent, deltas: Deltas): void {
  const at = new Date(e.at).toISOString();
  const day = dayOf(at);
  const ctx: UniqueMark = [at, d.icpId ?? "", d.segment];
  const scopes = scopesOf(d);
  const contact = e.contactId ?? e.contactEmail;
  const priorTouch = minAt(s.first);

  setFirst(s.first, e.type, at);
  if (contact) {
    const f = s.byContact[contact] ?? {};
    setFirst(f, e.type, at);
    s.byContact[contact] = f;
  }
  if (e.enrollmentId) {
    const f = s.byEnrollment[e.enrollmentId] ?? {};
    setFirst(f, e.type, at);
    s.byEnrollment[e.enrollmentId] = f;
  }
  Object.assign(s, addToScore(s, e.type, at));
  s.events += 1;
  if (s.lastAt === null || at > s.lastAt) s.lastAt = at;

  const uniques: UniqueType[] = isUnique(e.type) ? ["touched", e.type] : ["touched"];
  for (const [dim, value] of dimsOf(d, e)) {
    for (const scope of scopes) {
      const k = deltaKey(scope, dim, day, value);
      addDelta(deltas, k, `n_${e.type}`, 1);
      if (e.type === "won" && e.amount) addDelta(deltas, k, "amt", e.amount);
    }
    for (const t of uniques) {
      const newly = mark(s, `${dim}|${value}`, t, ctx, dim, value, `a_${t}`, deltas);
      if (contact) mark(s, `${contact}@${dim}|${value}`, t, ctx, dim, value, `c_${t}`, deltas);
      // Sales cycle: first touch → first won of the account, on the tier dimension.
      if (newly && t === "won" && dim === "tier") {
        const touch = priorTouch && priorTouch < at ? priorTouch : at;
        const days = Math.floor((Date.parse(at) - Date.parse(touch)) / DAY_MS);
        for (const scope of scopes) addDelta(deltas, deltaKey(scope, dim, day, value), `cy_${days}`, 1);
      }
    }
  }
}

function minAt(f: FirstSeen): string | undefined {
  let m: string | undefined;
  for (const v of Object.values(f)) if (v !== undefined && (m === undefined || v < m)) m = v;
  return m;
}

/** Set a unique marker if it is the first (or earlier than the one held); true when newly set. */
function mark(
  s: EngagementState,
  key: string,
  t: UniqueType,
  ctx: UniqueMark,
  dim: string,
  value: string,
  metric: string,
  deltas: Deltas,
): boolean {
  const held = s.u[key]?.[t];
  if (held && held[0] <= ctx[0]) return false;
  if (held) {
    for (const scope of scopesOf({ icpId: held[1] || null, segment: held[2] }))
      addDelta(deltas, deltaKey(scope, dim, dayOf(held[0]), value), metric, -1);
  }
  for (const scope of scopesOf({ icpId: ctx[1] || null, segment: ctx[2] }))
    addDelta(deltas, deltaKey(scope, dim, dayOf(ctx[0]), value), metric, 1);
  const marks = s.u[key] ?? {};
  marks[t] = ctx;
  s.u[key] = marks;
  return held === undefined;
}

/**
 * Inbound provider webhooks: `X-ICP-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "t.rawBody">`
 * with the workspace's inbound secret, accepted within a 5-minute window either side of now.
 */
export const WEBHOOK_TOLERANCE_SECONDS = 300;
export type { SignatureCheck };

export function signInboundWebhook(secret: string, rawBody: string, t: number): string {
  return signatureHeader(secret, rawBody, t);
}

export function verifyInboundWebhook(
  secret: string,
  header: string | undefined,
  rawBody: string,
  nowSeconds: number,
): SignatureCheck {
  return checkSignature(secret, header, rawBody, nowSeconds, WEBHOOK_TOLERANCE_SECONDS);
}
