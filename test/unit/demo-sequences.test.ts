import {
  DEMO_ENGAGEMENT_SEQUENCES,
  DEMO_SEQUENCES,
  demoRoutingRules,
  RoutingRules,
  Track,
  validateSequence,
} from "@icp/core";
import { describe, expect, it } from "vitest";

describe("demo sequences", () => {
  it.each(Track.options)("%s passes the same validation as POST /v1/sequences", (track) => {
    expect(validateSequence(DEMO_SEQUENCES[track])).toEqual([]);
  });

  it("have the steps and A/B variants the demo engagement reports on", () => {
    for (const track of Track.options) {
      const shape = DEMO_ENGAGEMENT_SEQUENCES.find((s) => s.track === track);
      const steps = DEMO_SEQUENCES[track].steps;
      expect(steps.map((st) => [st.id, st.channel])).toEqual(shape?.steps.map((st) => [st.id, st.channel]));
      steps.forEach((st, i) => {
        expect(st.abVariants.map((v) => v.id)).toEqual(shape?.steps[i]?.variants ?? []);
      });
    }
  });

  it("route each tier to its track's sequence", () => {
    const rules = RoutingRules.parse(demoRoutingRules({ priority: "seq_p", nurture: "seq_n", generic: "seq_g" }));
    expect(rules.rules.map((r) => [r.tier, r.sequenceId])).toEqual([
      ["priority", "seq_p"],
      ["nurture", "seq_n"],
      ["generic", "seq_g"],
    ]);
  });
});
