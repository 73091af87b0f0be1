import { addDelay, isInsideWindow, localTime, nextWindowOpening, type SendingWindow } from "@icp/core";
import fc from "fast-check";
import { DateTime } from "luxon";
import { describe, expect, it } from "vitest";

/**
 * Sending windows across DST changes, checked against Luxon as an independent oracle (our code
 * does the zone arithmetic with Intl alone). Zones with unusual offsets or DST steps: Sydney and
 * Adelaide (+9:30/+10:30), Dublin (IST is "standard" time in tzdata), Chatham (+12:45/+13:45),
 * Lord Howe (30-minute DST) and Kathmandu (+5:45, no DST).
 */

const ALL_DAYS = [1, 2, 3, 4, 5, 6, 7];
const W = (over: Partial<SendingWindow> = {}): SendingWindow => ({
  timezone: "UTC",
  days: ALL_DAYS,
  start: "08:00",
  end: "18:00",
  holidays: [],
  ...over,
});
const iso = (d: Date) => d.toISOString();

describe("DST examples", () => {
  it("Australia/Sydney (4 October 2026, 02:00 AEST -> 03:00 AEDT): a 02:30-05:00 window opens at the jump, 03:00", () => {
    const w = W({ start: "02:30", end: "05:00" });
    const r = nextWindowOpening(new Date("2026-10-03T13:00:00Z"), w, "Australia/Sydney"); // 23:00 AEST
    expect(iso(r)).toBe("2026-10-03T16:00:00.000Z"); // 03:00 AEDT, not 03:30
    expect(isInsideWindow(r, w, "Australia/Sydney")).toBe(true);
    expect(isInsideWindow(new Date(r.getTime() - 1000), w, "Australia/Sydney")).toBe(false); // 01:59:59 AEST
    // Fall back (5 April 2026, 03:00 AEDT -> 02:00 AEST): 02:30 opens at its first occurrence.
    expect(iso(nextWindowOpening(new Date("2026-04-04T13:00:00Z"), w, "Australia/Sydney"))).toBe(
      "2026-04-04T15:30:00.000Z", // 02:30 AEDT
    );
  });

  it("Australia/Sydney: a business-day delay landing in the gap moves to its end", () => {
    const from = new Date("2026-10-02T16:30:00Z"); // Saturday 3 October 02:30 AEST
    const r = addDelay(from, { amount: 1, unit: "business_days" }, W(), "Australia/Sydney");
    expect(iso(r)).toBe("2026-10-03T16:00:00.000Z"); // Sunday 03:00 AEDT
  });

  it("Europe/Dublin (29 March 2026, 01:00 GMT -> 02:00 IST; back 25 October)", () => {
    const w = W({ start: "01:30", end: "05:00" });
    expect(iso(nextWindowOpening(new Date("2026-03-28T22:00:00Z"), w, "Europe/Dublin"))).toBe(
      "2026-03-29T01:00:00.000Z", // 02:00 IST, the jump
    );
    expect(iso(nextWindowOpening(new Date("2026-10-24T22:00:00Z"), w, "Europe/Dublin"))).toBe(
      "2026-10-25T00:30:00.000Z", // 01:30 IST, the first of the two
    );
    expect(iso(nextWindowOpening(new Date("2026-03-27T20:00:00Z"), W(), "Europe/Dublin"))).toBe(
      "2026-03-28T08:00:00.000Z", // Saturday 08:00 GMT
    );
    expect(iso(nextWindowOpening(new Date("2026-03-28T20:00:00Z"), W(), "Europe/Dublin"))).toBe(
      "2026-03-29T07:00:00.000Z", // Sunday 08:00 IST
    );
  });

  it("Pacific/Chatham (+12:45 -> +13:45 on 27 September 2026 at 02:45)", () => {
    const w = W({ start: "03:00", end: "06:00" });
    expect(iso(nextWindowOpening(new Date("2026-09-26T12:00:00Z"), w, "Pacific/Chatham"))).toBe(
      "2026-09-26T14:00:00.000Z", // 02:45 +12:45 = 03:45 +13:45
    );
    expect(iso(nextWindowOpening(new Date("2026-09-27T12:00:00Z"), W(), "Pacific/Chatham"))).toBe(
      "2026-09-27T18:15:00.000Z", // Monday 08:00 +13:45
    );
    expect(iso(nextWindowOpening(new Date("2026-09-25T12:00:00Z"), W(), "Pacific/Chatham"))).toBe(
      "2026-09-25T19:15:00.000Z", // Saturday 08:00 +12:45
    );
  });

  it("Australia/Lord_Howe (30-minute DST: 02:00 +10:30 -> 02:30 +11 on 4 October 2026)", () => {
    const w = W({ start: "02:15", end: "05:00" });
    expect(iso(nextWindowOpening(new Date("2026-10-03T13:00:00Z"), w, "Australia/Lord_Howe"))).toBe(
      "2026-10-03T15:30:00.000Z", // the jump, shown as 02:30 +11 (not 02:45)
    );
    // Fall back (5 April 2026, 02:00 +11 -> 01:30 +10:30): 01:45 opens at its first occurrence.
    const early = W({ start: "01:45", end: "05:00" });
    expect(iso(nextWindowOpening(new Date("2026-04-04T12:00:00Z"), early, "Australia/Lord_Howe"))).toBe(
      "2026-04-04T14:45:00.000Z", // 01:45 +11
    );
  });

  it("Asia/Kathmandu (+5:45, no DST)", () => {
    const sat = new Date("2026-03-06T23:00:00Z"); // Saturday 04:45
    expect(iso(nextWindowOpening(sat, W({ days: [1, 2, 3, 4, 5] }), "Asia/Kathmandu"))).toBe(
      "2026-03-09T02:15:00.000Z", // Monday 08:00
    );
    expect(localTime(new Date("2026-07-01T00:00:00Z"), "Asia/Kathmandu")).toMatchObject({ hour: 5, minute: 45 });
  });

  it("Australia/Adelaide (+9:30 -> +10:30 on 4 October 2026 at 02:00)", () => {
    const w = W({ start: "02:30", end: "05:00" });
    expect(iso(nextWindowOpening(new Date("2026-10-03T13:00:00Z"), w, "Australia/Adelaide"))).toBe(
      "2026-10-03T16:30:00.000Z", // 02:00 ACST = 03:00 ACDT
    );
    expect(iso(nextWindowOpening(new Date("2026-10-03T13:00:00Z"), W({ days: [1] }), "Australia/Adelaide"))).toBe(
      "2026-10-04T21:30:00.000Z", // Monday 5 October 08:00 ACDT
    );
  });

  it("a fall-back jump into the window opens it (America/New_York, 00:30-01:30 after 01:45 EDT)", () => {
    const w = W({ start: "00:30", end: "01:30" });
    expect(iso(nextWindowOpening(new Date("2026-11-01T05:45:00Z"), w, "America/New_York"))).toBe(
      "2026-11-01T06:00:00.000Z", // 02:00 EDT = 01:00 EST
    );
  });
});

