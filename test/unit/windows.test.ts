import {
  AccountInput,
  addDelay,
  Contact,
  isInsideWindow,
  localTime,
  nextWindowOpening,
  parseCsv,
  SendingSettings,
  type SendingWindow,
  timeZoneFor,
} from "@icp/core";
import fc from "fast-check";
import { describe, expect, it } from "vitest";

const W = (over: Partial<SendingWindow> = {}): SendingWindow => ({
  timezone: "UTC",
  days: [1, 2, 3, 4, 5],
  start: "08:00",
  end: "18:00",
  holidays: [],
  ...over,
});

/** Local "YYYY-MM-DD HH:MM" of an instant in a zone. */
const local = (d: Date, tz: string) => {
  const l = localTime(d, tz);
  const p = (n: number) => String(n).padStart(2, "0");
  return `${l.year}-${p(l.month)}-${p(l.day)} ${p(l.hour)}:${p(l.minute)}`;
};

const ZONES = [
  "UTC",
  "America/New_York",
  "America/Los_Angeles",
  "Europe/Berlin",
  "Europe/London",
  "Asia/Kolkata",
  "Asia/Kathmandu",
  "Pacific/Auckland",
  "Australia/Lord_Howe",
  "America/Sao_Paulo",
  "America/Santiago",
  "Asia/Tokyo",
];

