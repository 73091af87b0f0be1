import {
  type AccountFacts,
  compileIcp,
  type IcpDefinitionInput,
  type Score,
  scoreBest,
  TIER_RANK,
  tierForScore,
} from "@icp/core";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { compile, daysAgo, factsArb, icpDefArb, makeIcp, NOW, SIGNAL_TYPES, signalArb, TECH } from "./support.js";

type Criteria = IcpDefinitionInput["criteria"];

const scoreOf = (def: IcpDefinitionInput, facts: AccountFacts, now = NOW) =>
  compile(def).score(facts, facts.domain, now);

/** An ICP whose criteria all match `facts` below, worth exactly the given points. */
function exactIcp(points: number[], tiers?: { priority: number; nurture: number }): IcpDefinitionInput {
  const criteria = points.map((p, i) => ({
    id: `p${i}`,
    kind: "firmographic" as const,
    field: "industry" as const,
    operator: "in" as const,
    values: ["SaaS"],
    points: p,
  }));
  return { name: "exact", criteria, ...(tiers ? { tiers } : {}) };
}
const saas: AccountFacts = { domain: "acme.com", industry: "SaaS" };

/** Split `total` into 1..4 parts, each 0..100. */
const partsOf = (total: number) =>
  fc.integer({ min: 1, max: 4 }).chain((n) =>
    fc.array(fc.integer({ min: 0, max: 100 }), { minLength: n - 1, maxLength: n - 1 }).map((cuts) => {
      const sorted = [0, ...cuts.map((c) => Math.round((c / 100) * total)).sort((a, b) => a - b), total];
      return sorted.slice(1).map((v, i) => v - (sorted[i] as number));
    }),
  );

describe("score arithmetic", () => {
  it("is an integer in 0..100 equal to the matched points capped at 100", () => {
    fc.assert(
      fc.property(icpDefArb, factsArb, (def, facts) => {
        const s = scoreOf(def, facts);
        expect(Number.isInteger(s.score)).toBe(true);
        expect(s.score).toBeGreaterThanOrEqual(0);
        expect(s.score).toBeLessThanOrEqual(100);
        const matchedPoints = s.breakdown.filter((l) => l.matched).reduce((a, l) => a + l.points, 0);
        const allPoints = s.breakdown.reduce((a, l) => a + l.points, 0);
        expect(allPoints).toBe(matchedPoints);
        expect(s.score).toBe(Math.min(100, matchedPoints));
        // Each line carries its criterion's full points when matched and none otherwise.
        const criteria = def.criteria;
        expect(s.breakdown.map((l) => l.criterion)).toEqual(criteria.map((c) => c.id));
        s.breakdown.forEach((l, i) => {
          expect(l.points).toBe(l.matched ? criteria[i]?.points : 0);
        });
        expect(s.mandatoryMatched).toBe(s.breakdown.filter((l) => l.matched && l.mandatory).length);
        expect(s.preferentialMatched).toBe(s.breakdown.filter((l) => l.matched && !l.mandatory).length);
      }),
    );
  });

  it("reaches 100 exactly when matched points add up to 100 or more", () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 100 }), { minLength: 1, maxLength: 6 }), (points) => {
        const s = scoreOf(exactIcp(points), saas);
        const sum = points.reduce((a, b) => a + b, 0);
        expect(s.score).toBe(Math.min(100, sum));
        expect(s.score === 100).toBe(sum >= 100);
      }),
    );
  });

  it("tier is the threshold tier of the score unless disqualified", () => {
    fc.assert(
      fc.property(icpDefArb, factsArb, (def, facts) => {
        const icp = makeIcp(def);
        const s = compileIcp(icp).score(facts, facts.domain, NOW);
        expect(s.tier).toBe(tierForScore(s.score, icp.tiers));
        expect(s.disqualifiedBy).toBeUndefined();
      }),
    );
  });
});

