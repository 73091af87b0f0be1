import { type AccountFacts, type CompiledIcp, type IcpDefinitionInput, nextAgingAt, type Signal } from "@icp/core";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { compile, DAY_MS, daysAgo, factsArb, icpDefArb, NOW, SIGNAL_TYPES, signalArb } from "./support.js";

type Criteria = IcpDefinitionInput["criteria"];
type WithinDays = { days: number; halfLifeDays?: number; values?: Signal["type"][]; points?: number };

/** A one-criterion ICP on recent signals (optionally decaying) plus an always-matching criterion worth `base`. */
function signalIcp(w: WithinDays, base = 0): IcpDefinitionInput {
  const criteria: Criteria = [
    {
      id: "intent",
      kind: "behavioral",
      field: "signals",
      operator: "within-days",
      days: w.days,
      ...(w.values ? { values: w.values } : {}),
      ...(w.halfLifeDays !== undefined ? { halfLifeDays: w.halfLifeDays } : {}),
      points: w.points ?? 40,
    },
  ];
  if (base > 0) criteria.push({ id: "base", kind: "firmographic", field: "domain", operator: "exists", points: base });
  return { name: "signals", criteria, qualification: { minMandatory: 0, minPreferential: 0 } };
}

const at = (days: number, type: Signal["type"] = "funding"): Signal => ({ type, at: daysAgo(days) });
const account = (...signals: Signal[]): AccountFacts => ({ domain: "acme.com", signals });
const intentLine = (def: IcpDefinitionInput, facts: AccountFacts, now = NOW) => {
  const s = compile(def).score(facts, facts.domain, now);
  const line = s.breakdown.find((l) => l.criterion === "intent");
  if (!line) throw new Error("no intent line");
  return { score: s.score, line };
};

describe("halfLifeDays decay on within-days criteria", () => {
  const decaying = signalIcp({ days: 90, halfLifeDays: 30, values: ["funding"], points: 40 });

  it("gives full points to a signal from today", () => {
    const { score, line } = intentLine(decaying, account(at(0)));
    expect(line).toMatchObject({ matched: true, points: 40 });
    expect(score).toBe(40);
  });

  it("halves the points at exactly one half-life, quarters them at two", () => {
    expect(intentLine(decaying, account(at(30))).line.points).toBe(20);
    expect(intentLine(decaying, account(at(60))).line.points).toBe(10);
    expect(intentLine(decaying, account(at(90))).line.points).toBe(5);
  });

  it("rounds the decayed points to the nearest integer", () => {
    // 40 * 2^-0.5 = 28.28 -> 28; 40 * 2^(-45/30) = 14.14 -> 14; 3 * 2^-1 = 1.5 -> 2 (Math.round).
    expect(intentLine(decaying, account(at(15))).line.points).toBe(28);
    expect(intentLine(decaying, account(at(45))).line.points).toBe(14);
    const three = signalIcp({ days: 90, halfLifeDays: 10, points: 3 });
    expect(intentLine(three, account(at(10))).line.points).toBe(2);
    const one = signalIcp({ days: 90, halfLifeDays: 1, points: 1 });
    const far = intentLine(one, account(at(5))).line;
    expect(far).toMatchObject({ matched: true, points: 0 });
  });

  it("decays by fractions of a day for date-time signals", () => {
    const halfDay: Signal = { type: "funding", at: new Date(NOW - 12 * 3_600_000).toISOString() };
    const def = signalIcp({ days: 90, halfLifeDays: 1, points: 100 });
    // 100 * 2^-0.5 = 70.7 -> 71
    expect(intentLine(def, account(halfDay)).line.points).toBe(71);
  });

  it("accepts a non-integer half-life", () => {
    const def = signalIcp({ days: 90, halfLifeDays: 7.5, points: 80 });
    expect(intentLine(def, account(at(15))).line.points).toBe(20);
  });

  it("gives nothing outside the window, however small the decay would be", () => {
    const { score, line } = intentLine(decaying, account(at(91)));
    expect(line).toMatchObject({ matched: false, points: 0 });
    expect(line.value).toBeUndefined();
    expect(score).toBe(0);
  });

  it("ignores future-dated signals and signals of other types", () => {
    expect(intentLine(decaying, account(at(-3))).line).toMatchObject({ matched: false, points: 0 });
    expect(intentLine(decaying, account(at(0, "hiring"))).line).toMatchObject({ matched: false, points: 0 });
  });

  it("decays from the most recent matching signal", () => {
    const { line } = intentLine(decaying, account(at(60), at(30), at(75), at(1, "hiring")));
    expect(line.points).toBe(20);
    expect(line.value).toEqual(at(30));
  });

  it("keeps full points across the window without halfLifeDays", () => {
    const flat = signalIcp({ days: 90, values: ["funding"], points: 40 });
    for (const d of [0, 30, 89, 90]) expect(intentLine(flat, account(at(d))).line.points).toBe(40);
    expect(intentLine(flat, account(at(91))).line.points).toBe(0);
  });

  it("adds the decayed points to the others and caps the total at 100", () => {
    const def = signalIcp({ days: 90, halfLifeDays: 30, points: 40 }, 70);
    expect(intentLine(def, account(at(30))).score).toBe(90);
    expect(intentLine(def, account(at(0))).score).toBe(100);
    expect(intentLine(def, account(at(120))).score).toBe(70);
  });

  it("can move an account down a tier as the signal ages", () => {
    const def: IcpDefinitionInput = { ...signalIcp({ days: 90, halfLifeDays: 30, points: 40 }, 40) };
    const c = compile({ ...def, tiers: { priority: 70, nurture: 40 } });
    const facts = account(at(0));
    expect(c.score(facts, facts.domain, NOW).tier).toBe("priority");
    expect(c.score(facts, facts.domain, NOW + 30 * DAY_MS).tier).toBe("nurture");
  });
});

