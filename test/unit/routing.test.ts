import {
  type RoutedEnrollment,
  type RoutingAction,
  RoutingRules,
  type RoutingRulesInput,
  routeTierChange,
  sequenceFor,
  type Tier,
  Track,
} from "@icp/core";
import { describe, expect, it } from "vitest";

const NOW = new Date("2026-06-01T12:00:00Z");
const rules = (input: RoutingRulesInput = {}) => RoutingRules.parse(input);
const FULL = rules({
  rules: [
    { tier: "priority", sequenceId: "seq_priority" },
    { tier: "nurture", sequenceId: "seq_nurture" },
    { tier: "generic", sequenceId: "seq_generic" },
  ],
});

const enr = (track: Track, over: Partial<RoutedEnrollment> = {}): RoutedEnrollment => ({
  id: `enr_${track}`,
  track,
  sequenceId: `seq_${track}`,
  status: "active",
  updatedAt: "2026-05-01T00:00:00Z",
  ...over,
});
const evt = (from: Tier | null, to: Tier, over: { segment?: string; icpId?: string | null } = {}) => ({
  from,
  to,
  segment: over.segment ?? "default",
  icpId: over.icpId ?? "icp_1",
});

const FROMS: (Tier | null)[] = [null, "priority", "nurture", "generic", "disqualified"];
const TOS: Tier[] = ["priority", "nurture", "generic", "disqualified"];

/** What an account in tier `from` is enrolled in, following the rules so far. */
const openFor = (from: Tier | null) => (from && from !== "disqualified" ? [enr(from)] : []);

const summarize = (actions: RoutingAction[]) =>
  actions.map((a) => (a.kind === "stop" ? `stop ${a.track}` : a.kind === "enroll" ? `enroll ${a.sequenceId}` : "skip"));

describe("routeTierChange: the full transition matrix", () => {
  const expected: Record<string, string[]> = {
    "null->priority": ["enroll seq_priority"],
    "null->nurture": ["enroll seq_nurture"],
    "null->generic": ["enroll seq_generic"],
    "null->disqualified": [],
    "priority->priority": ["skip"],
    "priority->nurture": ["stop priority", "enroll seq_nurture"],
    "priority->generic": ["stop priority", "enroll seq_generic"],
    "priority->disqualified": ["stop priority"],
    "nurture->priority": ["stop nurture", "enroll seq_priority"],
    "nurture->nurture": ["skip"],
    "nurture->generic": ["stop nurture", "enroll seq_generic"],
    "nurture->disqualified": ["stop nurture"],
    "generic->priority": ["stop generic", "enroll seq_priority"],
    "generic->nurture": ["stop generic", "enroll seq_nurture"],
    "generic->generic": ["skip"],
    "generic->disqualified": ["stop generic"],
    "disqualified->priority": ["enroll seq_priority"],
    "disqualified->nurture": ["enroll seq_nurture"],
    "disqualified->generic": ["enroll seq_generic"],
    "disqualified->disqualified": [],
  };
  for (const from of FROMS)
    for (const to of TOS) {
      const key = `${from}->${to}`;
      it(key, () => {
        const actions = routeTierChange(evt(from, to), FULL, openFor(from), [], NOW);
        expect(summarize(actions)).toEqual(expected[key]);
        for (const a of actions)
          if (a.kind === "stop") expect(a.reason).toBe(`tier changed from ${from ?? "none"} to ${to}`);
      });
    }

  it("every transition leaves at most one open enrollment per track, and none outside the new tier's track", () => {
    const tracks = Track.options;
    for (const from of FROMS)
      for (const to of TOS) {
        // Whatever the account is enrolled in (any subset of tracks, active or paused)…
        for (let mask = 0; mask < 8; mask++) {
          const open = tracks
            .filter((_, i) => mask & (1 << i))
            .map((t, i) => enr(t, { status: i ? "paused" : "active" }));
          const actions = routeTierChange(evt(from, to), FULL, open, [], NOW);
          const stopped = new Set(actions.flatMap((a) => (a.kind === "stop" ? [a.enrollmentId] : [])));
          const after = [
            ...open.filter((e) => !stopped.has(e.id)).map((e) => e.track),
            ...actions.flatMap((a) => (a.kind === "enroll" ? [a.track] : [])),
          ];
          expect(new Set(after).size).toBe(after.length);
          expect(after.every((t) => t === to)).toBe(true);
          if (to !== "disqualified") expect(after).toEqual([to]);
        }
      }
  });
});

