import { z } from "zod";
import type { BouncedRecipient, InboundClassification } from "./classification.js";
import { normalizeMessageId } from "./message-ids.js";

/**
 * SES feedback as JSON: a notification (`notificationType`, SES → SNS topic per identity) or a
 * configuration-set event (`eventType`), raw or inside the SNS envelope whose `Message` holds it
 * as a string. Shapes from the SES developer guide ("Amazon SNS notification contents",
 * "Event publishing: contents of event data"). Only the fields used here are declared.
 */
const Recipient = z.object({
  emailAddress: z.string(),
  action: z.string().optional(),
  status: z.string().optional(),
  diagnosticCode: z.string().optional(),
});
const SesMail = z.object({
  messageId: z.string().optional(),
  timestamp: z.string().optional(),
  headers: z.array(z.object({ name: z.string(), value: z.string() })).optional(),
  commonHeaders: z.object({ messageId: z.string().optional() }).optional(),
});
const SesFeedback = z.object({
  notificationType: z.string().optional(),
  eventType: z.string().optional(),
  mail: SesMail,
  bounce: z.object({ bounceType: z.string(), bouncedRecipients: z.array(Recipient) }).optional(),
  complaint: z
    .object({ complainedRecipients: z.array(Recipient), complaintFeedbackType: z.string().optional() })
    .optional(),
  delivery: z.object({ recipients: z.array(z.string()) }).optional(),
  deliveryDelay: z.object({ delayedRecipients: z.array(Recipient) }).optional(),
  reject: z.object({ reason: z.string().optional() }).optional(),
});
type SesFeedback = z.infer<typeof SesFeedback>;

export const SesEventType = z.enum(["Bounce", "Complaint", "Delivery", "DeliveryDelay", "Reject", "Send", "Other"]);
export type SesEventType = z.infer<typeof SesEventType>;

export type SesNotification = {
  eventType: SesEventType;
  /** The id SES gave the send (`mail.messageId`), which its bounce DSNs also quote. */
  sesMessageId: string | null;
  /** Our Message-ID header as sent, normalised; null when SES did not include headers. */
  originalMessageId: string | null;
  /** Same result as a received message for Bounce and Complaint; null for the other events. */
  classification: InboundClassification | null;
  /** Recipients the event is about: delivered, delayed, bounced or complaining. */
  recipients: string[];
};

/** Map one SES notification or event (object or JSON text, SNS-wrapped or not); null when it is not one. */
export function parseSesNotification(input: unknown): SesNotification | null {
  const parsed = SesFeedback.safeParse(unwrap(input));
  if (!parsed.success) return null;
  const ses = parsed.data;
  const type = SesEventType.catch("Other").parse(ses.notificationType ?? ses.eventType);
  const base = { eventType: type, sesMessageId: ses.mail.messageId ?? null, originalMessageId: ourMessageId(ses) };
  if (type === "Bounce" && ses.bounce) return { ...base, ...bounceOf(ses.bounce, base.originalMessageId) };
  if (type === "Complaint" && ses.complaint) return { ...base, ...complaintOf(ses.complaint, base.originalMessageId) };
  const recipients =
    type === "Delivery"
      ? (ses.delivery?.recipients ?? [])
      : type === "DeliveryDelay"
        ? (ses.deliveryDelay?.delayedRecipients ?? []).map((r) => r.emailAddress)
        : [];
  return { ...base, classification: null, recipients: recipients.map((r) => r.toLowerCase()) };
}

function unwrap(input: unknown): unknown {
  const value = typeof input === "string" ? safeJson(input) : input;
  if (value && typeof value === "object" && "Type" in value && "Message" in value) {
    const message = (value as { Message: unknown }).Message;
    return typeof message === "string" ? safeJson(message) : message;
  }
  return value;
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

function ourMessageId(ses: SesFeedback): string | null {
  const header = ses.mail.headers?.find((h) => h.name.toLowerCase() === "message-id")?.value;
  const raw = header ?? ses.mail.commonHeaders?.messageId;
  return raw ? normalizeMessageId(raw) : null;
}

/** SES's Permanent is a hard bounce; Transient and Undetermined are soft (retried, then hard). */
function bounceOf(
  bounce: NonNullable<SesFeedback["bounce"]>,
  originalMessageId: string | null,
): Pick<SesNotification, "classification" | "recipients"> {
  const bounceType = bounce.bounceType === "Permanent" ? "hard" : "soft";
  const recipients: BouncedRecipient[] = bounce.bouncedRecipients.map((r) => ({
    address: r.emailAddress.toLowerCase(),
    originalAddress: null,
    action: r.action ?? "failed",
    status: r.status ?? null,
    diagnostic: r.diagnosticCode?.replace(/^[a-z-]+\s*;\s*/i, "") ?? null,
    bounceType,
  }));
  return {
    classification: { kind: "bounce", bounceType, recipients, originalMessageId },
    recipients: recipients.map((r) => r.address),
  };
}

function complaintOf(
  complaint: NonNullable<SesFeedback["complaint"]>,
  originalMessageId: string | null,
): Pick<SesNotification, "classification" | "recipients"> {
  const recipients = complaint.complainedRecipients.map((r) => r.emailAddress.toLowerCase());
  const feedbackType = (complaint.complaintFeedbackType ?? "abuse").toLowerCase();
  return {
    classification: { kind: "complaint", feedbackType, recipient: recipients[0] ?? null, originalMessageId },
    recipients,
  };
}