describe("nextAgingAt", () => {
  const c = (def: IcpDefinitionInput, id = "icp_01") => compile(def, id);
  const flat = c(signalIcp({ days: 90, values: ["funding"] }));

  it("is undefined without within-days criteria", () => {
    const def: IcpDefinitionInput = {
      name: "static",
      criteria: [
        { id: "sig", kind: "behavioral", field: "signals", operator: "contains-any", values: ["funding"], points: 10 },
      ],
    };
    expect(nextAgingAt([c(def)], account(at(10)), NOW)).toBeUndefined();
    expect(nextAgingAt([], account(at(10)), NOW)).toBeUndefined();
  });

  it("is undefined without signals, or when every signal has left the window", () => {
    expect(nextAgingAt([flat], { domain: "acme.com" }, NOW)).toBeUndefined();
    expect(nextAgingAt([flat], account(), NOW)).toBeUndefined();
    expect(nextAgingAt([flat], account(at(91), at(200)), NOW)).toBeUndefined();
  });

  it("is the end of the window plus one millisecond", () => {
    const signalAt = NOW - 10 * DAY_MS;
    expect(nextAgingAt([flat], account(at(10)), NOW)).toBe(signalAt + 90 * DAY_MS + 1);
  });

  it("takes the earliest window end among signals and ICPs", () => {
    const short = c(signalIcp({ days: 20 }), "icp_02");
    // funding 5 days ago leaves the 20-day window in 15 days; the 90-day window ends later.
    expect(nextAgingAt([flat, short], account(at(5)), NOW)).toBe(NOW + 15 * DAY_MS + 1);
    expect(nextAgingAt([flat], account(at(5), at(80)), NOW)).toBe(NOW + 10 * DAY_MS + 1);
  });

  it("ignores signals of types the criterion does not count", () => {
    expect(nextAgingAt([flat], account(at(5, "hiring")), NOW)).toBeUndefined();
    expect(nextAgingAt([flat], account(at(5, "hiring"), at(50)), NOW)).toBe(NOW + 40 * DAY_MS + 1);
    const any = c(signalIcp({ days: 90 }));
    expect(nextAgingAt([any], account(at(5, "hiring")), NOW)).toBe(NOW + 85 * DAY_MS + 1);
  });

  it("is the start of a future-dated signal", () => {
    expect(nextAgingAt([flat], account(at(-7)), NOW)).toBe(NOW + 7 * DAY_MS);
  });

  it("is one day later for a decaying criterion with a signal in its window", () => {
    const decaying = c(signalIcp({ days: 90, halfLifeDays: 30 }));
    expect(nextAgingAt([decaying], account(at(10)), NOW)).toBe(NOW + DAY_MS);
    expect(nextAgingAt([decaying], account(at(0)), NOW)).toBe(NOW + DAY_MS);
    // The window ends sooner than a day: that comes first.
    expect(nextAgingAt([decaying], account(at(90)), NOW)).toBe(NOW + 1);
    // Outside the window nothing decays any more.
    expect(nextAgingAt([decaying], account(at(120)), NOW)).toBeUndefined();
    // A future signal does not decay yet; it enters the window first.
    expect(nextAgingAt([decaying], account(at(-3)), NOW)).toBe(NOW + 3 * DAY_MS);
  });

  it("marks the exact instant the score changes for a single signal", () => {
    const def = signalIcp({ days: 90, values: ["funding"], points: 40 });
    const ic = compile(def);
    for (const facts of [account(at(10)), account(at(-7))]) {
      const next = nextAgingAt([ic], facts, NOW);
      if (next === undefined) throw new Error("expected an aging time");
      const before = ic.score(facts, facts.domain, next - 1).score;
      expect(ic.score(facts, facts.domain, NOW).score).toBe(before);
      expect(ic.score(facts, facts.domain, next).score).not.toBe(before);
    }
  });
});

