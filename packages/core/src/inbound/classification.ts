import { z } from "zod";

/** What a received message is, with what each kind's effect needs. */
export const InboundKind = z.enum(["reply", "auto_reply", "bounce", "complaint", "unsubscribe", "unknown"]);
export type InboundKind = z.infer<typeof InboundKind>;

export const BounceType = z.enum(["hard", "soft"]);
export type BounceType = z.infer<typeof BounceType>;

export const BouncedRecipient = z.object({
  address: z.string(),
  /** Original-Recipient when given (the address as we sent it, before any forwarding). */
  originalAddress: z.string().nullable(),
  /** RFC 3464 Action: `failed` or `delayed` (plain-text and SES bounces say `failed`). */
  action: z.string(),
  /** Enhanced status code (RFC 3463), e.g. `5.1.1`; null when none is given. */
  status: z.string().nullable(),
  diagnostic: z.string().nullable(),
  bounceType: BounceType,
});
export type BouncedRecipient = z.infer<typeof BouncedRecipient>;

export const InboundClassification = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("reply"), text: z.string() }),
  z.object({
    kind: z.literal("auto_reply"),
    subKind: z.enum(["out_of_office", "auto_reply"]),
    /** `YYYY-MM-DD` the text names as the return, for out-of-office; null when none is found. */
    returnDate: z.string().nullable(),
    /** Why: header and pattern names, e.g. `auto-submitted`, `subject:de`. */
    signals: z.array(z.string()),
  }),
  z.object({
    kind: z.literal("bounce"),
    bounceType: BounceType,
    recipients: z.array(BouncedRecipient),
    /** Message-ID of our message that bounced (normalised), for matching. */
    originalMessageId: z.string().nullable(),
  }),
  z.object({
    kind: z.literal("complaint"),
    /** RFC 5965 Feedback-Type: abuse, fraud, other, … */
    feedbackType: z.string(),
    recipient: z.string().nullable(),
    originalMessageId: z.string().nullable(),
  }),
  z.object({ kind: z.literal("unsubscribe"), text: z.string(), phrase: z.string() }),
  z.object({ kind: z.literal("unknown"), reason: z.string() }),
]);
export type InboundClassification = z.infer<typeof InboundClassification>;
export type BounceDetails = Omit<Extract<InboundClassification, { kind: "bounce" }>, "kind">;