// ---------------------------------------------------------------------------------------------
// Luxon oracle

const ZONES = [
  "Australia/Sydney",
  "Europe/Dublin",
  "Pacific/Chatham",
  "Australia/Lord_Howe",
  "Asia/Kathmandu",
  "Australia/Adelaide",
  "America/New_York",
];
const MINUTE = 60_000;
const QUARTER = 15 * MINUTE;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

const lux = (t: number, tz: string) => DateTime.fromMillis(t, { zone: tz });
const offsetMs = (t: number, tz: string) => lux(t, tz).offset * MINUTE;

/** Every offset change of a zone in [from, to), to the second (Luxon offsets, scanned every 6 hours). */
function transitions(tz: string, from: number, to: number): number[] {
  const out: number[] = [];
  for (let t = from; t < to; t += 6 * HOUR) {
    if (offsetMs(t, tz) === offsetMs(t + 6 * HOUR, tz)) continue;
    let [lo, hi] = [t / 1000, (t + 6 * HOUR) / 1000];
    while (hi - lo > 1) {
      const mid = Math.floor((lo + hi) / 2);
      if (offsetMs(mid * 1000, tz) === offsetMs(t, tz)) lo = mid;
      else hi = mid;
    }
    out.push(hi * 1000);
  }
  return out;
}

