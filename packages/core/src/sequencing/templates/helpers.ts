/**
 * The inline helpers a template can call. Each returns a plain string (never SafeString), so
 * its output is escaped like any value.
 */

const MONTHS = [
  "January",
  "February",
  "March",
  "April",
  "May",
  "June",
  "July",
  "August",
  "September",
  "October",
  "November",
  "December",
];

/** Any value as display text; objects render as nothing rather than "[object Object]". */
function text(v: unknown): string {
  if (v === null || v === undefined) return "";
  if (typeof v === "string") return v;
  if (typeof v === "number") return Number.isFinite(v) ? String(v) : "";
  if (typeof v === "boolean") return String(v);
  if (Array.isArray(v)) return v.map(text).filter(Boolean).join(", ");
  return "";
}

const num = (v: unknown) => (typeof v === "number" ? v : typeof v === "string" && v.trim() ? Number(v) : Number.NaN);

/** 12000000 -> "$12M", 1500000 -> "$1.5M", 250000 -> "$250K", 950 -> "$950". */
export function formatMoney(v: unknown, currency = "$"): string {
  const n = num(v);
  if (!Number.isFinite(n)) return "";
  const units: [number, string][] = [
    [1e12, "T"],
    [1e9, "B"],
    [1e6, "M"],
    [1e3, "K"],
    [1, ""],
  ];
  const a = Math.abs(n);
  let i = units.findIndex(([d]) => a >= d);
  if (i < 0) i = units.length - 1;
  let [d, suffix] = units[i] as [number, string];
  let x = Math.round((a / d) * 10) / 10;
  // 999_950 rounds to 1000K: say 1M.
  if (x >= 1000 && i > 0) {
    [d, suffix] = units[i - 1] as [number, string];
    x = Math.round((a / d) * 10) / 10;
  }
  return `${n < 0 ? "-" : ""}${currency}${x}${suffix}`;
}

const DAY = 86_400_000;
const plural = (n: number, unit: string) => `${n} ${unit}${n === 1 ? "" : "s"}`;

/** "today", "yesterday", "3 days ago", "2 weeks ago", "5 months ago", "1 year ago" (relative to `now`). */
export function timeAgo(v: unknown, now: number): string {
  const t = typeof v === "string" ? Date.parse(v) : typeof v === "number" ? v : Number.NaN;
  if (!Number.isFinite(t) || !Number.isFinite(now)) return "";
  const days = Math.floor((now - t) / DAY);
  if (days <= 0) return "today";
  if (days === 1) return "yesterday";
  if (days < 14) return `${plural(days, "day")} ago`;
  if (days < 60) return `${plural(Math.floor(days / 7), "week")} ago`;
  if (days < 365) return `${plural(Math.floor(days / 30), "month")} ago`;
  return `${plural(Math.floor(days / 365), "year")} ago`;
}

/** "March 2026" (UTC). */
export function monthYear(v: unknown): string {
  const t = typeof v === "string" ? Date.parse(v) : typeof v === "number" ? v : Number.NaN;
  if (!Number.isFinite(t)) return "";
  const d = new Date(t);
  if (Number.isNaN(d.getTime())) return "";
  return `${MONTHS[d.getUTCMonth()]} ${d.getUTCFullYear()}`;
}

type HelperOptions = { data?: { now?: unknown } };
/** Handlebars passes its options object last; the real arguments are the ones before it. */
const args = (a: unknown[]) => a.slice(0, -1);

/** Inline helpers, each with the number of arguments it takes [min, max]. */
export const HELPERS: Record<string, { arity: [number, number]; fn: (...a: unknown[]) => string }> = {
  default: {
    arity: [2, 2],
    fn: (...a) => {
      const [v, fallback] = args(a);
      const s = text(v);
      return s.trim() ? s : text(fallback);
    },
  },
  money: { arity: [1, 2], fn: (...a) => formatMoney(args(a)[0], args(a).length > 1 ? text(args(a)[1]) : "$") },
  lower: { arity: [1, 1], fn: (...a) => text(args(a)[0]).toLowerCase() },
  upper: { arity: [1, 1], fn: (...a) => text(args(a)[0]).toUpperCase() },
  capitalize: {
    arity: [1, 1],
    fn: (...a) => {
      const s = text(args(a)[0]);
      return s.charAt(0).toUpperCase() + s.slice(1);
    },
  },
  join: {
    arity: [1, 2],
    fn: (...a) => {
      const [list, sep] = args(a);
      const items = Array.isArray(list) ? list.map(text).filter(Boolean) : [text(list)].filter(Boolean);
      return items.join(sep === undefined ? ", " : text(sep));
    },
  },
  timeAgo: {
    arity: [1, 1],
    fn: (...a) => timeAgo(args(a)[0], Number((a[a.length - 1] as HelperOptions)?.data?.now ?? Number.NaN)),
  },
  monthYear: { arity: [1, 1], fn: (...a) => monthYear(args(a)[0]) },
};
export const BLOCK_HELPERS = new Set(["if", "unless", "with", "each"]);

/** Helper names a template can call. */
export const TEMPLATE_HELPERS = [...BLOCK_HELPERS, ...Object.keys(HELPERS)];
