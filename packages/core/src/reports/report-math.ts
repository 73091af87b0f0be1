import { EventType } from "../events/index.js";
/**
 * Pure report math: rows from counter metrics, rates, the two-proportion z-test of A/B
 * variants, medians from histograms, and CSV that spreadsheets cannot execute.
 */

export type Metrics = Record<string, number>;

/** num / den, or null when there is nothing to divide by. */
export const ratio = (num: number, den: number): number | null => (den > 0 ? num / den : null);
const round4 = (x: number | null) => (x === null ? null : Math.round(x * 10_000) / 10_000);

export type EngagementCounts = {
  accountsReached: number;
  sent: number;
  accountsSent: number;
  opened: number;
  clicked: number;
  replied: number;
  meetings: number;
  opportunities: number;
  won: number;
  revenue: number;
  events: number;
};
export type EngagementRates = {
  openRate: number | null;
  clickRate: number | null;
  replyRate: number | null;
  meetingRate: number | null;
  winRate: number | null;
};
export type EngagementRow = { group: string } & EngagementCounts & EngagementRates;

/** Counts from a counter's metrics (unique accounts per type: `a_<type>`, events: `n_<type>`). */
export function countsOf(m: Metrics): EngagementCounts {
  const g = (k: string) => m[k] ?? 0;
  return {
    accountsReached: g("a_touched"),
    sent: g("n_sent"),
    accountsSent: g("a_sent"),
    opened: g("a_opened"),
    clicked: g("a_clicked"),
    replied: g("a_replied"),
    meetings: g("a_meeting_booked"),
    opportunities: g("a_opportunity_created"),
    won: g("a_won"),
    revenue: g("amt"),
    events: EventType.options.reduce((s, t) => s + g(`n_${t}`), 0),
  };
}

/** Rates per account reached: every account counts once per group whatever it did how often. */
export function ratesOf(c: EngagementCounts): EngagementRates {
  const per = (n: number) => round4(ratio(n, c.accountsReached));
  return {
    openRate: per(c.opened),
    clickRate: per(c.clicked),
    replyRate: per(c.replied),
    meetingRate: per(c.meetings),
    winRate: per(c.won),
  };
}

export const engagementRow = (group: string, m: Metrics): EngagementRow => {
  const c = countsOf(m);
  return { group, ...c, ...ratesOf(c) };
};

/** The totals row: the sum of the groups' counts, rates from those sums. */
export function totalsRow(rows: readonly EngagementRow[]): EngagementRow {
  const sum = (k: keyof EngagementCounts) => rows.reduce((s, r) => s + r[k], 0);
  const c: EngagementCounts = {
    accountsReached: sum("accountsReached"),
    sent: sum("sent"),
    accountsSent: sum("accountsSent"),
    opened: sum("opened"),
    clicked: sum("clicked"),
    replied: sum("replied"),
    meetings: sum("meetings"),
    opportunities: sum("opportunities"),
    won: sum("won"),
    revenue: Math.round(sum("revenue") * 100) / 100,
    events: sum("events"),
  };
  return { group: "total", ...c, ...ratesOf(c) };
}

export function addMetrics(into: Metrics, from: Metrics): Metrics {
  for (const [k, v] of Object.entries(from)) into[k] = (into[k] ?? 0) + v;
  return into;
}

/** Complementary error function (Numerical Recipes' Chebyshev fit `erfcc`, fractional error < 1.2e-7). */
export function erfc(x: number): number {
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const r =
    t *
    Math.exp(
      -z * z -
        1.26551223 +
        t *
          (1.00002368 +
            t *
              (0.37409196 +
                t *
                  (0.09678418 +
                    t *
                      (-0.18628806 +
                        t *
                          (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
    );
  return x >= 0 ? r : 2 - r;
}

/** Standard normal CDF. */
export const normalCdf = (z: number) => 0.5 * erfc(-z / Math.SQRT2);

export type ZTest = {
  z: number | null;
  /** Two-sided p-value. */
  pValue: number | null;
  significant: boolean;
};

/**
 * Two-proportion z-test with pooled variance: H0 p1 = p2. Null when a sample is empty or the
 * pooled proportion is 0 or 1 (no variance).
 */
export function twoProportionZTest(x1: number, n1: number, x2: number, n2: number, alpha = 0.05): ZTest {
  if (n1 <= 0 || n2 <= 0) return { z: null, pValue: null, significant: false };
  const p = (x1 + x2) / (n1 + n2);
  const se = Math.sqrt(p * (1 - p) * (1 / n1 + 1 / n2));
  if (se === 0) return { z: null, pValue: null, significant: false };
  const z = (x1 / n1 - x2 / n2) / se;
  const pValue = Math.min(1, 2 * (1 - normalCdf(Math.abs(z))));
  return { z: Math.round(z * 10_000) / 10_000, pValue, significant: pValue < alpha };
}

/** Median of a histogram {value: count} (lower median for an even total), null when empty. */
export function medianOfHistogram(h: Record<number, number>): number | null {
  const entries = Object.entries(h)
    .map(([k, n]) => [Number(k), n] as const)
    .filter(([, n]) => n > 0)
    .sort((a, b) => a[0] - b[0]);
  const total = entries.reduce((s, [, n]) => s + n, 0);
  if (!total) return null;
  const target = Math.ceil(total / 2);
  let seen = 0;
  for (const [v, n] of entries) {
    seen += n;
    if (seen >= target) return v;
  }
  return null;
}

/** A CSV cell, quoted when needed, with a leading `'` when a spreadsheet would read it as a formula. */
export function csvCell(v: unknown): string {
  if (typeof v === "number") return Number.isFinite(v) ? String(v) : "";
  let s = v === null || v === undefined ? "" : String(v);
  if (/^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function toCsv(columns: readonly string[], rows: readonly Record<string, unknown>[]): string {
  const lines = [columns.map(csvCell).join(",")];
  for (const r of rows) lines.push(columns.map((c) => csvCell(r[c])).join(","));
  return `${lines.join("\r\n")}\r\n`;
}