describe("nextWindowOpening", () => {
  it("returns the instant itself inside the window", () => {
    const at = new Date("2026-03-04T10:15:00Z"); // Wednesday
    expect(nextWindowOpening(at, W(), "UTC", "seed")).toEqual(at);
  });

  it("moves a Saturday to Monday's opening, in the recipient's zone", () => {
    const sat = new Date("2026-03-07T12:00:00Z");
    expect(nextWindowOpening(sat, W(), "UTC").toISOString()).toBe("2026-03-09T08:00:00.000Z");
    expect(nextWindowOpening(sat, W(), "Asia/Kolkata").toISOString()).toBe("2026-03-09T02:30:00.000Z"); // 08:00 IST
  });

  it("after the window closes, opens the next sending day; skips holidays in the recipient's zone", () => {
    const evening = new Date("2026-12-24T19:00:00Z"); // Thursday 19:00 UTC
    const w = W({ holidays: ["2026-12-25"] });
    expect(nextWindowOpening(evening, w, "UTC").toISOString()).toBe("2026-12-28T08:00:00.000Z");
    // 14:00 in New York is still the 24th and inside the window.
    expect(nextWindowOpening(evening, w, "America/New_York")).toEqual(evening);
    // In Auckland it is already 08:00 on the 25th, a holiday there: Monday the 28th.
    expect(local(nextWindowOpening(evening, w, "Pacific/Auckland"), "Pacific/Auckland")).toBe("2026-12-28 08:00");
  });

  it("jitter is deterministic per seed, at most ~20 minutes, and spreads seeds", () => {
    const sat = new Date("2026-03-07T12:00:00Z");
    const opening = Date.parse("2026-03-09T08:00:00Z");
    const offsets = new Set<number>();
    for (let i = 0; i < 200; i++) {
      const a = nextWindowOpening(sat, W(), "UTC", `enr_${i}#0`);
      expect(nextWindowOpening(sat, W(), "UTC", `enr_${i}#0`)).toEqual(a);
      const off = a.getTime() - opening;
      expect(off).toBeGreaterThanOrEqual(0);
      expect(off).toBeLessThanOrEqual(20 * 60_000);
      offsets.add(Math.floor(off / 60_000));
    }
    expect(offsets.size).toBeGreaterThan(15);
  });

  it("jitter never runs past a short window's end", () => {
    const w = W({ start: "09:00", end: "09:05" });
    for (let i = 0; i < 100; i++) {
      const r = nextWindowOpening(new Date("2026-03-09T10:00:00Z"), w, "UTC", `s${i}`);
      expect(r.getTime()).toBeGreaterThanOrEqual(Date.parse("2026-03-10T09:00:00Z"));
      expect(r.getTime()).toBeLessThan(Date.parse("2026-03-10T09:05:00Z"));
    }
  });

  it("honours a window ending at midnight (24:00)", () => {
    const w = W({ start: "20:00", end: "24:00", days: [1, 2, 3, 4, 5, 6, 7] });
    expect(nextWindowOpening(new Date("2026-03-09T23:59:30Z"), w, "UTC")).toEqual(new Date("2026-03-09T23:59:30Z"));
    expect(nextWindowOpening(new Date("2026-03-10T00:00:00Z"), w, "UTC").toISOString()).toBe(
      "2026-03-10T20:00:00.000Z",
    );
  });

  describe("DST", () => {
    it("America/New_York spring forward (8 March 2026): 08:00 EDT is 12:00Z, the Friday before 08:00 EST is 13:00Z", () => {
      const w = W({ days: [1, 2, 3, 4, 5, 6, 7] });
      expect(nextWindowOpening(new Date("2026-03-06T23:30:00Z"), w, "America/New_York").toISOString()).toBe(
        "2026-03-07T13:00:00.000Z",
      );
      expect(nextWindowOpening(new Date("2026-03-07T23:30:00Z"), w, "America/New_York").toISOString()).toBe(
        "2026-03-08T12:00:00.000Z",
      );
    });

    it("America/New_York: a window opening at 02:30 on the spring-forward day opens right after the gap", () => {
      const w = W({ start: "02:30", end: "05:00", days: [1, 2, 3, 4, 5, 6, 7] });
      const r = nextWindowOpening(new Date("2026-03-08T05:00:00Z"), w, "America/New_York"); // 00:00 EST
      expect(r.toISOString()).toBe("2026-03-08T07:00:00.000Z"); // 03:00 EDT, the jump itself (was 03:30: an hour late)
      expect(isInsideWindow(r, w, "America/New_York")).toBe(true);
    });

    it("America/New_York fall back (1 November 2026): 08:00 EST is 13:00Z; 01:30 opens at its first occurrence", () => {
      const w = W({ days: [1, 2, 3, 4, 5, 6, 7] });
      expect(nextWindowOpening(new Date("2026-11-01T04:00:00Z"), w, "America/New_York").toISOString()).toBe(
        "2026-11-01T13:00:00.000Z",
      );
      const early = W({ start: "01:30", end: "03:00", days: [1, 2, 3, 4, 5, 6, 7] });
      expect(nextWindowOpening(new Date("2026-11-01T04:00:00Z"), early, "America/New_York").toISOString()).toBe(
        "2026-11-01T05:30:00.000Z", // 01:30 EDT, the first of the two
      );
    });

    it("Europe/Berlin: 08:00 is 07:00Z before 29 March 2026 and 06:00Z after; back to 07:00Z after 25 October", () => {
      const w = W();
      expect(nextWindowOpening(new Date("2026-03-27T20:00:00Z"), w, "Europe/Berlin").toISOString()).toBe(
        "2026-03-30T06:00:00.000Z",
      );
      expect(nextWindowOpening(new Date("2026-03-26T20:00:00Z"), w, "Europe/Berlin").toISOString()).toBe(
        "2026-03-27T07:00:00.000Z",
      );
      expect(nextWindowOpening(new Date("2026-10-23T20:00:00Z"), w, "Europe/Berlin").toISOString()).toBe(
        "2026-10-26T07:00:00.000Z",
      );
    });

    it("Asia/Kolkata (+05:30, no DST) all year", () => {
      for (const d of ["2026-01-05", "2026-07-06"])
        expect(nextWindowOpening(new Date(`${d}T00:00:00Z`), W(), "Asia/Kolkata").toISOString()).toBe(
          `${d}T02:30:00.000Z`,
        );
    });

    it("Pacific/Auckland: NZDT (+13) until 5 April 2026, NZST (+12) after, NZDT again from 27 September", () => {
      const w = W();
      // Friday 3 April 20:00Z = Saturday 09:00 NZDT -> Monday 6 April 08:00 NZST = Sunday 20:00Z
      expect(nextWindowOpening(new Date("2026-04-03T20:00:00Z"), w, "Pacific/Auckland").toISOString()).toBe(
        "2026-04-05T20:00:00.000Z",
      );
      // Thursday 2 April 06:00Z = 19:00 NZDT -> Friday 3 April 08:00 NZDT = Thursday 19:00Z
      expect(nextWindowOpening(new Date("2026-04-02T06:00:00Z"), w, "Pacific/Auckland").toISOString()).toBe(
        "2026-04-02T19:00:00.000Z",
      );
      // Saturday 26 September -> Monday 28 September 08:00 NZDT = Sunday 27 19:00Z
      expect(nextWindowOpening(new Date("2026-09-26T00:00:00Z"), w, "Pacific/Auckland").toISOString()).toBe(
        "2026-09-27T19:00:00.000Z",
      );
    });
  });

  describe("properties", () => {
    const windowArb = fc
      .record({
        days: fc.uniqueArray(fc.integer({ min: 1, max: 7 }), { minLength: 1, maxLength: 7 }),
        startMin: fc.integer({ min: 0, max: 23 * 60 + 58 }),
        len: fc.integer({ min: 1, max: 24 * 60 }),
        holidays: fc.array(fc.integer({ min: 0, max: 60 }), { maxLength: 10 }),
      })
      .map(({ days, startMin, len, holidays }) => {
        const endMin = Math.min(24 * 60, startMin + len);
        const hm = (m: number) => `${String(Math.floor(m / 60)).padStart(2, "0")}:${String(m % 60).padStart(2, "0")}`;
        return W({
          days,
          start: hm(startMin),
          end: hm(endMin),
          holidays: holidays.map((d) => new Date(Date.UTC(2026, 2, 1 + d)).toISOString().slice(0, 10)),
        });
      });
    const atArb = fc.integer({ min: Date.UTC(2026, 0, 1), max: Date.UTC(2027, 0, 1) }).map((t) => new Date(t));
    const zoneArb = fc.constantFrom(...ZONES);
    const seedArb = fc.option(fc.string({ maxLength: 12 }), { nil: undefined });

    it("the result is inside the window, never earlier than `at`, and idempotent", () => {
      fc.assert(
        fc.property(windowArb, atArb, zoneArb, seedArb, (w, at, tz, seed) => {
          const r = nextWindowOpening(at, w, tz, seed);
          expect(isInsideWindow(r, w, tz)).toBe(true);
          expect(r.getTime()).toBeGreaterThanOrEqual(at.getTime());
          expect(nextWindowOpening(r, w, tz, seed)).toEqual(r);
          expect(nextWindowOpening(r, w, tz, "other seed")).toEqual(r);
        }),
        { numRuns: 400 },
      );
    });

    it("no window opening is skipped: nothing between `at` and the result is inside the window (unjittered)", () => {
      fc.assert(
        fc.property(windowArb, atArb, zoneArb, (w, at, tz) => {
          const r = nextWindowOpening(at, w, tz);
          // Probe every 10 minutes between at and r (bounded).
          for (let t = at.getTime(); t < r.getTime() && t < at.getTime() + 12 * 86_400_000; t += 10 * 60_000)
            expect(isInsideWindow(new Date(t), w, tz)).toBe(false);
        }),
        { numRuns: 150 },
      );
    });

    it("business-day delays land on sending days, keep the local time and never go backwards", () => {
      fc.assert(
        fc.property(windowArb, atArb, zoneArb, fc.integer({ min: 1, max: 15 }), (w, at, tz, n) => {
          const r = addDelay(at, { amount: n, unit: "business_days" }, w, tz);
          expect(r.getTime()).toBeGreaterThan(at.getTime());
          const a = localTime(at, tz);
          const b = localTime(r, tz);
          const day = `${b.year}-${String(b.month).padStart(2, "0")}-${String(b.day).padStart(2, "0")}`;
          const wd = new Date(`${day}T00:00:00Z`).getUTCDay() || 7;
          expect(w.days).toContain(wd);
          expect(w.holidays).not.toContain(day);
          // Same wall time unless it fell into a DST gap on that day.
          if (b.hour === a.hour) expect(b.minute).toBe(a.minute);
        }),
        { numRuns: 300 },
      );
    });
  });
});