describe("monotonicity: one more matching fact never lowers the score", () => {
  it("adding a technology", () => {
    fc.assert(
      fc.property(icpDefArb, factsArb, fc.constantFrom(...TECH, "Zapier"), (def, facts, tech) => {
        const c = compile(def);
        const before = c.score(facts, facts.domain, NOW);
        const after = c.score({ ...facts, technologies: [...(facts.technologies ?? []), tech] }, facts.domain, NOW);
        expect(after.score).toBeGreaterThanOrEqual(before.score);
        expect(after.mandatoryMatched + after.preferentialMatched).toBeGreaterThanOrEqual(
          before.mandatoryMatched + before.preferentialMatched,
        );
      }),
    );
  });

  it("adding a signal (recent or not)", () => {
    fc.assert(
      fc.property(icpDefArb, factsArb, signalArb, (def, facts, signal) => {
        const c = compile(def);
        const before = c.score(facts, facts.domain, NOW);
        const after = c.score({ ...facts, signals: [...(facts.signals ?? []), signal] }, facts.domain, NOW);
        expect(after.score).toBeGreaterThanOrEqual(before.score);
      }),
    );
  });

  it("adding a recent signal of the wanted type makes a within-days criterion match", () => {
    fc.assert(
      fc.property(
        icpDefArb,
        factsArb,
        fc.constantFrom(...SIGNAL_TYPES),
        fc.integer({ min: 1, max: 365 }),
        fc.integer({ min: 1, max: 100 }),
        fc.nat(),
        (def, facts, type, days, points, n) => {
          const criteria = [
            ...def.criteria,
            {
              id: "recent",
              kind: "behavioral",
              field: "signals",
              operator: "within-days",
              values: [type],
              days,
              points,
            },
          ] as Criteria;
          const c = compile({ ...def, criteria });
          const before = c.score(facts, facts.domain, NOW);
          const age = n % days;
          const after = c.score(
            { ...facts, signals: [...(facts.signals ?? []), { type, at: daysAgo(age) }] },
            facts.domain,
            NOW,
          );
          expect(after.score).toBeGreaterThanOrEqual(before.score);
          expect(after.breakdown.at(-1)?.matched).toBe(true);
        },
      ),
    );
  });

  it("moving employees into the range of the only employees criterion", () => {
    fc.assert(
      fc.property(
        icpDefArb,
        factsArb,
        fc.integer({ min: 0, max: 5000 }),
        fc.integer({ min: 0, max: 5000 }),
        fc.integer({ min: 1, max: 100 }),
        (def, facts, lo, width, points) => {
          const others = def.criteria.filter((c) => c.field !== "employees");
          const criteria = [
            ...others,
            {
              id: "size",
              kind: "firmographic",
              field: "employees",
              operator: "range",
              min: lo,
              max: lo + width,
              points,
            },
          ] as Criteria;
          const c = compile({ ...def, criteria });
          const outside = { ...facts, employees: lo + width + 1 };
          const inside = { ...facts, employees: lo + Math.floor(width / 2) };
          const unknown = { ...facts, employees: undefined };
          const sIn = c.score(inside, facts.domain, NOW);
          for (const f of [outside, unknown]) {
            const sOut = c.score(f, facts.domain, NOW);
            expect(sIn.score).toBeGreaterThanOrEqual(sOut.score);
            const uncapped = sOut.breakdown.reduce((a, l) => a + l.points, 0) + points;
            expect(sIn.score).toBe(Math.min(100, uncapped));
          }
        },
      ),
    );
  });
});

