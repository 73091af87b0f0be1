import { z } from "zod";
import { SignalType } from "../accounts/index.js";
import { storableNumber } from "../shared/index.js";

/** Account fields an ICP condition can look at. */
export const ConditionField = z.enum([
  "domain",
  "industry",
  "employees",
  "revenue",
  "country",
  "growthStage",
  "technologies",
  "techMaturity",
  "signals",
]);
export type ConditionField = z.infer<typeof ConditionField>;

const NUMERIC_FIELDS: ReadonlySet<ConditionField> = new Set(["employees", "revenue"]);
const LIST_FIELDS: ReadonlySet<ConditionField> = new Set(["technologies", "signals"]);

const text = z.string().trim().min(1).max(200);

/** The test a condition applies; one variant per operator so each carries exactly its operands. */
export const Condition = z.discriminatedUnion("operator", [
  z.object({ field: ConditionField, operator: z.literal("eq"), value: z.union([text, storableNumber()]) }),
  z.object({ field: ConditionField, operator: z.literal("in"), values: z.array(text).min(1).max(1000) }),
  z
    .object({
      field: ConditionField,
      operator: z.literal("range"),
      min: storableNumber().optional(),
      max: storableNumber().optional(),
    })
    .refine((c) => c.min !== undefined || c.max !== undefined, {
      message: "range needs min, max or both",
      path: ["min"],
    })
    .refine((c) => c.min === undefined || c.max === undefined || c.min <= c.max, {
      message: "min must be <= max",
      path: ["max"],
    }),
  z.object({
    field: ConditionField,
    operator: z.literal("contains-any"),
    values: z.array(text).min(1).max(1000),
  }),
  z.object({ field: ConditionField, operator: z.literal("exists") }),
  z.object({
    field: z.literal("signals"),
    operator: z.literal("within-days"),
    /** Signal types that count; empty or absent means any signal. */
    values: z.array(SignalType).max(10).optional(),
    days: z.number().int().min(1).max(3650),
    /** Points halve every `halfLifeDays` after the signal (intent fades); absent = full points in the window. */
    halfLifeDays: z.number().min(1).max(3650).optional(),
  }),
]);
export type Condition = z.infer<typeof Condition>;

/** Operators make sense only for some fields; reject the rest at definition time, not at scoring. */
function checkOperatorFits(c: Condition, ctx: z.RefinementCtx) {
  const numeric = NUMERIC_FIELDS.has(c.field);
  const bad =
    (c.operator === "range" && !numeric) ||
    (c.operator === "contains-any" && numeric) ||
    (c.operator === "in" && (LIST_FIELDS.has(c.field) || numeric)) ||
    (c.operator === "eq" && (LIST_FIELDS.has(c.field) || numeric !== (typeof c.value === "number")));
  if (bad)
    ctx.addIssue({
      code: "custom",
      path: ["operator"],
      message: `operator "${c.operator}" does not apply to field "${c.field}"${c.operator === "eq" && numeric ? " with a text value" : ""}`,
    });
}

const slug = z.string().regex(/^[a-z0-9][a-z0-9_-]{0,62}$/, "use lowercase letters, digits, - and _ (max 63)");

export const Criterion = z
  .intersection(
    Condition,
    z.object({
      id: slug,
      kind: z.enum(["firmographic", "technographic", "behavioral"]),
      label: z.string().max(200).optional(),
      points: z.number().int().min(0).max(100),
      mandatory: z.boolean().default(false),
    }),
  )
  .superRefine((c, ctx) => checkOperatorFits(c, ctx));
export type Criterion = z.infer<typeof Criterion>;

export const Disqualifier = z
  .intersection(Condition, z.object({ id: slug, reason: z.string().min(1).max(200) }))
  .superRefine((c, ctx) => checkOperatorFits(c, ctx));
export type Disqualifier = z.infer<typeof Disqualifier>;

export const Segment = z.object({
  name: slug,
  /** All conditions must hold; the first segment that matches names the account's segment. */
  when: z
    .array(Condition.superRefine((c, ctx) => checkOperatorFits(c, ctx)))
    .min(1)
    .max(20),
});
export type Segment = z.infer<typeof Segment>;

export const Persona = z.object({
  name: slug,
  /** Case-insensitive keywords looked for in a contact's title ("VP Sales", "Head of Growth"). */
  titles: z.array(text).min(1).max(100),
  seniorities: z
    .array(z.enum(["c_level", "vp", "director", "manager", "individual"]))
    .max(5)
    .optional(),
});
export type Persona = z.infer<typeof Persona>;

export const QualificationRule = z.object({
  /** Mandatory criteria that must match (capped at how many mandatory criteria exist). */
  minMandatory: z.number().int().min(0).max(50).default(3),
  minPreferential: z.number().int().min(0).max(50).default(1),
});

export const TierThresholds = z
  .object({
    priority: z.number().int().min(1).max(100).default(70),
    nurture: z.number().int().min(0).max(100).default(40),
  })
  .refine((t) => t.nurture < t.priority, { message: "nurture must be below priority", path: ["nurture"] });
export type TierThresholds = z.infer<typeof TierThresholds>;

/** What a client sends to create an ICP or a new version of it. */
export const IcpDefinition = z
  .object({
    name: z.string().trim().min(1).max(120),
    description: z.string().max(2000).optional(),
    status: z.enum(["active", "inactive"]).default("active"),
    criteria: z.array(Criterion).min(1).max(100),
    qualification: QualificationRule.default({ minMandatory: 3, minPreferential: 1 }),
    tiers: TierThresholds.default({ priority: 70, nurture: 40 }),
    disqualifiers: z.array(Disqualifier).max(100).default([]),
    segments: z.array(Segment).max(50).default([]),
    personas: z.array(Persona).max(50).default([]),
  })
  .superRefine((d, ctx) => {
    const dup = (ids: string[], path: string, key = "id") => {
      const seen = new Set<string>();
      ids.forEach((id, i) => {
        if (seen.has(id)) ctx.addIssue({ code: "custom", path: [path, i, key], message: `duplicate ${key} "${id}"` });
        seen.add(id);
      });
    };
    dup(
      d.criteria.map((c) => c.id),
      "criteria",
    );
    dup(
      d.disqualifiers.map((c) => c.id),
      "disqualifiers",
    );
    dup(
      d.segments.map((s) => s.name),
      "segments",
      "name",
    );
    dup(
      d.personas.map((p) => p.name),
      "personas",
      "name",
    );
  });
export type IcpDefinition = z.infer<typeof IcpDefinition>;
export type IcpDefinitionInput = z.input<typeof IcpDefinition>;

/** A stored, versioned ICP as the scorer sees it. */
export type Icp = IcpDefinition & { id: string; version: number };
