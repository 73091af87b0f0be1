/**
 * Normalize a website/domain the way users paste it into CRMs:
 * "HTTPS://www.Acme.com/about?x=1" -> "acme.com". Returns undefined when nothing
 * domain-like is left, so callers can report the row instead of storing junk.
 */
export function normalizeDomain(raw: string): string | undefined {
  let s = raw.trim().toLowerCase();
  if (!s) return undefined;
  s = s.replace(/^[a-z][a-z0-9+.-]*:\/\//, ""); // scheme
  s = s.replace(/^[^@/]*@/, ""); // user@ in URLs or a pasted email address
  s = s.split(/[/?#]/, 1)[0] ?? "";
  s = s.replace(/:\d+$/, ""); // port
  s = s.replace(/\.$/, "");
  while (/^www\d*\.[^.]+\.[^.]/.test(s)) s = s.replace(/^www\d*\./, ""); // www.www.acme.com, but keep www.com
  if (s.length > 253) return undefined;
  const labels = s.split(".");
  if (labels.length < 2) return undefined;
  const label = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;
  if (!labels.every((l) => label.test(l))) return undefined;
  if (!/^[a-z]{2,63}$|^xn--[a-z0-9-]+$/.test(labels[labels.length - 1] ?? "")) return undefined;
  return s;
}