describe("routeTierChange: rules", () => {
  it("the most specific rule wins: segment+ICP > segment > ICP > tier only", () => {
    const r = rules({
      rules: [
        { tier: "priority", sequenceId: "any" },
        { tier: "priority", icpId: "icp_1", sequenceId: "icp" },
        { tier: "priority", segment: "fintech", sequenceId: "seg" },
        { tier: "priority", segment: "fintech", icpId: "icp_1", sequenceId: "seg+icp" },
      ],
    });
    expect(sequenceFor(r, "priority", "fintech", "icp_1")?.sequenceId).toBe("seg+icp");
    expect(sequenceFor(r, "priority", "fintech", "icp_2")?.sequenceId).toBe("seg");
    expect(sequenceFor(r, "priority", "saas", "icp_1")?.sequenceId).toBe("icp");
    expect(sequenceFor(r, "priority", "saas", null)?.sequenceId).toBe("any");
    expect(sequenceFor(r, "nurture", "saas", null)).toBeUndefined();
    expect(summarize(routeTierChange(evt(null, "priority", { segment: "fintech" }), r, [], [], NOW))).toEqual([
      "enroll seg+icp",
    ]);
  });

  it("a track without a configured sequence enrolls nothing but still stops the other tracks", () => {
    const r = rules({ rules: [{ tier: "priority", sequenceId: "p" }] });
    const actions = routeTierChange(evt("priority", "generic"), r, [enr("priority")], [], NOW);
    expect(summarize(actions)).toEqual(["stop priority", "skip"]);
    expect(actions[1]).toMatchObject({ kind: "skip", reason: "no generic sequence configured" });
  });

  it("an open (even paused) enrollment in the target track is kept: one per account per track", () => {
    const actions = routeTierChange(
      evt("nurture", "priority"),
      FULL,
      [enr("priority", { status: "paused", sequenceId: "older" })],
      [],
      NOW,
    );
    expect(summarize(actions)).toEqual(["skip"]);
  });

  it("ended enrollments are not stopped again", () => {
    const actions = routeTierChange(
      evt("priority", "disqualified"),
      FULL,
      [enr("priority", { status: "stopped" })],
      [],
      NOW,
    );
    expect(actions).toEqual([]);
  });

  it("re-entry never: a sequence the account was in before is not entered again", () => {
    const past = [enr("priority", { status: "stopped", updatedAt: "2020-01-01T00:00:00Z" })];
    const actions = routeTierChange(evt("nurture", "priority"), FULL, [enr("nurture")], past, NOW);
    expect(summarize(actions)).toEqual(["stop nurture", "skip"]);
    // Another sequence of the track is fine.
    expect(
      summarize(routeTierChange(evt(null, "priority"), FULL, [], [enr("priority", { sequenceId: "other" })], NOW)),
    ).toEqual(["enroll seq_priority"]);
  });

  it("re-entry after N days counts from when the previous enrollment ended", () => {
    const r = rules({ ...FULL, reEntry: { mode: "after_days", days: 30 } });
    const ended = (iso: string) => [enr("priority", { status: "completed", updatedAt: iso })];
    expect(summarize(routeTierChange(evt(null, "priority"), r, [], ended("2026-05-15T12:00:00Z"), NOW))).toEqual([
      "skip",
    ]);
    expect(summarize(routeTierChange(evt(null, "priority"), r, [], ended("2026-05-02T12:00:00Z"), NOW))).toEqual([
      "enroll seq_priority",
    ]);
    // The latest of several past enrollments counts.
    const several = [...ended("2026-01-01T00:00:00Z"), ...ended("2026-05-20T00:00:00Z")];
    expect(summarize(routeTierChange(evt(null, "priority"), r, [], several, NOW))).toEqual(["skip"]);
  });
});

describe("RoutingRules schema", () => {
  it("defaults: no rules, re-entry never, stop on reply and meeting", () => {
    expect(rules()).toEqual({ rules: [], reEntry: { mode: "never" }, stopOnReply: true, stopOnMeeting: true });
  });

  it("refuses two rules for the same tier × segment × ICP, disqualified as a tier, and bad re-entry", () => {
    const dup = RoutingRules.safeParse({
      rules: [
        { tier: "priority", segment: "a", sequenceId: "x" },
        { tier: "priority", segment: "a", sequenceId: "y" },
      ],
    });
    expect(dup.success).toBe(false);
    expect(dup.error?.issues[0]?.path).toEqual(["rules", 1]);
    expect(RoutingRules.safeParse({ rules: [{ tier: "disqualified", sequenceId: "x" }] }).success).toBe(false);
    expect(RoutingRules.safeParse({ reEntry: { mode: "after_days", days: 0 } }).success).toBe(false);
    expect(RoutingRules.safeParse({ reEntry: { mode: "sometimes" } }).success).toBe(false);
  });
});