describe("disqualifiers", () => {
  it("a matching disqualifier always gives tier disqualified and qualified=false, score unchanged", () => {
    const disqualifierArb = fc.constantFrom(
      (f: AccountFacts) => ({ id: "dq", field: "domain", operator: "in", values: [f.domain], reason: "blocked" }),
      (f: AccountFacts) => ({ id: "dq", field: "domain", operator: "eq", value: f.domain, reason: "blocked" }),
      (f: AccountFacts) =>
        f.employees === undefined
          ? { id: "dq", field: "domain", operator: "exists", reason: "any domain" }
          : { id: "dq", field: "employees", operator: "range", max: f.employees, reason: "too small" },
    );
    fc.assert(
      fc.property(icpDefArb, factsArb, disqualifierArb, (def, facts, dq) => {
        const plain = compile(def).score(facts, facts.domain, NOW);
        const disq = compile({ ...def, disqualifiers: [dq(facts)] as IcpDefinitionInput["disqualifiers"] }).score(
          facts,
          facts.domain,
          NOW,
        );
        expect(disq.tier).toBe("disqualified");
        expect(disq.qualified).toBe(false);
        expect(disq.disqualifiedBy?.id).toBe("dq");
        expect(disq.disqualifiedBy?.reason).toBeTruthy();
        // The score and its explanation are still computed.
        expect(disq.score).toBe(plain.score);
        expect(disq.breakdown).toEqual(plain.breakdown);
        expect(disq.segment).toBe(plain.segment);
      }),
    );
  });

  it("a disqualifier that does not match changes nothing", () => {
    fc.assert(
      fc.property(icpDefArb, factsArb, (def, facts) => {
        const plain = compile(def).score(facts, facts.domain, NOW);
        const disqualifiers: IcpDefinitionInput["disqualifiers"] = [
          { id: "dq", field: "domain", operator: "in", values: ["never-matches.example"], reason: "x" },
        ];
        const other = compile({ ...def, disqualifiers }).score(facts, facts.domain, NOW);
        expect(other).toEqual(plain);
      }),
    );
  });
});

describe("tier thresholds", () => {
  it.each([
    [0, "generic"],
    [39, "generic"],
    [40, "nurture"],
    [69, "nurture"],
    [70, "priority"],
    [100, "priority"],
  ] as const)("default thresholds: score %i -> %s", (total, tier) => {
    fc.assert(
      fc.property(partsOf(total), (points) => {
        expect(points.reduce((a, b) => a + b, 0)).toBe(total);
        const s = scoreOf(exactIcp(points), saas);
        expect(s.score).toBe(total);
        expect(s.tier).toBe(tier);
      }),
      { numRuns: 20 },
    );
  });

  it("random thresholds are exact at both boundaries (tierForScore)", () => {
    fc.assert(
      fc.property(
        fc
          .integer({ min: 0, max: 99 })
          .chain((nurture) =>
            fc.record({ nurture: fc.constant(nurture), priority: fc.integer({ min: nurture + 1, max: 100 }) }),
          ),
        ({ nurture, priority }) => {
          const t = { nurture, priority };
          if (nurture > 0) expect(tierForScore(nurture - 1, t)).toBe("generic");
          expect(tierForScore(nurture, t)).toBe("nurture");
          expect(tierForScore(priority - 1, t)).toBe(priority - 1 >= nurture ? "nurture" : "generic");
          expect(tierForScore(priority, t)).toBe("priority");
          expect(tierForScore(100, t)).toBe("priority");
        },
      ),
    );
  });

  it("random thresholds are exact at the boundaries when scoring a built ICP", () => {
    fc.assert(
      fc.property(
        fc
          .integer({ min: 0, max: 99 })
          .chain((nurture) =>
            fc.record({ nurture: fc.constant(nurture), priority: fc.integer({ min: nurture + 1, max: 100 }) }),
          ),
        ({ nurture, priority }) => {
          const tiers = { nurture, priority };
          const cases: [number, string][] = [
            [nurture, "nurture"],
            [priority, "priority"],
            [priority - 1, "nurture"],
          ];
          if (nurture > 0) cases.push([nurture - 1, "generic"]);
          for (const [total, tier] of cases) {
            const s = scoreOf(exactIcp([total], tiers), saas);
            expect(s.score).toBe(total);
            expect(s.tier).toBe(tier);
          }
        },
      ),
    );
  });

  it("tierForScore is monotone in the score", () => {
    fc.assert(
      fc.property(
        fc
          .integer({ min: 0, max: 99 })
          .chain((nurture) =>
            fc.record({ nurture: fc.constant(nurture), priority: fc.integer({ min: nurture + 1, max: 100 }) }),
          ),
        fc.integer({ min: 0, max: 100 }),
        fc.integer({ min: 0, max: 100 }),
        (t, a, b) => {
          const [lo, hi] = a <= b ? [a, b] : [b, a];
          expect(TIER_RANK[tierForScore(lo, t)]).toBeLessThanOrEqual(TIER_RANK[tierForScore(hi, t)]);
        },
      ),
    );
  });
});

