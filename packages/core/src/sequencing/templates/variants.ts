import { createHash } from "node:crypto";
import type { Content, Step } from "../sequence.js";

/** Which content of a step an enrollment gets: targeted content, an A/B variant, or the default. */

export type ChosenContent = {
  content: Content;
  /** A/B id, `segment:<s>`, `persona:<p>`, `segment:<s>+persona:<p>`, or "default". */
  variant: string;
};

const eq = (a: string | undefined, b: string | undefined) =>
  a !== undefined && b !== undefined && a.trim().toLowerCase() === b.trim().toLowerCase();

const targetLabel = (t: { segment?: string; persona?: string }) =>
  [t.segment !== undefined ? `segment:${t.segment}` : "", t.persona !== undefined ? `persona:${t.persona}` : ""]
    .filter(Boolean)
    .join("+");

/** A uniform bucket in [0, n) from a stable hash of the enrollment id (and the step id). */
export function abBucket(seed: string, stepId: string, n: number): number {
  const h = createHash("sha256").update(`${seed}\n${stepId}`).digest();
  return Math.floor((h.readUInt32BE(0) / 2 ** 32) * n);
}

/** A variant's subject falls back to the step's default subject. */
const withSubject = (step: Step, c: Content): Content =>
  c.subject === undefined && step.content.subject !== undefined ? { ...c, subject: step.content.subject } : c;

/**
 * The content one enrollment gets for a step: the most specific targeted content
 * (segment+persona > segment > persona; first listed wins a tie), else an A/B variant chosen
 * by a stable hash of `seed` (the enrollment id) so the same enrollment always gets the same
 * variant and enrollments split evenly, else the default content.
 */
export function chooseContent(
  step: Step,
  who: { segment?: string | undefined; persona?: string | undefined; seed: string },
): ChosenContent {
  let best: { rank: number; t: Step["targeted"][number] } | undefined;
  for (const t of step.targeted) {
    const segOk = t.segment === undefined || eq(t.segment, who.segment);
    const perOk = t.persona === undefined || eq(t.persona, who.persona);
    if (!segOk || !perOk) continue;
    const rank = (t.segment !== undefined ? 2 : 0) + (t.persona !== undefined ? 1 : 0);
    if (!best || rank > best.rank) best = { rank, t };
  }
  if (best) {
    const { segment: _s, persona: _p, ...content } = best.t;
    return { content: withSubject(step, content), variant: targetLabel(best.t) };
  }
  if (step.abVariants.length) {
    const v = step.abVariants[abBucket(who.seed, step.id, step.abVariants.length)];
    if (v) {
      const { id, ...content } = v;
      return { content: withSubject(step, content), variant: id };
    }
  }
  return { content: step.content, variant: "default" };
}

/** Every variant label of a step (for previews and reports). */
export function stepVariants(step: Step): string[] {
  return ["default", ...step.targeted.map(targetLabel), ...step.abVariants.map((v) => v.id)];
}

/** The content of a named variant (see `stepVariants`), or undefined. */
export function contentByVariant(step: Step, variant: string): ChosenContent | undefined {
  if (variant === "default") return { content: step.content, variant };
  const ab = step.abVariants.find((v) => v.id === variant);
  if (ab) {
    const { id: _id, ...content } = ab;
    return { content: withSubject(step, content), variant };
  }
  const t = step.targeted.find((x) => targetLabel(x) === variant);
  if (t) {
    const { segment: _s, persona: _p, ...content } = t;
    return { content: withSubject(step, content), variant };
  }
  return undefined;
}
