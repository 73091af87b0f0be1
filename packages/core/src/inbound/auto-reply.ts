import { AUTO_MARKER, AUTO_SUBJECT, type Language, languagesMatching, OUT_OF_OFFICE } from "./auto-reply-patterns.js";
import type { InboundMessage } from "./message.js";

export type AutoReplySigns = { signals: string[]; languages: Language[]; outOfOffice: boolean };

/** A subject that starts like a reply or forward carries our own subject after the prefix. */
const REPLY_PREFIX = /^\s*(re|aw|antw|sv|vs|r|rif|res|ref|fw|fwd|wg|tr|enc)\s*(\[\d+\])?\s*:/i;

/**
 * Header signs (RFC 3834 and the de-facto ones). Strong ones alone make an auto-reply:
 * `Auto-Submitted` other than `no`, `X-Autoreply`, `X-Autorespond`, `Precedence: auto_reply`.
 * Hints only count next to out-of-office wording: `X-Auto-Response-Suppress` (Exchange sets it
 * on its own auto-replies, but senders also set it to avoid receiving them) and
 * `Precedence: bulk|junk|list` (vacation programs use bulk, so do mailing lists).
 */
function headerSigns(headers: Record<string, string>): { strong: string[]; hints: string[] } {
  const strong: string[] = [];
  const hints: string[] = [];
  const submitted = (headers["auto-submitted"] ?? "")
    .replace(/\(.*?\)/g, "")
    .split(";")[0]
    ?.trim()
    .toLowerCase();
  if (submitted && submitted !== "no") strong.push("auto-submitted");
  const autoreply = headers["x-autoreply"]?.trim().toLowerCase();
  if (autoreply !== undefined && !["no", "false", "0"].includes(autoreply)) strong.push("x-autoreply");
  if (headers["x-autorespond"] !== undefined) strong.push("x-autorespond");
  const precedence = (headers.precedence ?? headers["x-precedence"] ?? "").trim().toLowerCase();
  if (precedence === "auto_reply") strong.push("precedence:auto_reply");
  else if (["bulk", "junk", "list"].includes(precedence)) hints.push(`precedence:${precedence}`);
  if (headers["x-auto-response-suppress"] !== undefined) hints.push("x-auto-response-suppress");
  return { strong, hints };
}

/** The signs that `msg` was sent by an auto-responder, or null. `newText` is its text without quotes. */
export function autoReplySigns(msg: InboundMessage, newText: string): AutoReplySigns | null {
  const { strong, hints } = headerSigns(msg.headers);
  const subject = REPLY_PREFIX.test(msg.subject) ? "" : msg.subject;
  const bySubject = languagesMatching(AUTO_SUBJECT, subject);
  const byMarker = languagesMatching(AUTO_MARKER, newText);
  const byOoo = languagesMatching(OUT_OF_OFFICE, `${subject}\n${newText}`);
  const isAuto =
    strong.length > 0 || bySubject.length > 0 || byMarker.length > 0 || (hints.length > 0 && byOoo.length > 0);
  if (!isAuto) return null;
  const signals = [
    ...strong,
    ...hints,
    ...bySubject.map((l) => `subject:${l}`),
    ...byMarker.map((l) => `marker:${l}`),
    ...byOoo.map((l) => `out-of-office:${l}`),
  ];
  const languages = [...new Set([...bySubject, ...byMarker, ...byOoo])];
  return { signals, languages, outOfOffice: byOoo.length > 0 };
}
