import * as chrono from "chrono-node";
import { LANGUAGES, type Language } from "./auto-reply-patterns.js";

const PARSERS: Record<Language, { parse: typeof chrono.parse }> = {
  en: chrono.en,
  fr: chrono.fr,
  de: chrono.de,
  es: chrono.es,
  it: chrono.it,
  pt: chrono.pt,
  nl: chrono.nl,
};

const DAY_MS = 86_400_000;
/** Farther than this, a date is a signature or a quoted event, not a return. */
const HORIZON_DAYS = 366;
/** "Back on 1 December" sent in mid-December is last year's sentence, not next year's return. */
const IMPLIED_YEAR_HORIZON_DAYS = 183;

/**
 * The return date an out-of-office text gives, as `YYYY-MM-DD`, relative to the message's date:
 * the latest calendar day after `reference` among the dates the text names (an absence is
 * written "from … until …", and the return is the end). Only results that name a day or a
 * weekday count: "from 1" alone is an hour to chrono. Parsers run for `languages`, and for all
 * seven when none was recognised.
 */
export function findReturnDate(text: string, reference: Date, languages: readonly Language[]): string | null {
  const refDay = dayOf(reference);
  const langs = languages.length > 0 ? languages : LANGUAGES;
  let best: string | null = null;
  for (const lang of langs) {
    for (const r of safeParse(lang, text, reference)) {
      const c = r.end ?? r.start;
      if (!r.start.isCertain("day") && !r.start.isCertain("weekday")) continue;
      const day = isoDay(c.get("year"), c.get("month"), c.get("day"));
      if (!day || day <= refDay) continue;
      const horizon = c.isCertain("year") ? HORIZON_DAYS : IMPLIED_YEAR_HORIZON_DAYS;
      if (Date.parse(day) - Date.parse(refDay) > horizon * DAY_MS) continue;
      if (!best || day > best) best = day;
    }
  }
  return best;
}

function safeParse(lang: Language, text: string, reference: Date): chrono.ParsedResult[] {
  try {
    return PARSERS[lang].parse(text.slice(0, 4_000), reference, { forwardDate: true });
  } catch {
    return []; // a locale parser choking on odd input means no date, not a failed classification
  }
}

function isoDay(y: number | null, m: number | null, d: number | null): string | null {
  if (!y || !m || !d) return null;
  return `${String(y).padStart(4, "0")}-${String(m).padStart(2, "0")}-${String(d).padStart(2, "0")}`;
}

function dayOf(d: Date): string {
  return d.toISOString().slice(0, 10);
}