const FROM = Date.UTC(2025, 0, 1);
const TO = Date.UTC(2029, 0, 1);
/** Instants near which to probe: each zone's transitions 2025-2028 (Kathmandu has none: four fixed dates). */
const NEAR = ZONES.flatMap((tz) => {
  const ts = transitions(tz, FROM, TO);
  return (
    ts.length ? ts : [Date.UTC(2025, 2, 30), Date.UTC(2026, 9, 4), Date.UTC(2027, 3, 4), Date.UTC(2028, 9, 1)]
  ).map((t) => ({ tz, t }));
});

const fields = (d: DateTime) => ({
  year: d.year,
  month: d.month,
  day: d.day,
  hour: d.hour,
  minute: d.minute,
  second: d.second,
});
const minutesOf = (hhmm: string) => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));

function luxInside(t: number, w: SendingWindow, tz: string): boolean {
  const l = lux(t, tz);
  if (!w.days.includes(l.weekday) || w.holidays.includes(l.toISODate() ?? "")) return false;
  const sec = l.hour * 3600 + l.minute * 60 + l.second;
  return sec >= minutesOf(w.start) * 60 && sec < minutesOf(w.end) * 60;
}

/**
 * First instant from `at` on inside the window, by brute force: window edges sit on quarter
 * hours, and so do all transitions of the zones probed, so the window can only open at `at` or
 * on the 15-minute UTC grid.
 */
function luxNextOpening(at: number, w: SendingWindow, tz: string): number {
  if (luxInside(at, w, tz)) return at;
  for (let t = Math.ceil(at / QUARTER) * QUARTER; t < at + 16 * DAY; t += QUARTER) if (luxInside(t, w, tz)) return t;
  throw new Error("no opening within 16 days");
}

/**
 * The instant of a local wall time: its earliest occurrence, or in a gap the first instant
 * after it (the grid point where the offset changes).
 */
function luxWallInstant(wall: number, tz: string): number {
  const offsets = [offsetMs(wall - DAY, tz), offsetMs(wall + DAY, tz)];
  const wallOf = (t: number) => {
    const l = lux(t, tz);
    return Date.UTC(l.year, l.month - 1, l.day, l.hour, l.minute, l.second, l.millisecond);
  };
  const hits = offsets.map((o) => wall - o).filter((t) => wallOf(t) === wall);
  if (hits.length) return Math.min(...hits);
  const lo = wall - Math.max(...offsets);
  let t = Math.ceil(lo / QUARTER) * QUARTER;
  while (offsetMs(t, tz) === offsetMs(lo, tz)) t += QUARTER;
  return t + (wall % 1000);
}

function luxAddBusinessDays(from: number, n: number, w: SendingWindow, tz: string): number {
  const l = lux(from, tz);
  let date = DateTime.utc(l.year, l.month, l.day);
  for (let counted = 0; counted < n; ) {
    date = date.plus({ days: 1 });
    if (w.days.includes(date.weekday) && !w.holidays.includes(date.toISODate() ?? "")) counted++;
  }
  const wall = Date.UTC(date.year, date.month - 1, date.day, l.hour, l.minute, l.second, l.millisecond);
  return luxWallInstant(wall, tz);
}

// ---------------------------------------------------------------------------------------------
// Properties

const hm = (q: number) => `${String(Math.floor(q / 4)).padStart(2, "0")}:${String((q % 4) * 15).padStart(2, "0")}`;

/** A probe: a zone, an instant within two days of one of its transitions (often on the grid), a window. */
const probeArb = fc
  .record({
    near: fc.constantFrom(...NEAR),
    shift: fc.oneof(
      fc.integer({ min: -2 * DAY, max: 2 * DAY }),
      fc.integer({ min: -8, max: 8 }).map((q) => q * QUARTER),
      fc.integer({ min: -2, max: 2 }).map((s) => s * 1000),
    ),
    days: fc.uniqueArray(fc.integer({ min: 1, max: 7 }), { minLength: 1, maxLength: 7 }),
    startQ: fc.integer({ min: 0, max: 95 }),
    lenQ: fc.integer({ min: 1, max: 96 }),
    holidayOffsets: fc.uniqueArray(fc.integer({ min: -1, max: 9 }), { maxLength: 3 }),
  })
  .map(({ near, shift, days, startQ, lenQ, holidayOffsets }) => {
    const at = near.t + shift;
    const today = lux(at, near.tz).startOf("day");
    const holidays = holidayOffsets.map((d) => today.plus({ days: d }).toISODate() ?? "");
    const w = W({ days, start: hm(startQ), end: hm(Math.min(96, startQ + lenQ)), holidays });
    return { tz: near.tz, at, w };
  });

