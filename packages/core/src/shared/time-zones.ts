import { z } from "zod";

/** IANA time zones: validation and canonical spelling, with nothing but Intl. */

const zoneCache = new Map<string, boolean>();

/** True for an IANA zone name this runtime knows ("Europe/Berlin", "UTC"). */
export function isTimeZone(tz: string): boolean {
  const hit = zoneCache.get(tz);
  if (hit !== undefined) return hit;
  let ok = false;
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: tz });
    ok = tz.length > 0 && tz.length <= 64;
  } catch {
    ok = false;
  }
  if (zoneCache.size < 10_000) zoneCache.set(tz, ok);
  return ok;
}

let byLowerCase: Map<string, string> | undefined;
/** The zone's usual spelling ("europe/berlin" -> "Europe/Berlin"); names are kept, not replaced by ICU's aliases. */
export function canonicalTimeZone(tz: string): string {
  byLowerCase ??= new Map(Intl.supportedValuesOf("timeZone").map((z) => [z.toLowerCase(), z]));
  return byLowerCase.get(tz.toLowerCase()) ?? tz;
}

/** An IANA time zone, validated and canonicalized. */
export const TimeZone = z
  .string()
  .trim()
  .min(1)
  .max(64)
  .refine(isTimeZone, { message: "not an IANA time zone (e.g. Europe/Berlin, America/New_York)" })
  .transform(canonicalTimeZone);
