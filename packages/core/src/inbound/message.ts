import { type AddressObject, type Attachment, type ParsedMail, simpleParser } from "mailparser";
import { z } from "zod";
import { headerSection, parseHeaderBlock, parseHeaderBlocks } from "./header-block.js";
import { messageIdsIn, normalizeMessageId } from "./message-ids.js";

/** The headers classification reads (lower-case names); everything else is left out of the message. */
export const CLASSIFICATION_HEADERS = [
  "auto-submitted",
  "x-autoreply",
  "x-autorespond",
  "x-auto-response-suppress",
  "precedence",
  "x-precedence",
  "list-id",
  "list-unsubscribe",
  "return-path",
  "x-failed-recipients",
  "content-type",
] as const;

export const InboundAddress = z.object({ address: z.string(), name: z.string() });
export type InboundAddress = z.infer<typeof InboundAddress>;

/** A `multipart/report` (RFC 6522): its report type and the parsed machine-readable parts. */
export const InboundReport = z.object({
  /** The `report-type` parameter, lower-case: `delivery-status`, `feedback-report`, … */
  type: z.string(),
  /** Per-message fields of a DSN, or the fields of a feedback report (lower-case names). */
  fields: z.record(z.string(), z.string()),
  /** A DSN's per-recipient blocks (Final-Recipient, Action, Status, Diagnostic-Code, …). */
  recipients: z.array(z.record(z.string(), z.string())),
  /** Headers of the returned original (`message/rfc822` or `text/rfc822-headers`), when attached. */
  original: z.record(z.string(), z.string()).nullable(),
});
export type InboundReport = z.infer<typeof InboundReport>;

/** One received message, reduced to what matching and classification need. Ids are normalised (no brackets). */
export const InboundMessage = z.object({
  messageId: z.string().nullable(),
  inReplyTo: z.string().nullable(),
  references: z.array(z.string()),
  from: InboundAddress.nullable(),
  to: z.array(InboundAddress),
  subject: z.string(),
  /** ISO 8601, from the Date header; null when absent or unreadable. */
  date: z.string().nullable(),
  /** The {@link CLASSIFICATION_HEADERS} present, unfolded, first occurrence. */
  headers: z.record(z.string(), z.string()),
  /** Plain text; derived from the HTML part when there is no text part. */
  text: z.string(),
  report: InboundReport.nullable(),
});
export type InboundMessage = z.infer<typeof InboundMessage>;

/** Report parts kept as attachments; no work for what nobody reads (HTML of the text, links, attachment hashes). */
const PARSER_OPTIONS = {
  keepDeliveryStatus: true,
  skipTextToHtml: true,
  skipImageLinks: true,
  skipTextLinks: true,
  checksumAlgo: false,
} as const;
const MAX_TEXT = 200_000; // classification reads the top of a message; a 10 MB body adds nothing

/** Parse one raw RFC 5322 message. Never throws: unreadable input becomes a message with only text. */
export async function parseInbound(raw: Buffer | string): Promise<InboundMessage> {
  let mail: ParsedMail;
  try {
    mail = await simpleParser(raw, PARSER_OPTIONS);
  } catch {
    return emptyMessage(String(raw).slice(0, MAX_TEXT));
  }
  return toInboundMessage(mail, raw);
}

function toInboundMessage(mail: ParsedMail, raw: Buffer | string): InboundMessage {
  const headers = classificationHeaders(mail);
  const date = mail.date && !Number.isNaN(mail.date.getTime()) ? mail.date.toISOString() : null;
  return {
    messageId: mail.messageId ? normalizeMessageId(mail.messageId) : null,
    inReplyTo: messageIdsIn(mail.inReplyTo)[0] ?? null,
    references: [mail.references ?? []].flat().flatMap(messageIdsIn),
    from: addresses(mail.from)[0] ?? null,
    to: addresses(mail.to),
    subject: mail.subject ?? "",
    date,
    headers,
    text: (mail.text ?? "").slice(0, MAX_TEXT),
    report: reportOf(mail, headers["content-type"] ?? "", raw),
  };
}

function emptyMessage(text: string): InboundMessage {
  const base = { messageId: null, inReplyTo: null, references: [], from: null, to: [], subject: "", date: null };
  return { ...base, headers: {}, text, report: null };
}

function addresses(field: AddressObject | AddressObject[] | undefined): InboundAddress[] {
  const out: InboundAddress[] = [];
  const visit = (list: { address?: string; name: string; group?: unknown[] }[]) => {
    for (const a of list) {
      if (a.group) visit(a.group as typeof list);
      else if (a.address) out.push({ address: a.address.toLowerCase(), name: a.name ?? "" });
    }
  };
  for (const obj of [field ?? []].flat()) visit(obj.value);
  return out;
}

function classificationHeaders(mail: ParsedMail): Record<string, string> {
  const wanted = new Set<string>(CLASSIFICATION_HEADERS);
  const out: Record<string, string> = {};
  for (const { key, line } of mail.headerLines) {
    const name = key.toLowerCase();
    if (!wanted.has(name) || name in out) continue;
    const value = line.slice(line.indexOf(":") + 1);
    out[name] = value.replace(/\r?\n[ \t]+/g, " ").trim();
  }
  return out;
}

/** The report of a `multipart/report`, from its machine-readable attachment and the returned original. */
function reportOf(mail: ParsedMail, contentType: string, raw: Buffer | string): InboundReport | null {
  if (!/^\s*multipart\/report/i.test(contentType)) return null;
  const type = (/report-type\s*=\s*"?([a-z0-9./-]+)/i.exec(contentType)?.[1] ?? "").toLowerCase();
  const machine = mail.attachments.find((a) =>
    /^message\/(delivery-status|feedback-report|global-delivery-status)$/i.test(a.contentType),
  );
  const blocks = machine ? parseHeaderBlocks(attachmentText(machine)) : [];
  const isDsn = /delivery-status/i.test(machine?.contentType ?? type);
  return {
    type,
    fields: isDsn ? (blocks[0] ?? {}) : Object.assign({}, ...blocks.reverse()),
    recipients: isDsn ? blocks.slice(1) : [],
    original: originalHeaders(mail.attachments) ?? inlineOriginalHeaders(raw),
  };
}

function originalHeaders(attachments: Attachment[]): Record<string, string> | null {
  const part = attachments.find((a) => /^(message\/(rfc822|global)|text\/rfc822-headers)$/i.test(a.contentType));
  return part ? parseHeaderBlock(headerSection(attachmentText(part))) : null;
}

/** A returned-original part's own MIME headers, up to the blank line before the original's headers. */
const ORIGINAL_PART_HEADERS =
  /^content-type:[ \t]*(message\/(rfc822|global)|text\/rfc822-headers)\b.*\r?\n(?:[^\r\n]+\r?\n)*\r?\n/im;

/**
 * mailparser renders an inline `message/rfc822` part into the text (without its Message-ID)
 * instead of listing it as an attachment, so the part is found in the raw source. Such parts
 * are never transfer-encoded (RFC 2046 §5.2.1), so their headers are readable as they are.
 */
function inlineOriginalHeaders(raw: Buffer | string): Record<string, string> | null {
  const source = (typeof raw === "string" ? raw : raw.toString("latin1")).slice(0, MAX_TEXT * 5);
  const part = ORIGINAL_PART_HEADERS.exec(source);
  if (!part) return null;
  const headers = parseHeaderBlock(headerSection(source.slice(part.index + part[0].length)));
  return Object.keys(headers).length > 0 ? headers : null;
}

function attachmentText(a: Attachment): string {
  return a.content.toString("utf8").slice(0, MAX_TEXT);
}