describe("determinism", () => {
  it("same ICP, facts and now give deep-equal results (also across compilations)", () => {
    fc.assert(
      fc.property(icpDefArb, factsArb, fc.integer({ min: -400, max: 400 }), (def, facts, shift) => {
        const now = NOW + shift * 3_600_000;
        const icp = makeIcp(def);
        const a = compileIcp(icp).score(facts, facts.domain, now);
        const b = compileIcp(icp).score(structuredClone(facts), facts.domain, now);
        const c = compileIcp(icp).score(facts, facts.domain, now);
        expect(b).toEqual(a);
        expect(c).toEqual(a);
      }),
    );
  });

  it("scoring does not mutate the facts or the ICP", () => {
    fc.assert(
      fc.property(icpDefArb, factsArb, (def, facts) => {
        const icp = makeIcp(def);
        const icpCopy = structuredClone(icp);
        const factsCopy = structuredClone(facts);
        compileIcp(icp).score(facts, facts.domain, NOW);
        expect(facts).toEqual(factsCopy);
        expect(icp).toEqual(icpCopy);
      }),
    );
  });
});

describe("scoreBest", () => {
  const better = (a: Score, b: Score) =>
    TIER_RANK[a.tier] !== TIER_RANK[b.tier]
      ? TIER_RANK[a.tier] > TIER_RANK[b.tier]
      : a.score !== b.score
        ? a.score > b.score
        : a.icpId < b.icpId;

  it("returns undefined without ICPs", () => {
    expect(scoreBest([], { domain: "acme.com" }, "acme.com", NOW)).toBeUndefined();
  });

  it("picks the best tier, then the best score, then the lowest ICP id, whatever the order", () => {
    fc.assert(
      fc.property(fc.array(icpDefArb, { minLength: 1, maxLength: 5 }), factsArb, fc.integer(), (defs, facts, seed) => {
        const icps = defs.map((d, i) => compile(d, `icp_${String(i).padStart(2, "0")}`, i + 1));
        const all = icps.map((c) => c.score(facts, facts.domain, NOW));
        const best = scoreBest(icps, facts, facts.domain, NOW);
        expect(best).toBeDefined();
        if (!best) return;
        expect(all).toContainEqual(best);
        for (const s of all) {
          if (s.icpId === best.icpId) continue;
          expect(better(s, best)).toBe(false);
          expect(TIER_RANK[s.tier]).toBeLessThanOrEqual(TIER_RANK[best.tier]);
          if (s.tier === best.tier) expect(s.score).toBeLessThanOrEqual(best.score);
        }
        // Order of the ICP list does not matter.
        const shuffled = [...icps].sort(
          (a, b) => ((a.icp.version * 7919 + seed) % 13) - ((b.icp.version * 7919 + seed) % 13),
        );
        expect(scoreBest(shuffled, facts, facts.domain, NOW)).toEqual(best);
        expect(scoreBest([...icps].reverse(), facts, facts.domain, NOW)).toEqual(best);
      }),
    );
  });

  it("prefers a nurture ICP with a lower score over a disqualified one with a higher score", () => {
    const high = compile(
      {
        ...exactIcp([90]),
        disqualifiers: [{ id: "dq", field: "industry", operator: "eq", value: "SaaS", reason: "no" }],
      },
      "icp_a",
    );
    const low = compile(exactIcp([45]), "icp_b");
    const best = scoreBest([high, low], saas, saas.domain, NOW);
    expect(best?.icpId).toBe("icp_b");
    expect(best?.tier).toBe("nurture");
  });

  it("breaks a full tie by the smaller ICP id", () => {
    const a = compile(exactIcp([50]), "icp_b");
    const b = compile(exactIcp([50]), "icp_a");
    expect(scoreBest([a, b], saas, saas.domain, NOW)?.icpId).toBe("icp_a");
    expect(scoreBest([b, a], saas, saas.domain, NOW)?.icpId).toBe("icp_a");
  });
});
