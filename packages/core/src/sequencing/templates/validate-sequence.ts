import type { Content, SequenceDefinition, Step } from "../sequence.js";
import { templateProblems } from "./compile.js";

export type SequenceProblem = {
  stepId: string;
  stepIndex: number;
  field: "subject" | "body" | "id" | "condition" | "webhookUrl" | "abVariants" | "targeted";
  /** Dotted path in the definition, e.g. `steps.1.abVariants.0.body`. */
  path: string;
  variantId?: string;
  segment?: string;
  persona?: string;
  line?: number;
  column?: number;
  variable?: string;
  message: string;
};

/** One step being checked: where it is, and the step ids of the whole definition. */
type StepAt = { step: Step; i: number; ids: string[]; at: { stepId: string; stepIndex: number } };

/**
 * Everything that makes a definition unsavable: templates that do not compile or read unknown
 * variables, gotos to unknown (or earlier) steps, duplicate step / A/B ids, email steps without
 * subject, webhook steps without URL. Empty when the definition can be saved.
 */
export function validateSequence(def: SequenceDefinition): SequenceProblem[] {
  const ids = def.steps.map((s) => s.id);
  return def.steps.flatMap((step, i) => {
    const s: StepAt = { step, i, ids, at: { stepId: step.id, stepIndex: i } };
    return [
      ...stepIdProblems(s),
      ...gotoProblems(s),
      ...channelProblems(s),
      ...contentProblems(s, step.content, `steps.${i}.content`, {}),
      ...targetedProblems(s),
      ...abVariantProblems(s),
    ];
  });
}

function stepIdProblems({ step, i, ids, at }: StepAt): SequenceProblem[] {
  return ids.indexOf(step.id) !== i
    ? [{ ...at, field: "id", path: `steps.${i}.id`, message: `duplicate step id "${step.id}"` }]
    : [];
}

/** A condition's `otherwise: { goto }` must name a later step: only forward jumps, so no loops. */
function gotoProblems({ step, i, ids, at }: StepAt): SequenceProblem[] {
  const goto = step.condition && typeof step.condition.otherwise === "object" ? step.condition.otherwise.goto : null;
  if (goto === null) return [];
  const target = ids.indexOf(goto);
  const path = `steps.${i}.condition.otherwise.goto`;
  if (target < 0) return [{ ...at, field: "condition", path, message: `goto "${goto}": no step has this id` }];
  if (target <= i)
    return [
      {
        ...at,
        field: "condition",
        path,
        message: `goto "${goto}" jumps back to step ${target + 1}: only forward jumps are allowed (no loops)`,
      },
    ];
  return [];
}

/** What a channel needs: an email step a subject, a webhook step its URL. */
function channelProblems({ step, i, at }: StepAt): SequenceProblem[] {
  const out: SequenceProblem[] = [];
  if (step.channel === "email" && !step.content.subject?.trim())
    out.push({ ...at, field: "subject", path: `steps.${i}.content.subject`, message: "an email step needs a subject" });
  if (step.channel === "webhook" && !step.webhookUrl)
    out.push({ ...at, field: "webhookUrl", path: `steps.${i}.webhookUrl`, message: "a webhook step needs webhookUrl" });
  return out;
}

/** The template problems of one content's subject and body. */
function contentProblems(
  { at }: StepAt,
  content: Content,
  base: string,
  extra: Partial<SequenceProblem>,
): SequenceProblem[] {
  const out: SequenceProblem[] = [];
  for (const field of ["subject", "body"] as const) {
    const source = content[field];
    if (source === undefined) continue;
    for (const p of templateProblems(source)) out.push({ ...at, field, path: `${base}.${field}`, ...extra, ...p });
  }
  return out;
}

/** Targeted contents: one per segment + persona pair, each with valid templates. */
function targetedProblems(s: StepAt): SequenceProblem[] {
  const { step, i, at } = s;
  const out: SequenceProblem[] = [];
  const seen = new Set<string>();
  step.targeted.forEach((t, j) => {
    const key = `${t.segment?.trim().toLowerCase() ?? ""}|${t.persona?.trim().toLowerCase() ?? ""}`;
    const extra = { ...(t.segment ? { segment: t.segment } : {}), ...(t.persona ? { persona: t.persona } : {}) };
    if (seen.has(key))
      out.push({
        ...at,
        ...extra,
        field: "targeted",
        path: `steps.${i}.targeted.${j}`,
        message: "duplicate targeted content for the same segment and persona",
      });
    seen.add(key);
    out.push(...contentProblems(s, t, `steps.${i}.targeted.${j}`, extra));
  });
  return out;
}

/** A/B variants: none or at least two, unique ids other than "default", each with valid templates. */
function abVariantProblems(s: StepAt): SequenceProblem[] {
  const { step, i, at } = s;
  const out: SequenceProblem[] = [];
  const abIds = step.abVariants.map((v) => v.id);
  if (step.abVariants.length === 1)
    out.push({
      ...at,
      field: "abVariants",
      path: `steps.${i}.abVariants`,
      variantId: abIds[0] as string,
      message: "an A/B test needs at least 2 variants (enrollments are split between the variants only)",
    });
  step.abVariants.forEach((v, j) => {
    if (abIds.indexOf(v.id) !== j || v.id === "default")
      out.push({
        ...at,
        field: "abVariants",
        path: `steps.${i}.abVariants.${j}.id`,
        variantId: v.id,
        message: v.id === "default" ? `"default" is reserved` : `duplicate A/B variant id "${v.id}"`,
      });
    out.push(...contentProblems(s, v, `steps.${i}.abVariants.${j}`, { variantId: v.id }));
  });
  return out;
}
