/**
 * Header blocks outside the top-level message: the `message/delivery-status` (RFC 3464 §2) and
 * `message/feedback-report` (RFC 5965 §3) bodies, and the headers of an attached original message.
 * mailparser hands these over as raw attachment text, so they are read here.
 */

/** One header block: `Name: value` lines, continuation lines unfolded, names lower-cased; the first value wins. */
export function parseHeaderBlock(text: string): Record<string, string> {
  const fields: Record<string, string> = {};
  let name: string | null = null;
  for (const line of text.split(/\r?\n/)) {
    if (/^[ \t]/.test(line) && name) {
      fields[name] = `${fields[name]} ${line.trim()}`.trim();
      continue;
    }
    const m = /^([!-9;-~]+)[ \t]*:(.*)$/.exec(line);
    name = m ? (m[1] ?? "").toLowerCase() : null;
    if (name && m && !(name in fields)) fields[name] = (m[2] ?? "").trim();
    else if (name && m) name = null; // a repeated field keeps its first value; skip its continuations
  }
  return fields;
}

/** Blocks separated by blank lines: a DSN's per-message fields, then one block per recipient. */
export function parseHeaderBlocks(text: string): Record<string, string>[] {
  return text
    .replace(/\r\n/g, "\n")
    .split(/\n[ \t]*\n/)
    .map(parseHeaderBlock)
    .filter((b) => Object.keys(b).length > 0);
}

/** The header section of a raw message (everything before the first blank line). */
export function headerSection(raw: string): string {
  const m = /\r?\n\r?\n/.exec(raw);
  return m ? raw.slice(0, m.index) : raw;
}

/** `rfc822; bob@example.net` → `bob@example.net` (the address-type prefix of RFC 3464 §2.3.1 dropped). */
export function typedAddress(value: string | undefined): string | null {
  if (!value) return null;
  const bare = value
    .replace(/^[a-z0-9-]+\s*;\s*/i, "")
    .replace(/^<|>$/g, "")
    .trim();
  return bare.includes("@") ? bare.toLowerCase() : null;
}