describe("addDelay", () => {
  it("minutes and hours are elapsed time, across a DST change too", () => {
    const at = new Date("2026-03-08T06:30:00Z"); // 01:30 EST, 30 minutes before spring forward
    expect(addDelay(at, { amount: 90, unit: "minutes" }, W(), "America/New_York").toISOString()).toBe(
      "2026-03-08T08:00:00.000Z",
    );
    expect(addDelay(at, { amount: 3, unit: "hours" }, W(), "America/New_York").toISOString()).toBe(
      "2026-03-08T09:30:00.000Z",
    );
  });

  it("business days count window days minus holidays and keep the local time of day", () => {
    const fri = new Date("2026-03-06T16:00:00Z"); // Friday 17:00 Berlin
    expect(local(addDelay(fri, { amount: 1, unit: "business_days" }, W(), "Europe/Berlin"), "Europe/Berlin")).toBe(
      "2026-03-09 17:00",
    );
    const holidays = W({ holidays: ["2026-03-09", "2026-03-10"] });
    expect(local(addDelay(fri, { amount: 2, unit: "business_days" }, holidays, "Europe/Berlin"), "Europe/Berlin")).toBe(
      "2026-03-12 17:00",
    );
    // Across Berlin's spring forward: still 09:00 local, one hour fewer in UTC.
    const before = new Date("2026-03-27T08:00:00Z"); // Friday 09:00 CET
    const after = addDelay(before, { amount: 1, unit: "business_days" }, W(), "Europe/Berlin");
    expect(after.toISOString()).toBe("2026-03-30T07:00:00.000Z");
    expect(addDelay(before, { amount: 0, unit: "business_days" }, W(), "Europe/Berlin")).toEqual(before);
  });

  it("a window on weekends only counts weekend days", () => {
    const w = W({ days: [6, 7] });
    const mon = new Date("2026-03-09T10:00:00Z");
    expect(addDelay(mon, { amount: 3, unit: "business_days" }, w, "UTC").toISOString()).toBe(
      "2026-03-21T10:00:00.000Z", // Saturday 14, Sunday 15, Saturday 21
    );
  });
});