/** Random ICPs whose within-days criteria decay, with random half-lives. */
const decayingIcpArb: fc.Arbitrary<IcpDefinitionInput> = fc
  .tuple(icpDefArb, fc.array(fc.integer({ min: 1, max: 400 }), { minLength: 8, maxLength: 8 }))
  .map(([def, halves]) => ({
    ...def,
    criteria: def.criteria.map((cr, i) =>
      cr.operator === "within-days" ? { ...cr, halfLifeDays: halves[i] } : cr,
    ) as Criteria,
  }));

/** ICP definitions that surely contain at least one within-days criterion (otherwise nothing ages). */
const withSignalCriterion = (arb: fc.Arbitrary<IcpDefinitionInput>, halfLife: boolean) =>
  fc
    .tuple(
      arb,
      fc.subarray([...SIGNAL_TYPES]),
      fc.integer({ min: 1, max: 400 }),
      fc.integer({ min: 0, max: 100 }),
      fc.integer({ min: 1, max: 400 }),
    )
    .map(([def, values, days, points, half]) => ({
      ...def,
      criteria: [
        ...def.criteria,
        {
          id: "extra",
          kind: "behavioral",
          field: "signals",
          operator: "within-days",
          values,
          days,
          points,
          ...(halfLife ? { halfLifeDays: half } : {}),
        },
      ] as Criteria,
    }));

const pastSignalsArb = fc.array(
  fc
    .record({ type: fc.constantFrom(...SIGNAL_TYPES), age: fc.integer({ min: 0, max: 400 }) })
    .map(({ type, age }) => ({ type, at: daysAgo(age) })),
  { maxLength: 5 },
);
const pastFactsArb = fc.tuple(factsArb, pastSignalsArb).map(([f, signals]) => ({ ...f, signals }));

const icpsArb = (defs: fc.Arbitrary<IcpDefinitionInput>) =>
  fc.array(defs, { minLength: 1, maxLength: 3 }).map((ds) => ds.map((d, i) => compile(d, `icp_0${i}`)));

const scoreAt = (icps: readonly CompiledIcp[], facts: AccountFacts, now: number) =>
  icps.map((i) => i.score(facts, facts.domain, now));

