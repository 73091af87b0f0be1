import EmailReplyParser from "email-reply-parser";

/**
 * The new text of a reply: quoted history and signature removed. email-reply-parser knows the
 * "On … wrote:" family (Gmail, Apple Mail, and their French, German, Spanish, Italian, Portuguese
 * and Dutch forms) and "-----Original Message-----"; Outlook's header block without an address
 * in brackets ("From: Alice Smith" then "Sent: …") and attributions wrapped over several lines
 * are cut here first.
 */
const OUTLOOK_FROM = /^\s*\*?(from|de|von|van|da)\s?:\*?\s+\S/i;
const OUTLOOK_NEXT =
  /^\s*\*?(sent|date|envoyé|gesendet|datum|enviado|enviada|inviato|verzonden|data|to|à|an|para|a|aan)\s?:/i;
const RULE = /^\s*_{10,}\s*$/;
/** "On … wrote:" and its translations, which clients wrap over up to three lines. */
const ATTRIBUTION =
  /^\s*(on|le|am|el|il|em|op)\s.{0,200}\b(wrote|a écrit|schrieb|escribió|ha scritto|escreveu|schreef)\b.{0,160}:\s*$/i;

/** Created on first use, so that bundles which never read replies can drop the library. */
let parser: EmailReplyParser | undefined;

export function replyText(text: string): string {
  const lines = text.replace(/\r\n/g, "\n").split("\n");
  const cut = outlookHeaderAt(lines);
  const head = (cut === -1 ? lines : lines.slice(0, cut)).join("\n");
  let reply: string;
  try {
    parser ??= new EmailReplyParser();
    reply = parser.parseReply(head);
  } catch {
    reply = head; // the parser's regexes are defensive, but a reply must never fail on its text
  }
  return dropQuotedLines(reply).trim();
}

/** Index of the first line of a quoted header: an Outlook block or a wrapped attribution line; -1 when none. */
function outlookHeaderAt(lines: readonly string[]): number {
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] ?? "";
    if (RULE.test(line) && OUTLOOK_FROM.test(lines[i + 1] ?? "")) return i;
    if (OUTLOOK_FROM.test(line) && OUTLOOK_NEXT.test(lines[i + 1] ?? "")) return i;
    for (let n = 1; n <= 3; n++) if (ATTRIBUTION.test(lines.slice(i, i + n).join(" "))) return i;
  }
  return -1;
}

/** Quoted lines the parser left (a quote without a header, e.g. inline answers keep their own lines). */
function dropQuotedLines(text: string): string {
  return text
    .split("\n")
    .filter((l) => !/^\s*>/.test(l))
    .join("\n");
}
