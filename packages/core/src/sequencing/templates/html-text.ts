/** Rendered HTML to plain text: the text part of an email and plain-text previews. */

const ENTITIES: Record<string, string> = {
  "&amp;": "&",
  "&lt;": "<",
  "&gt;": ">",
  "&quot;": '"',
  "&#x27;": "'",
  "&#39;": "'",
  "&#x60;": "`",
  "&#x3D;": "=",
  "&nbsp;": " ",
};

/** Decode the entities Handlebars' escaping produces (and numeric ones), in one pass. */
export function decodeEntities(s: string): string {
  return s.replace(/&(?:amp|lt|gt|quot|nbsp|#x27|#39|#x60|#x3D);|&#(\d{1,7});|&#x([0-9a-f]{1,6});/gi, (m, dec, hex) => {
    if (dec || hex) {
      const code = dec ? Number(dec) : Number.parseInt(hex, 16);
      return code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : m;
    }
    return ENTITIES[m] ?? ENTITIES[m.toLowerCase()] ?? m;
  });
}

/** Plain text from rendered HTML: block tags become line breaks, links keep their URL, tags go. */
export function htmlToText(html: string): string {
  const out = html
    .replace(/<(script|style|head)\b[^>]*>[\s\S]*?<\/\1\s*>/gi, "")
    .replace(/<!--[\s\S]*?-->/g, "")
    .replace(/[ \t\r\n]+/g, " ")
    .replace(/<a\b[^>]*?\bhref\s*=\s*"([^"]*)"[^>]*>([\s\S]*?)<\/a\s*>/gi, (_m, href: string, inner: string) => {
      const label = inner.replace(/<[^>]*>/g, "").trim();
      const url = decodeEntities(href);
      return !label || decodeEntities(label) === url ? href : `${inner} (${href})`;
    })
    .replace(/<br\s*\/?>/gi, "\n")
    .replace(/<li\b[^>]*>/gi, "\n- ")
    .replace(/<\/(p|div|h[1-6]|ul|ol|table|blockquote)\s*>/gi, "\n\n")
    .replace(/<\/li\s*>/gi, "")
    .replace(/<\/tr\s*>/gi, "\n")
    .replace(/<(p|div|h[1-6]|ul|ol|table|blockquote|tr)\b[^>]*>/gi, "\n")
    .replace(/<[^>]*>/g, "");
  return decodeEntities(out)
    .split("\n")
    .map((l) => l.replace(/[ \t]+/g, " ").trim())
    .join("\n")
    .replace(/\n{3,}/g, "\n\n")
    .trim();
}
