import { z } from "zod";

/**
 * Sequence templates and the records the sequencing engine moves through. Shared contract of
 * the routing/scheduling side (enrollments), the sending side (send records, caps) and the
 * template side (rendering, validation).
 */
export const Channel = z.enum(["email", "linkedin_invite", "linkedin_message", "call_task", "manual_task", "webhook"]);
export type Channel = z.infer<typeof Channel>;

/** Tracks an account can be enrolled in; one active enrollment per account per track. */
export const Track = z.enum(["priority", "nurture", "generic"]);
export type Track = z.infer<typeof Track>;

export const Delay = z.object({
  amount: z.number().int().min(0).max(100_000),
  unit: z.enum(["minutes", "hours", "business_days"]),
});
export type Delay = z.infer<typeof Delay>;

/** Engagement facts a step can branch on, within the same enrollment. */
export const ConditionEvent = z.enum(["opened", "clicked", "replied", "connection_accepted"]);
export type ConditionEvent = z.infer<typeof ConditionEvent>;

/**
 * Yes/no branch: run the step only when `event` did (happened: true) or did not (false)
 * happen earlier in the enrollment; otherwise skip it, stop the enrollment, or jump to a step.
 */
export const StepCondition = z.object({
  event: ConditionEvent,
  happened: z.boolean(),
  otherwise: z.union([z.enum(["skip", "stop"]), z.object({ goto: z.string() })]).default("skip"),
});
export type StepCondition = z.infer<typeof StepCondition>;

export const Content = z.object({
  subject: z.string().max(1000).optional(),
  body: z.string().min(1).max(50_000),
});
export type Content = z.infer<typeof Content>;

/** Content for one segment and/or persona; the most specific match wins (segment+persona > segment > persona). */
export const TargetedContent = Content.extend({
  segment: z.string().min(1).max(100).optional(),
  persona: z.string().min(1).max(100).optional(),
}).refine((t) => t.segment !== undefined || t.persona !== undefined, {
  message: "a targeted variant needs a segment or a persona",
});
export type TargetedContent = z.infer<typeof TargetedContent>;

/** A/B variant of a step's default content; enrollments are split evenly between them. */
export const AbVariant = Content.extend({ id: z.string().regex(/^[A-Za-z0-9_-]{1,20}$/) });
export type AbVariant = z.infer<typeof AbVariant>;

export const Step = z.object({
  id: z.string().regex(/^[A-Za-z0-9_-]{1,40}$/),
  channel: Channel,
  delay: Delay.default({ amount: 0, unit: "minutes" }),
  condition: StepCondition.optional(),
  content: Content,
  targeted: z.array(TargetedContent).max(50).default([]),
  abVariants: z.array(AbVariant).max(5).default([]),
  /** webhook steps: where the signed payload is posted. */
  webhookUrl: z.url().optional(),
});
export type Step = z.infer<typeof Step>;

export const SequenceDefinition = z.object({
  name: z.string().trim().min(1).max(200),
  description: z.string().max(2000).optional(),
  steps: z.array(Step).min(1).max(50),
  /** Stop the enrollment when any contact of the account replies or books a meeting. */
  stopOnAccountReply: z.boolean().default(true),
});
export type SequenceDefinition = z.infer<typeof SequenceDefinition>;

export const EnrollmentStatus = z.enum(["active", "paused", "completed", "stopped"]);
export type EnrollmentStatus = z.infer<typeof EnrollmentStatus>;

/** Put on the send queue by the tick for one claimed step of one enrollment. */
export const SendStepMessage = z.object({
  kind: z.literal("send-step"),
  workspaceId: z.string().min(1),
  enrollmentId: z.string().min(1),
  /** Index of the claimed step; the send record is keyed by enrollment + step id. */
  stepIndex: z.number().int().nonnegative(),
  stepId: z.string().min(1),
  /** The claim token written by the tick; a send for a stale claim is dropped. */
  claim: z.string().min(1),
});
export type SendStepMessage = z.infer<typeof SendStepMessage>;

/** When steps may go out, in the recipient's time zone (contact's, else account's, else the workspace's). */
export const SendingWindow = z.object({
  timezone: z.string().min(1).max(64).default("UTC"),
  /** ISO weekdays, 1 = Monday … 7 = Sunday. */
  days: z.array(z.number().int().min(1).max(7)).min(1).max(7).default([1, 2, 3, 4, 5]),
  start: z
    .string()
    .regex(/^([01]\d|2[0-3]):[0-5]\d$/)
    .default("08:00"),
  end: z
    .string()
    .regex(/^([01]\d|2[0-4]):[0-5]\d$/)
    .default("18:00"),
  /** Dates (YYYY-MM-DD, in the recipient's zone) with no sending. */
  holidays: z.array(z.iso.date()).max(366).default([]),
});
export type SendingWindow = z.infer<typeof SendingWindow>;

export const StepOutcome = z.enum(["sent", "skipped", "task", "webhook", "suppressed", "failed"]);
export type StepOutcome = z.infer<typeof StepOutcome>;

/** One account in one sequence version. Stored by packages/store/src/sequencing/enrollments.ts. */
export const Enrollment = z.object({
  id: z.string(),
  workspaceId: z.string(),
  accountId: z.string(),
  /** The contact the steps address (best persona match with an email); absent if the account has none. */
  contactId: z.string().optional(),
  sequenceId: z.string(),
  sequenceVersion: z.number().int().positive(),
  track: Track,
  status: EnrollmentStatus,
  /** Index of the next step to run. */
  stepIndex: z.number().int().nonnegative(),
  /** When the next step is due (ISO); null when not active. */
  dueAt: z.string().nullable(),
  /** Token of the tick's current claim on the due step; null when unclaimed. */
  claim: z.string().nullable(),
  /** Mailbox / LinkedIn seat used for every step, fixed at the first send. */
  senderId: z.string().optional(),
  enrolledAt: z.string(),
  updatedAt: z.string(),
  stopReason: z.string().optional(),
  /** What each finished step did. */
  history: z.array(
    z.object({ stepId: z.string(), at: z.string(), outcome: StepOutcome, detail: z.string().optional() }),
  ),
  /** How it started: `route:<eventId>` or `manual`. */
  source: z.string(),
  rev: z.number().int().nonnegative(),
  /** Id of the step at `stepIndex` (absent once the enrollment has run its last step). */
  stepId: z.string().optional(),
  /** The recipient's IANA zone the windows are computed in (contact's, else account's, else workspace's). */
  timezone: z.string().optional(),
  /** When the current claim was taken (ISO); stale claims are re-queued by the tick. */
  claimedAt: z.string().optional(),
  /** Why the due step was last deferred (window, cap…). */
  deferReason: z.string().optional(),
});
export type Enrollment = z.infer<typeof Enrollment>;
