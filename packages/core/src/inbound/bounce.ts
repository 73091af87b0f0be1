import type { BounceDetails, BouncedRecipient, BounceType } from "./classification.js";
import { typedAddress } from "./header-block.js";
import type { InboundMessage, InboundReport } from "./message.js";
import { normalizeMessageId } from "./message-ids.js";

const STATUS = /\b([245])\.(\d{1,3})\.(\d{1,3})\b/;
/** Permanent-failure wording of MTAs that give no status code. */
const PERMANENT_TEXT =
  /(user unknown|unknown user|no such (user|mailbox|recipient)|does not exist|doesn't exist|mailbox unavailable|mailbox not found|invalid (recipient|mailbox|address)|recipient (address )?rejected|address rejected|not our customer|account (has been )?disabled|no mailbox here)/i;
const BOUNCE_SENDER = /^(mailer-daemon|postmaster|mail-daemon|mailerdaemon)@/i;
const BOUNCE_SUBJECT =
  /(undeliver|undelivered mail|delivery status notification|delivery (has )?failed|failure notice|mail delivery (failed|failure|system)|returned mail|delivery failure|non[- ]?delivery|message not delivered|could not be delivered|unzustellbar|non remis|no se puede entregar|non recapitabile|não entregue|onbestelbaar)/i;

/** Soft unless the status class is 5 (RFC 3463 §3.1: 4.x.x persistent transient, 5.x.x permanent). */
export function bounceTypeOf(status: string | null, diagnostic: string | null, action: string): BounceType {
  const code = status ?? STATUS.exec(diagnostic ?? "")?.[0] ?? null;
  if (action === "delayed") return "soft";
  if (code) return code.startsWith("5") ? "hard" : "soft";
  return PERMANENT_TEXT.test(diagnostic ?? "") ? "hard" : "soft";
}

/** An RFC 3464 report: the recipients that failed or are delayed; null when the DSN reports only successes. */
export function dsnBounce(report: InboundReport): BounceDetails | null {
  const recipients: BouncedRecipient[] = [];
  for (const block of report.recipients) {
    const action = (block.action ?? "")
      .toLowerCase()
      .replace(/\s*\(.*\)$/, "")
      .trim();
    if (action !== "failed" && action !== "delayed") continue;
    const status = STATUS.exec(block.status ?? "")?.[0] ?? null;
    const diagnostic = block["diagnostic-code"]?.replace(/^[a-z-]+\s*;\s*/i, "") ?? null;
    const address = typedAddress(block["final-recipient"]) ?? typedAddress(block["original-recipient"]);
    if (!address) continue;
    recipients.push({
      address,
      originalAddress: typedAddress(block["original-recipient"]),
      action,
      status,
      diagnostic,
      bounceType: bounceTypeOf(status, diagnostic, action),
    });
  }
  if (recipients.length === 0) return null;
  // Gmail also names the original in the per-message fields, for when no copy is attached.
  const fromFields = report.fields["x-original-message-id"];
  const originalMessageId =
    originalMessageIdOf(report.original) ?? (fromFields ? normalizeMessageId(fromFields) : null);
  return { bounceType: worst(recipients), recipients, originalMessageId };
}

/**
 * A bounce without a report part (qmail's "failure notice", Exim's "Mail delivery failed"): sent
 * by MAILER-DAEMON or postmaster with a bounce-like subject. Hard only when the text gives a
 * 5.x.x status or says the mailbox does not exist.
 */
export function plainTextBounce(msg: InboundMessage): BounceDetails | null {
  const sender = msg.from?.address ?? msg.headers["return-path"] ?? "";
  const fromDaemon =
    BOUNCE_SENDER.test(sender.replace(/^<|>$/g, "")) || /^<?>?$/.test(msg.headers["return-path"] ?? "x");
  if (!fromDaemon || !BOUNCE_SUBJECT.test(msg.subject)) return null;
  const notice = noticeOf(msg.text);
  const status = STATUS.exec(notice)?.[0] ?? null;
  const bounceType = bounceTypeOf(status, notice, "failed");
  const diagnostic = lastLines(notice, 3);
  const addresses = failedAddresses(msg, notice);
  const recipients = addresses.map((address) => ({
    address,
    originalAddress: null,
    action: "failed",
    status,
    diagnostic,
    bounceType,
  }));
  return { bounceType, recipients, originalMessageId: originalIdInText(msg.text) };
}

/** The MTA's explanation: the text before the returned copy of the message. */
function noticeOf(text: string): string {
  const cut = text.search(
    /^(-{2,}.*(below this line|original message|returned message|message headers|copy of the message).*|--- Below this line.*)$/im,
  );
  return cut === -1 ? text : text.slice(0, cut);
}

/** The end of the notice, where MTAs put the remote server's answer. */
function lastLines(text: string, n: number): string | null {
  const lines = text
    .split("\n")
    .map((l) => l.trim())
    .filter(Boolean);
  return lines.slice(-n).join(" ").slice(0, 500) || null;
}

function failedAddresses(msg: InboundMessage, notice: string): string[] {
  const header = msg.headers["x-failed-recipients"];
  const fromHeader = header ? header.split(/[,\s]+/).filter((a) => a.includes("@")) : [];
  const ids = notice.replace(/^.*message-id.*$/gim, "");
  const inText = [...ids.matchAll(/<?([a-z0-9._%+'-]+@[a-z0-9.-]+\.[a-z]{2,})>?/gi)].map((m) => m[1] ?? "");
  const own = new Set([msg.from?.address, ...msg.to.map((t) => t.address)]);
  const found = [...fromHeader, ...inText]
    .map((a) => a.toLowerCase())
    .filter((a) => !own.has(a) && !BOUNCE_SENDER.test(a));
  return [...new Set(found)];
}

function originalIdInText(text: string): string | null {
  const m = /^message-id:\s*(<[^>\s]+>)/im.exec(text);
  return m?.[1] ? normalizeMessageId(m[1]) : null;
}

/** The normalised Message-ID of a returned original's headers. */
export function originalMessageIdOf(headers: Record<string, string> | null): string | null {
  const raw = headers?.["message-id"];
  return raw ? normalizeMessageId(raw) : null;
}

function worst(recipients: readonly BouncedRecipient[]): BounceType {
  return recipients.some((r) => r.bounceType === "hard") ? "hard" : "soft";
}
