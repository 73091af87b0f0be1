import { autoReplySigns } from "./auto-reply.js";
import { dsnBounce, originalMessageIdOf, plainTextBounce } from "./bounce.js";
import type { InboundClassification } from "./classification.js";
import { typedAddress } from "./header-block.js";
import type { InboundMessage, InboundReport } from "./message.js";
import { replyText } from "./reply-text.js";
import { findReturnDate } from "./return-date.js";
import { unsubscribeRequest } from "./unsubscribe.js";

export type ClassifyOptions = {
  /** Reference for relative return dates when the message has no Date header (default: now). */
  now?: Date;
};

/** Senders no person writes from. */
const ROBOT_SENDER =
  /(^|[.-])(mailer-daemon|postmaster|no-?reply|do-?not-?reply|donotreply|bounces?|notifications?)([+.-][^@]*)?@|@(no-?reply|bounces?)\./i;

/**
 * What a received message is. Machine reports first (complaint, then bounce), then auto-replies,
 * then what a person wrote: an unsubscribe request or a reply. Never throws.
 */
export function classifyInbound(msg: InboundMessage, options: ClassifyOptions = {}): InboundClassification {
  const report = msg.report;
  if (report && isFeedbackReport(report)) return complaintOf(report);
  if (report && /delivery-status/.test(report.type)) {
    const bounce = dsnBounce(report);
    return bounce ? { kind: "bounce", ...bounce } : { kind: "unknown", reason: "delivery report without failures" };
  }
  const plain = plainTextBounce(msg);
  if (plain) return { kind: "bounce", ...plain };

  const text = replyText(msg.text);
  const auto = autoReplySigns(msg, text);
  if (auto) {
    const reference = msg.date ? new Date(msg.date) : (options.now ?? new Date());
    const returnDate = auto.outOfOffice ? findReturnDate(`${msg.subject}\n${text}`, reference, auto.languages) : null;
    const subKind = auto.outOfOffice ? "out_of_office" : "auto_reply";
    return { kind: "auto_reply", subKind, returnDate, signals: auto.signals };
  }
  if (ROBOT_SENDER.test(msg.from?.address ?? "")) return { kind: "unknown", reason: "sent by a robot address" };
  if (isBulk(msg)) return { kind: "unknown", reason: "list or bulk mail" };
  if (text === "") return { kind: "unknown", reason: "no new text" };
  const phrase = unsubscribeRequest(text);
  if (phrase) return { kind: "unsubscribe", text, phrase };
  return { kind: "reply", text };
}

function isFeedbackReport(report: InboundReport): boolean {
  return report.type === "feedback-report" || report.fields["feedback-type"] !== undefined;
}

function complaintOf(report: InboundReport): InboundClassification {
  const fields = report.fields;
  const originalTo = report.original?.to?.match(/[^\s<>,;"]+@[^\s<>,;"]+/)?.[0];
  return {
    kind: "complaint",
    feedbackType: (fields["feedback-type"] ?? "abuse").toLowerCase(),
    recipient: typedAddress(fields["original-rcpt-to"]) ?? (originalTo ? originalTo.toLowerCase() : null),
    originalMessageId: originalMessageIdOf(report.original),
  };
}

/** Newsletters and list traffic that is not an answer to anything. */
function isBulk(msg: InboundMessage): boolean {
  const answers = msg.inReplyTo !== null || msg.references.length > 0;
  const precedence = (msg.headers.precedence ?? "").toLowerCase().trim();
  const listy = msg.headers["list-id"] !== undefined || ["bulk", "list", "junk"].includes(precedence);
  return listy && !answers;
}
