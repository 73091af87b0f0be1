import type { z } from "zod";
import { canonicalTimeZone, isTimeZone } from "../shared/index.js";
import { type Delay, SendingWindow } from "./sequence.js";

/**
 * Sending windows in the recipient's time zone, with nothing but Intl: local wall time <-> UTC
 * conversion that is right across DST changes (a wall time in a spring-forward gap moves to
 * just after it; an ambiguous one in a fall-back overlap takes its first occurrence).
 */

/**
 * Workspace sending settings: the default window (its zone is the last fallback after the
 * contact's and the account's) with its holidays. A window must end after it starts.
 */
export const SendingSettings = SendingWindow.superRefine((w, ctx) => {
  if (!isTimeZone(w.timezone))
    ctx.addIssue({ code: "custom", path: ["timezone"], message: "not an IANA time zone (e.g. Europe/Berlin)" });
  if (w.end > "24:00") ctx.addIssue({ code: "custom", path: ["end"], message: "end is at most 24:00" });
  if (minutesOf(w.end) <= minutesOf(w.start))
    ctx.addIssue({ code: "custom", path: ["end"], message: `end (${w.end}) must be after start (${w.start})` });
}).transform((w) => ({
  ...w,
  timezone: isTimeZone(w.timezone) ? canonicalTimeZone(w.timezone) : w.timezone,
  days: [...new Set(w.days)].sort(),
  holidays: [...new Set(w.holidays)].sort(),
}));
export type SendingSettings = z.infer<typeof SendingSettings>;

export const DEFAULT_SENDING_WINDOW: SendingWindow = {
  timezone: "UTC",
  days: [1, 2, 3, 4, 5],
  start: "08:00",
  end: "18:00",
  holidays: [],
};

const minutesOf = (hhmm: string) => {
  const [h = "0", m = "0"] = hhmm.split(":");
  return Number(h) * 60 + Number(m);
};

const formatters = new Map<string, Intl.DateTimeFormat>();
function formatter(tz: string): Intl.DateTimeFormat {
  let f = formatters.get(tz);
  if (!f) {
    f = new Intl.DateTimeFormat("en-US", {
      timeZone: tz,
      hourCycle: "h23",
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
      hour: "2-digit",
      minute: "2-digit",
      second: "2-digit",
    });
    formatters.set(tz, f);
  }
  return f;
}

/** Wall-clock fields of an instant in a zone (month 1-12). */
export type LocalTime = { year: number; month: number; day: number; hour: number; minute: number; second: number };

export function localTime(at: Date | number, tz: string): LocalTime {
  const t = typeof at === "number" ? at : at.getTime();
  const out: Record<string, number> = {};
  for (const p of formatter(tz).formatToParts(t)) if (p.type !== "literal") out[p.type] = Number(p.value);
  return {
    year: out.year ?? 1970,
    month: out.month ?? 1,
    day: out.day ?? 1,
    hour: (out.hour ?? 0) % 24,
    minute: out.minute ?? 0,
    second: out.second ?? 0,
  };
}

/** The zone's offset from UTC at an instant, in ms (Berlin in summer: +7_200_000). */
function offsetAt(t: number, tz: string): number {
  const l = localTime(t, tz);
  const asUtc = Date.UTC(l.year, l.month - 1, l.day, l.hour, l.minute, l.second);
  return asUtc - Math.floor(t / 1000) * 1000;
}

/** Local date + seconds of the day -> the UTC instant (gap: just after it; overlap: first occurrence). */
function zonedInstant(year: number, month: number, day: number, secondOfDay: number, tz: string): number {
  const wall = Date.UTC(year, month - 1, day) + secondOfDay * 1000;
  const o1 = offsetAt(wall, tz);
  const t1 = wall - o1;
  const o2 = offsetAt(t1, tz);
  if (o1 === o2) {
    // Overlap: an hour earlier may show the same wall time too (the first occurrence).
    const o0 = offsetAt(t1 - 3 * 3_600_000, tz);
    if (o0 !== o1 && wall - o0 < t1 && offsetAt(wall - o0, tz) === o0) return wall - o0;
    return t1;
  }
  const t2 = wall - o2;
  const matches = (t: number, o: number) => offsetAt(t, tz) === o;
  const ok1 = matches(t1, o1);
  const ok2 = matches(t2, o2);
  if (ok1 && ok2) return Math.min(t1, t2);
  if (ok1) return t1;
  if (ok2) return t2;
  return Math.max(t1, t2); // in a gap: the wall time shifted by the gap, i.e. just after it
}

const dayKey = (y: number, m: number, d: number) =>
  `${String(y).padStart(4, "0")}-${String(m).padStart(2, "0")}-${String(d).padStart(2, "0")}`;