describe("DST properties against Luxon", () => {
  it("the zones' transitions sit on the 15-minute UTC grid (what the brute-force oracle relies on)", () => {
    const ts = NEAR.filter((n) => n.tz !== "Asia/Kathmandu");
    expect(ts.length).toBeGreaterThan(40);
    for (const { t } of ts) expect(t % QUARTER).toBe(0);
  });

  it("localTime matches Luxon's wall clock", () => {
    fc.assert(
      fc.property(probeArb, ({ tz, at }) => {
        expect(localTime(at, tz)).toEqual(fields(lux(at, tz)));
      }),
      { numRuns: 300 },
    );
  });

  it("isInsideWindow matches Luxon", () => {
    fc.assert(
      fc.property(probeArb, ({ tz, at, w }) => {
        expect(isInsideWindow(new Date(at), w, tz)).toBe(luxInside(at, w, tz));
      }),
      { numRuns: 300 },
    );
  });

  it("nextWindowOpening (unjittered) is the first instant inside the window, by Luxon", () => {
    fc.assert(
      fc.property(probeArb, ({ tz, at, w }) => {
        const want = luxNextOpening(at, w, tz);
        expect(iso(nextWindowOpening(new Date(at), w, tz))).toBe(iso(new Date(want)));
      }),
      { numRuns: 250 },
    );
  });

  it("nextWindowOpening with jitter stays inside the window, within 20 minutes of the opening", () => {
    fc.assert(
      fc.property(probeArb, fc.string({ maxLength: 8 }), ({ tz, at, w }, seed) => {
        const opening = nextWindowOpening(new Date(at), w, tz).getTime();
        const r = nextWindowOpening(new Date(at), w, tz, `s${seed}`).getTime();
        expect(luxInside(r, w, tz)).toBe(true);
        expect(r).toBeGreaterThanOrEqual(opening);
        expect(r - opening).toBeLessThan(20 * MINUTE);
      }),
      { numRuns: 150 },
    );
  });

  it("addDelay in business days keeps the wall time (a gap moves it to the jump), by Luxon", () => {
    fc.assert(
      fc.property(probeArb, fc.integer({ min: 1, max: 6 }), ({ tz, at, w }, n) => {
        const r = addDelay(new Date(at), { amount: n, unit: "business_days" }, w, tz);
        expect(iso(r)).toBe(iso(new Date(luxAddBusinessDays(at, n, w, tz))));
      }),
      { numRuns: 300 },
    );
  });

  it("addDelay in business days from a wall time that falls in a gap n days later lands on the jump, by Luxon", () => {
    // Spring-forward transitions and their gap length; `from` shows a wall time inside the gap k days before.
    const gaps = NEAR.map(({ tz, t }) => ({ tz, t, gap: offsetMs(t, tz) - offsetMs(t - 1000, tz) })).filter(
      (g) => g.gap > 0,
    );
    fc.assert(
      fc.property(
        fc.constantFrom(...gaps),
        fc.integer({ min: 1, max: 3 }),
        fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        ({ tz, t, gap }, k, u) => {
          const from = t - k * DAY + Math.floor(u * gap);
          const r = addDelay(new Date(from), { amount: k, unit: "business_days" }, W(), tz);
          expect(iso(r)).toBe(iso(new Date(luxAddBusinessDays(from, k, W(), tz))));
          expect(r.getTime() - (from + k * DAY)).toBeLessThanOrEqual(0); // never later than the same instant k days on
        },
      ),
      { numRuns: 200 },
    );
  });

  it("addDelay in minutes and hours is elapsed time", () => {
    fc.assert(
      fc.property(probeArb, fc.integer({ min: 0, max: 72 }), ({ tz, at, w }, h) => {
        expect(addDelay(new Date(at), { amount: h, unit: "hours" }, w, tz).getTime()).toBe(at + h * HOUR);
        expect(addDelay(new Date(at), { amount: h * 7, unit: "minutes" }, w, tz).getTime()).toBe(at + h * 7 * MINUTE);
      }),
      { numRuns: 100 },
    );
  });
});