describe("time zones of recipients", () => {
  it("contact's zone, else the account's, else the workspace's; invalid ones are passed over", () => {
    const ws = { timezone: "Europe/Paris" };
    expect(timeZoneFor({ timezone: "Asia/Tokyo" }, { timezone: "America/Chicago" }, ws)).toBe("Asia/Tokyo");
    expect(timeZoneFor({}, { timezone: "America/Chicago" }, ws)).toBe("America/Chicago");
    expect(timeZoneFor(undefined, undefined, ws)).toBe("Europe/Paris");
    expect(timeZoneFor({ timezone: "Mars/Olympus" }, {}, ws)).toBe("Europe/Paris");
  });

  it("Contact and AccountInput accept IANA zones only, canonicalized", () => {
    expect(Contact.parse({ timezone: "america/new_york" }).timezone).toBe("America/New_York");
    expect(Contact.safeParse({ timezone: "Mars/Olympus" }).success).toBe(false);
    expect(AccountInput.parse({ domain: "a.com", timezone: "Asia/Kolkata" }).timezone).toBe("Asia/Kolkata");
    expect(AccountInput.safeParse({ domain: "a.com", timezone: "GMT+25" }).success).toBe(false);
  });

  it("CSV Time Zone / Timezone columns set the account's and the row contact's zone, bad ones name the field", () => {
    const p = parseCsv(
      "Website,Email,Time Zone\nacme.com,jo@acme.com,Europe/Berlin\nbeta.io,,America/Denver\ngamma.io,x@gamma.io,Nowhere/Land\n",
      new Date("2026-03-01T00:00:00Z"),
    );
    expect(p.rows[0]?.account.timezone).toBe("Europe/Berlin");
    expect(p.rows[0]?.account.contacts?.[0]?.timezone).toBe("Europe/Berlin");
    expect(p.rows[1]?.account).toMatchObject({ domain: "beta.io", timezone: "America/Denver" });
    expect(p.errors).toEqual([{ line: 4, field: "timezone", message: expect.stringContaining("IANA") }]);
    const q = parseCsv("Domain,Timezone\nacme.com,Asia/Kolkata\n", new Date("2026-03-01T00:00:00Z"));
    expect(q.rows[0]?.account.timezone).toBe("Asia/Kolkata");
  });
});

describe("SendingSettings", () => {
  it("defaults to Monday-Friday 08:00-18:00 UTC and refuses an end before the start or an unknown zone", () => {
    expect(SendingSettings.parse({})).toEqual(W());
    const bad = SendingSettings.safeParse({ start: "18:00", end: "08:00", timezone: "Nope/Nope" });
    expect(bad.success).toBe(false);
    const paths = bad.error?.issues.map((i) => i.path.join("."));
    expect(paths).toEqual(expect.arrayContaining(["end", "timezone"]));
    expect(SendingSettings.parse({ timezone: "europe/berlin", days: [5, 1, 1] })).toMatchObject({
      timezone: "Europe/Berlin",
      days: [1, 5],
    });
  });
});
