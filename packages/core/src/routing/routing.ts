import { z } from "zod";
import type { Tier } from "../accounts/index.js";
import type { TierChangedEvent } from "../messages.js";
import { type EnrollmentStatus, Track } from "../sequencing/index.js";

/** One routing rule: accounts of `tier` (optionally only of `segment` and/or scored by `icpId`) go into `sequenceId`. */
export const RoutingRule = z.object({
  tier: Track,
  segment: z.string().trim().min(1).max(100).optional(),
  icpId: z.string().trim().min(1).max(40).optional(),
  sequenceId: z.string().trim().min(1).max(100),
});
export type RoutingRule = z.infer<typeof RoutingRule>;

export const ReEntry = z.discriminatedUnion("mode", [
  z.object({ mode: z.literal("never") }),
  z.object({ mode: z.literal("after_days"), days: z.number().int().min(1).max(3650) }),
]);
export type ReEntry = z.infer<typeof ReEntry>;

/**
 * A workspace's routing rules: which sequence per tier × segment × ICP (the most specific rule
 * wins: segment+ICP > segment > ICP > tier only), whether an account may enter a sequence it
 * was in before, and which engagement stops all of an account's sequences.
 */
export const RoutingRules = z
  .object({
    rules: z.array(RoutingRule).max(500).default([]),
    /** Re-entering a sequence the account was in before: never, or once N days passed since it ended. */
    reEntry: ReEntry.default({ mode: "never" }),
    /** A reply from any contact of the account stops all of its enrollments. */
    stopOnReply: z.boolean().default(true),
    /** A booked meeting with any contact of the account stops all of its enrollments. */
    stopOnMeeting: z.boolean().default(true),
  })
  .superRefine((r, ctx) => {
    const seen = new Map<string, number>();
    r.rules.forEach((rule, i) => {
      const k = `${rule.tier}|${rule.segment ?? ""}|${rule.icpId ?? ""}`;
      const prev = seen.get(k);
      if (prev !== undefined)
        ctx.addIssue({
          code: "custom",
          path: ["rules", i],
          message: `same tier, segment and ICP as rules.${prev}: only one sequence can win`,
        });
      else seen.set(k, i);
    });
  });
export type RoutingRules = z.infer<typeof RoutingRules>;
export type RoutingRulesInput = z.input<typeof RoutingRules>;

export const DEFAULT_ROUTING_RULES: RoutingRules = {
  rules: [],
  reEntry: { mode: "never" },
  stopOnReply: true,
  stopOnMeeting: true,
};

/** The sequence for accounts of `track` in `segment` scored by `icpId`: the most specific matching rule's. */
export function sequenceFor(
  rules: RoutingRules,
  track: Track,
  segment: string | null | undefined,
  icpId: string | null | undefined,
): RoutingRule | undefined {
  let best: RoutingRule | undefined;
  let bestScore = -1;
  for (const r of rules.rules) {
    if (r.tier !== track) continue;
    if (r.segment !== undefined && r.segment !== segment) continue;
    if (r.icpId !== undefined && r.icpId !== icpId) continue;
    const score = (r.segment !== undefined ? 2 : 0) + (r.icpId !== undefined ? 1 : 0);
    if (score > bestScore) [best, bestScore] = [r, score];
  }
  return best;
}

/** What routing needs to know of an enrollment. */
export type RoutedEnrollment = {
  id: string;
  track: Track;
  sequenceId: string;
  status: EnrollmentStatus;
  /** Last change; for an ended enrollment, when it ended. */
  updatedAt: string;
};

export type RoutingAction =
  | { kind: "stop"; enrollmentId: string; track: Track; reason: string }
  | { kind: "enroll"; track: Track; sequenceId: string }
  | { kind: "skip"; track: Track | null; reason: string };

/** The track an account of a tier belongs in (none when disqualified). */
export const trackForTier = (tier: Tier): Track | null => (tier === "disqualified" ? null : tier);

const DAY_MS = 86_400_000;

/**
 * What a tier change does to an account's enrollments. The account belongs in its new tier's
 * track only: open (active or paused) enrollments of every other track stop; the new track's
 * sequence (most specific rule) is enrolled unless the track already has an open enrollment
 * (one per account per track), no rule exists, or the re-entry rule forbids entering that
 * sequence again. Disqualified stops everything. Pure: the caller executes the actions.
 */
export function routeTierChange(
  event: Pick<TierChangedEvent, "from" | "to" | "segment" | "icpId">,
  rules: RoutingRules,
  activeEnrollments: readonly RoutedEnrollment[],
  pastEnrollments: readonly RoutedEnrollment[],
  now: Date,
): RoutingAction[] {
  const actions: RoutingAction[] = [];
  const target = trackForTier(event.to);
  const reason = `tier changed from ${event.from ?? "none"} to ${event.to}`;
  const open = activeEnrollments.filter((e) => e.status === "active" || e.status === "paused");
  for (const e of open)
    if (e.track !== target) actions.push({ kind: "stop", enrollmentId: e.id, track: e.track, reason });
  if (target === null) return actions;

  if (open.some((e) => e.track === target)) {
    actions.push({ kind: "skip", track: target, reason: `already enrolled in the ${target} track` });
    return actions;
  }
  const rule = sequenceFor(rules, target, event.segment, event.icpId);
  if (!rule) {
    actions.push({ kind: "skip", track: target, reason: `no ${target} sequence configured` });
    return actions;
  }
  const before = pastEnrollments.filter((e) => e.sequenceId === rule.sequenceId);
  if (before.length) {
    if (rules.reEntry.mode === "never") {
      actions.push({ kind: "skip", track: target, reason: `re-entry into ${rule.sequenceId} is never allowed` });
      return actions;
    }
    const lastEnded = Math.max(...before.map((e) => Date.parse(e.updatedAt)));
    const allowedAt = lastEnded + rules.reEntry.days * DAY_MS;
    if (now.getTime() < allowedAt) {
      actions.push({
        kind: "skip",
        track: target,
        reason: `re-entry into ${rule.sequenceId} allowed from ${new Date(allowedAt).toISOString()}`,
      });
      return actions;
    }
  }
  actions.push({ kind: "enroll", track: target, sequenceId: rule.sequenceId });
  return actions;
}
