import EmailReplyParser from "email-reply-parser";

/**
 * The new text of a reply: quoted history and signature removed. email-reply-parser knows the
 * "On … wrote:" family (Gmail, Apple Mail, and their French, German, Spanish, Italian, Portuguese
 * and Dutch forms) and "-----Original Message-----"; Outlook's header block without an address
 * in brackets ("From: Alice Smith" then "Sent: …") is cut here first.
 */
const OUTLOOK_FROM = /^\s*\*?(from|de|von|van|da)\s?:\*?\s+\S/i;
const OUTLOOK_NEXT =
  /^\s*\*?(sent|date|envoyé|gesendet|datum|enviado|enviada|inviato|verzonden|data|to|à|an|para|a|aan)\s?:/i;
const RULE = /^\s*_{10,}\s*$/;

const parser = new EmailReplyParser();

export function replyText(text: string): string {
  const lines = text.replace(/\r\n/g, "\n").split("\n");
  const cut = outlookHeaderAt(lines);
  const head = (cut === -1 ? lines : lines.slice(0, cut)).join("\n");
  let reply: string;
  try {
    reply = parser.parseReply(head);
  } catch {
    reply = head; // the parser's regexes are defensive, but a reply must never fail on its text
  }
  return dropQuotedLines(reply).trim();
}

/** Index of the first line of an Outlook-style quoted header block, or -1. */
function outlookHeaderAt(lines: readonly string[]): number {
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] ?? "";
    if (RULE.test(line) && OUTLOOK_FROM.test(lines[i + 1] ?? "")) return i;
    if (OUTLOOK_FROM.test(line) && OUTLOOK_NEXT.test(lines[i + 1] ?? "")) return i;
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
