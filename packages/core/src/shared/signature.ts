import { createHmac, timingSafeEqual } from "node:crypto";

/**
 * The webhook signature header, `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">`, both
 * ways: outbound (we sign, receivers verify) and inbound (providers sign, we verify). The
 * timestamp is signed with the body and a check refuses one too far from now, which stops
 * replays. A header may carry several v1 values (a sender rotating its secret); one match is enough.
 */

/** Constant-time equality. Unequal lengths fail at once: only the length leaks, never the content. */
export function safeEqual(a: string | Uint8Array, b: string | Uint8Array): boolean {
  const x = typeof a === "string" ? Buffer.from(a) : a;
  const y = typeof b === "string" ? Buffer.from(b) : b;
  return x.length === y.length && timingSafeEqual(x, y);
}

const mac = (secret: string, t: number, body: string) => createHmac("sha256", secret).update(`${t}.${body}`).digest();

/** The header value for `body` signed with `secret` at `t` (unix seconds). */
export function signatureHeader(secret: string, body: string, t: number): string {
  return `t=${t},v1=${mac(secret, t, body).toString("hex")}`;
}

export type SignatureCheck = { ok: true; t: number; v1: string } | { ok: false; reason: string };

/** The header's comma-separated `key=value` pairs; a repeated key keeps every value, in order. */
function headerParts(header: string): Map<string, string[]> {
  const parts = new Map<string, string[]>();
  for (const p of header.split(",")) {
    const i = p.indexOf("=");
    if (i <= 0) continue;
    const k = p.slice(0, i).trim();
    parts.set(k, [...(parts.get(k) ?? []), p.slice(i + 1).trim()]);
  }
  return parts;
}

const windowName = (seconds: number) => (seconds % 60 === 0 ? `${seconds / 60}-minute` : `${seconds}-second`);

/**
 * Check a signature header against the raw body: well-formed (the first `t`, hex v1 values),
 * a timestamp within `toleranceSeconds` of `nowSeconds`, and a v1 that matches.
 */
export function checkSignature(
  secret: string,
  header: string | undefined,
  body: string,
  nowSeconds: number,
  toleranceSeconds: number,
): SignatureCheck {
  if (!header) return { ok: false, reason: "missing X-ICP-Signature header" };
  const parts = headerParts(header);
  const tRaw = parts.get("t")?.[0];
  const t = tRaw && /^\d{1,12}$/.test(tRaw) ? Number(tRaw) : undefined;
  const sigs = (parts.get("v1") ?? []).filter((s) => /^[0-9a-f]{64}$/i.test(s));
  if (t === undefined || !sigs.length)
    return { ok: false, reason: "malformed X-ICP-Signature (want t=<unix>,v1=<hex>)" };
  if (Math.abs(nowSeconds - t) > toleranceSeconds)
    return { ok: false, reason: `signature timestamp outside the ${windowName(toleranceSeconds)} window` };
  const want = mac(secret, t, body);
  for (const s of sigs) if (safeEqual(Buffer.from(s, "hex"), want)) return { ok: true, t, v1: s.toLowerCase() };
  return { ok: false, reason: "signature does not match" };
}