describe("decay and aging properties", () => {
  it("decayed scores stay in 0..100 and never increase as time passes", () => {
    fc.assert(
      fc.property(
        icpsArb(fc.oneof(decayingIcpArb, withSignalCriterion(decayingIcpArb, true))),
        pastFactsArb,
        fc.array(fc.integer({ min: 0, max: 200 * DAY_MS }), { minLength: 1, maxLength: 4 }),
        (icps, facts, steps) => {
          let now = NOW;
          let prev = scoreAt(icps, facts, now);
          for (const step of steps) {
            now += step;
            const cur = scoreAt(icps, facts, now);
            cur.forEach((s, i) => {
              expect(s.score).toBeGreaterThanOrEqual(0);
              expect(s.score).toBeLessThanOrEqual(100);
              expect(s.score).toBeLessThanOrEqual(prev[i]?.score ?? Number.NaN);
              s.breakdown.forEach((l, j) => {
                expect(l.points).toBeLessThanOrEqual(prev[i]?.breakdown[j]?.points ?? Number.NaN);
              });
            });
            prev = cur;
          }
        },
      ),
      { numRuns: 80 },
    );
  });

  it("a decaying line never exceeds its criterion's points and is full at age 0", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 100 }), fc.integer({ min: 1, max: 400 }), (points, half) => {
        const def = signalIcp({ days: 400, halfLifeDays: half, points });
        expect(intentLine(def, account(at(0))).line.points).toBe(points);
        expect(intentLine(def, account(at(half))).line.points).toBe(Math.round(points / 2));
        const older = intentLine(def, account(at(Math.min(400, half * 2)))).line.points;
        expect(older).toBeLessThanOrEqual(Math.round(points / 2));
      }),
      { numRuns: 100 },
    );
  });

  it("nextAgingAt is after now whenever defined, and defined while a decaying signal is in its window", () => {
    fc.assert(
      fc.property(
        icpsArb(fc.oneof(icpDefArb, decayingIcpArb, withSignalCriterion(decayingIcpArb, true))),
        factsArb,
        fc.integer({ min: -50, max: 50 }),
        (icps, facts, offsetDays) => {
          const now = NOW + offsetDays * DAY_MS;
          const next = nextAgingAt(icps, facts, now);
          if (next !== undefined) expect(next).toBeGreaterThan(now);
          const decayingInWindow = icps.some((ic) =>
            ic.icp.criteria.some(
              (cr) =>
                cr.operator === "within-days" &&
                cr.halfLifeDays !== undefined &&
                (facts.signals ?? []).some((s) => {
                  const t = Date.parse(s.at);
                  const counted = !cr.values?.length || cr.values.includes(s.type);
                  return counted && t <= now && now - t <= cr.days * DAY_MS;
                }),
            ),
          );
          if (decayingInWindow) expect(next).toBeLessThanOrEqual(now + DAY_MS);
        },
      ),
      { numRuns: 100 },
    );
  });

  it("without decay, scores are the same at every instant between now and nextAgingAt", () => {
    fc.assert(
      fc.property(
        icpsArb(fc.oneof(icpDefArb, withSignalCriterion(icpDefArb, false))),
        factsArb,
        fc.integer({ min: -50, max: 50 }),
        fc.array(fc.double({ min: 0, max: 1, noNaN: true, maxExcluded: true }), { minLength: 1, maxLength: 5 }),
        (icps, facts, offsetDays, fractions) => {
          const now = NOW + offsetDays * DAY_MS;
          const next = nextAgingAt(icps, facts, now) ?? now + 5000 * DAY_MS;
          const base = JSON.stringify(scoreAt(icps, facts, now));
          for (const f of [0, ...fractions]) {
            const t = now + 1 + Math.floor(f * (next - now - 1));
            if (t <= now || t >= next) continue;
            expect(JSON.stringify(scoreAt(icps, facts, t))).toBe(base);
          }
          if (next - now > 1) expect(JSON.stringify(scoreAt(icps, facts, next - 1))).toBe(base);
        },
      ),
      { numRuns: 100 },
    );
  });

  it("the generators exercise signals on both sides of now", () => {
    // Guards the properties above against a generator that never produces aging accounts.
    const samples = fc.sample(fc.tuple(icpsArb(withSignalCriterion(icpDefArb, false)), factsArb), {
      numRuns: 150,
      seed: 7,
    });
    const defined = samples.filter(([icps, facts]) => nextAgingAt(icps, facts, NOW) !== undefined).length;
    expect(defined).toBeGreaterThan(15);
    expect(fc.sample(signalArb, { numRuns: 200, seed: 1 }).some((s) => Date.parse(s.at) > NOW)).toBe(true);
  });
});