/** ISO weekday of a calendar date: 1 = Monday … 7 = Sunday. */
const isoWeekday = (y: number, m: number, d: number) => {
  const wd = new Date(Date.UTC(y, m - 1, d)).getUTCDay();
  return wd === 0 ? 7 : wd;
};
/** The calendar date `n` days after y-m-d. */
const plusDays = (y: number, m: number, d: number, n: number) => {
  const t = new Date(Date.UTC(y, m - 1, d + n));
  return { y: t.getUTCFullYear(), m: t.getUTCMonth() + 1, d: t.getUTCDate() };
};

/** A date on which the window opens at all: a window weekday that is no holiday. */
function isSendingDay(window: SendingWindow, y: number, m: number, d: number): boolean {
  return window.days.includes(isoWeekday(y, m, d)) && !window.holidays.includes(dayKey(y, m, d));
}

/** True when `at` falls inside the window (on a sending day, start <= local time < end). */
export function isInsideWindow(at: Date, window: SendingWindow, tz: string): boolean {
  const l = localTime(at, tz);
  if (!isSendingDay(window, l.year, l.month, l.day)) return false;
  const sec = l.hour * 3600 + l.minute * 60 + l.second;
  return sec >= minutesOf(window.start) * 60 && sec < minutesOf(window.end) * 60;
}

/** Deterministic fraction in [0, 1) from a string (FNV-1a). */
function fraction(seed: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < seed.length; i++) {
    h ^= seed.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 15;
  h = Math.imul(h, 0x2c1b3c6d);
  h ^= h >>> 12;
  return (h >>> 0) / 4294967296;
}

/** Spread over the first minutes of an opening, so steps due overnight do not all go out at 08:00:00. */
export const MAX_JITTER_MS = 20 * 60_000;
/** Sending days looked at before giving up (a window can be closed for at most a year of holidays). */
const HORIZON_DAYS = 800;

/**
 * `at` itself when it is inside the window; otherwise the next opening in `tz`, plus a jitter
 * of up to ~20 minutes derived from `jitterSeed` (never reaching the window's end).
 */
export function nextWindowOpening(at: Date, window: SendingWindow, tz: string, jitterSeed?: string): Date {
  if (isInsideWindow(at, window, tz)) return at;
  const start = minutesOf(window.start) * 60;
  const end = minutesOf(window.end) * 60;
  if (end <= start) throw new Error(`sending window ends (${window.end}) before it starts (${window.start})`);
  const l = localTime(at, tz);
  const t = at.getTime();
  for (let i = 0; i < HORIZON_DAYS; i++) {
    const { y, m, d } = plusDays(l.year, l.month, l.day, i);
    if (!isSendingDay(window, y, m, d)) continue;
    const opening = zonedInstant(y, m, d, start, tz);
    if (opening < t || !isInsideWindow(new Date(opening), window, tz)) continue;
    const closing = zonedInstant(y, m, d, end, tz);
    if (!jitterSeed) return new Date(opening);
    const span = Math.min(MAX_JITTER_MS, closing - opening - 1000);
    const jittered = new Date(opening + Math.floor(fraction(jitterSeed) * Math.max(0, span)));
    return isInsideWindow(jittered, window, tz) ? jittered : new Date(opening);
  }
  throw new Error(`sending window never opens within ${HORIZON_DAYS} days of ${at.toISOString()}`);
}

/**
 * When a step with `delay` after `from` becomes due (before the window is applied). Minutes and
 * hours are elapsed time; business days count the window's sending days (holidays excluded)
 * in `tz`, keeping the local time of day: Friday 17:00 + 1 business day = Monday 17:00.
 */
export function addDelay(from: Date, delay: Delay, window: SendingWindow, tz: string): Date {
  if (delay.unit === "minutes") return new Date(from.getTime() + delay.amount * 60_000);
  if (delay.unit === "hours") return new Date(from.getTime() + delay.amount * 3_600_000);
  if (delay.amount === 0) return from;
  const l = localTime(from, tz);
  let counted = 0;
  for (let i = 1; i < delay.amount * 7 + 800; i++) {
    const { y, m, d } = plusDays(l.year, l.month, l.day, i);
    if (!isSendingDay(window, y, m, d)) continue;
    if (++counted === delay.amount) {
      const ms = from.getTime() % 1000;
      return new Date(zonedInstant(y, m, d, l.hour * 3600 + l.minute * 60 + l.second, tz) + ms);
    }
  }
  throw new Error(`no ${delay.amount} sending days after ${from.toISOString()}`);
}

/** The first valid zone among the contact's, the account's and the workspace window's. */
export function timeZoneFor(
  contact: { timezone?: string | undefined } | undefined,
  account: { timezone?: string | undefined } | undefined,
  workspaceWindow: { timezone: string },
): string {
  for (const tz of [contact?.timezone, account?.timezone, workspaceWindow.timezone])
    if (tz && isTimeZone(tz)) return tz;
  return "UTC";
}
