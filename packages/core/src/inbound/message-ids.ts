/**
 * Message-IDs as matching keys. Ours will be `<random@sender's domain>`: the local part is
 * case-sensitive (RFC 5322 §3.6.4 compares ids byte for byte), the domain is not, so only the
 * domain is lower-cased.
 */

/** `<Abc.123@Mail.Example.COM>` → `Abc.123@mail.example.com`; null when it has no `@`. */
export function normalizeMessageId(raw: string): string | null {
  const bare = raw.trim().replace(/^<+/, "").replace(/>+$/, "").trim();
  const at = bare.lastIndexOf("@");
  if (at <= 0 || at === bare.length - 1 || /\s/.test(bare)) return null;
  return `${bare.slice(0, at)}@${bare.slice(at + 1).toLowerCase()}`;
}

/** Every `<…>` id in a header value (References holds many), or the bare value when it has no brackets. */
export function messageIdsIn(value: string | null | undefined): string[] {
  if (!value) return [];
  const bracketed = [...value.matchAll(/<([^<>\s]+)>/g)].map((m) => m[1] ?? "");
  const ids = bracketed.length > 0 ? bracketed : value.split(/[\s,]+/);
  return ids.map(normalizeMessageId).filter((id): id is string => id !== null);
}

/**
 * The ids a reply may point at, best first: In-Reply-To, then References from the newest
 * (last) to the oldest, without duplicates.
 */
export function candidateMessageIds(msg: { inReplyTo: string | null; references: readonly string[] }): string[] {
  const ordered = [...messageIdsIn(msg.inReplyTo), ...msg.references.flatMap(messageIdsIn).reverse()];
  return [...new Set(ordered)];
}
