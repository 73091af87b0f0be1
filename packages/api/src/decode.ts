import { Problem } from "./problem.js";

/**
 * Upload bytes -> text, the way spreadsheets actually save CSV: UTF-8 (BOM or not), UTF-16
 * with a BOM (Excel "Unicode text"), and otherwise windows-1252 (Excel's default "CSV" on
 * Windows), which every byte sequence decodes as. Binary files (xlsx, images, random bytes)
 * are refused rather than imported as mojibake rows.
 */

/** Share of control characters in the sample above which a body is binary, not text. */
const MAX_CONTROL_SHARE = 0.05;
const SAMPLE_CHARS = 64 * 1024;

/** C0 controls other than tab/LF/FF/CR, DEL, C1 controls and U+FFFD: absent from real CSV text. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: detecting control characters is the point
const CONTROL = /[\x01-\x08\x0b\x0e-\x1f\x7f-\x9f\ufffd]/g;

export type DecodedText = { text: string; encoding: "utf-8" | "utf-16le" | "utf-16be" | "windows-1252" };

/**
 * windows-1252's 0x80–0x9F (€ ‚ ƒ „ … † ‡ ˆ ‰ Š ‹ Œ Ž ‘ ’ “ ” • – — ˜ ™ š › œ ž Ÿ); its five
 * unassigned bytes stay C1 controls, as WHATWG decodes them.
 */
const CP1252_HIGH =
  "\u20ac\x81\u201a\u0192\u201e\u2026\u2020\u2021\u02c6\u2030\u0160\u2039\u0152\x8d\u017d\x8f" +
  "\x90\u2018\u2019\u201c\u201d\u2022\u2013\u2014\u02dc\u2122\u0161\u203a\u0153\x9d\u017e\u0178";

/** Node 20's TextDecoder("windows-1252") decodes latin1 (0x80–0x9F as C1 controls); map those bytes ourselves. */
function decodeWindows1252(bytes: Uint8Array): string {
  return new TextDecoder("windows-1252")
    .decode(bytes)
    .replace(/[\x80-\x9f]/g, (ch) => CP1252_HIGH[ch.charCodeAt(0) - 0x80] ?? ch);
}

function detect(bytes: Uint8Array): DecodedText {
  const [b0, b1, b2] = bytes;
  // Non-fatal after a BOM: the file said what it is; a stray bad byte becomes U+FFFD and is counted below.
  if (b0 === 0xef && b1 === 0xbb && b2 === 0xbf)
    return { text: new TextDecoder("utf-8").decode(bytes), encoding: "utf-8" };
  if (b0 === 0xff && b1 === 0xfe) return { text: new TextDecoder("utf-16le").decode(bytes), encoding: "utf-16le" };
  if (b0 === 0xfe && b1 === 0xff) return { text: new TextDecoder("utf-16be").decode(bytes), encoding: "utf-16be" };
  try {
    return { text: new TextDecoder("utf-8", { fatal: true }).decode(bytes), encoding: "utf-8" };
  } catch {
    return { text: decodeWindows1252(bytes), encoding: "windows-1252" };
  }
}

/** True when the text is mostly not text: a NUL anywhere, or many control characters at the start. */
export function looksBinary(text: string): boolean {
  if (text.includes("\0")) return true;
  const sample = text.slice(0, SAMPLE_CHARS);
  if (!sample) return false;
  const controls = sample.match(CONTROL)?.length ?? 0;
  return controls / sample.length > MAX_CONTROL_SHARE;
}

/** Decode an uploaded text file (BOM stripped); 400 problem naming the file when it is binary. */
export function decodeUpload(bytes: Uint8Array, filename?: string): DecodedText {
  const decoded = detect(bytes);
  if (looksBinary(decoded.text)) {
    const name = filename ? `"${filename.slice(0, 300)}"` : "the upload";
    const message = "the file is not text (binary data)";
    throw new Problem(
      "validation",
      `${name}: ${message}; save it as CSV (UTF-8 or Excel's CSV) or send application/json`,
      [{ field: "file", message }],
    );
  }
  return decoded;
}
