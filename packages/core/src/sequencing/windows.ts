import type { z } from "zod";
import { canonicalTimeZone, isTimeZone } from "../shared/index.js";
import { type Delay, SendingWindow } from "./sequence.js";

/**
 * Sending windows in the recipient's time zone, with nothing but Intl: local wall time <-> UTC
 * conversion that is right across DST changes (a wall time in a spring-forward gap moves to
 * the end of the gap, the instant of the jump; an ambiguous one in a fall-back overlap takes its
 * first occurrence).
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

const DAY_MS = 86_400_000;

/**
 * The first whole second in (lo, hi] whose offset differs from `lo`'s: the zone's transition
 * between two instants with different offsets (assumes at most one transition between them).
 */
function transitionBetween(lo: number, hi: number, tz: string): number {
  const before = offsetAt(lo, tz);
  let a = Math.floor(lo / 1000);
  let b = Math.ceil(hi / 1000);
  while (b - a > 1) {
    const mid = Math.floor((a + b) / 2);
    if (offsetAt(mid * 1000, tz) === before) a = mid;
    else b = mid;
  }
  return b * 1000;
}

/**
 * Every instant at which the zone's clock shows this local date and time, earliest first: one,
 * two in a fall-back overlap, none in a spring-forward gap. The offsets tried are those in force
 * a day either side, which covers any zone with at most one transition in two days.
 */
function wallInstants(year: number, month: number, day: number, secondOfDay: number, tz: string): number[] {
  const wall = Date.UTC(year, month - 1, day) + secondOfDay * 1000;
  const offsets = new Set([offsetAt(wall - DAY_MS, tz), offsetAt(wall, tz), offsetAt(wall + DAY_MS, tz)]);
  return [...offsets]
    .map((o) => wall - o)
    .filter((t) => offsetAt(t, tz) === wall - t)
    .sort((a, b) => a - b);
}

/**
 * Local date + seconds of the day -> the UTC instant. Overlap: the first occurrence. Gap: the
 * transition itself, the first instant after the gap (02:30 on the night clocks jump 02:00 ->
 * 03:00 is 03:00, not 03:30: a window opening at 02:30 is open from the jump on).
 */
function zonedInstant(year: number, month: number, day: number, secondOfDay: number, tz: string): number {
  const [first] = wallInstants(year, month, day, secondOfDay, tz);
  if (first !== undefined) return first;
  const wall = Date.UTC(year, month - 1, day) + secondOfDay * 1000;
  const before = offsetAt(wall - DAY_MS, tz);
  const after = offsetAt(wall + DAY_MS, tz);
  return transitionBetween(wall - Math.max(before, after), wall - Math.min(before, after), tz);
}

/** The zone's transition during a local date, if it has one (a day on which clocks change). */
function transitionOn(year: number, month: number, day: number, tz: string): number | undefined {
  const midnight = Date.UTC(year, month - 1, day);
  const lo = midnight - offsetAt(midnight, tz);
  const hi = midnight + DAY_MS - offsetAt(midnight + DAY_MS, tz);
  return offsetAt(lo, tz) === offsetAt(hi, tz) ? undefined : transitionBetween(lo, hi, tz);
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
 * The earliest instant from `t` on at which the window opens on a local date: the start's wall
 * time (either occurrence in a fall-back overlap), or the clock change itself when it jumps over
 * the start (spring forward) or back into the window (fall back).
 */
function firstOpeningOn(y: number, m: number, d: number, window: SendingWindow, tz: string, t: number) {
  const candidates = [...wallInstants(y, m, d, minutesOf(window.start) * 60, tz), transitionOn(y, m, d, tz)];
  let first: number | undefined;
  for (const c of candidates)
    if (c !== undefined && c >= t && (first === undefined || c < first) && isInsideWindow(new Date(c), window, tz))
      first = c;
  return first;
}

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
    const opening = firstOpeningOn(y, m, d, window, tz, t);
    if (opening === undefined) continue;
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
