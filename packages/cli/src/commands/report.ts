import { UsageError, type Values } from "../args.js";
import type { Client } from "../client.js";
import { type Cell, formatTable } from "../table.js";

export const reportOptions = {
  by: { type: "string" },
  lift: { type: "boolean" },
  from: { type: "string" },
  to: { type: "string" },
  icp: { type: "string" },
  segment: { type: "string" },
  format: { type: "string" },
} as const;

/** What GET /v1/reports/engagement groups by (packages/store/src/reports/engagement-report.ts GROUP_BY). */
export const REPORT_GROUPS = ["segment", "tier", "icp", "sequence", "step", "channel", "variant"] as const;

type Row = {
  group: string;
  accountsReached: number;
  sent: number;
  opened: number;
  clicked: number;
  replied: number;
  meetings: number;
  won: number;
  revenue: number;
  openRate: number | null;
  clickRate: number | null;
  replyRate: number | null;
  meetingRate: number | null;
  winRate: number | null;
};
type EngagementReport = { groupBy: string; from: string; to: string; groups: Row[]; totals: Row };
type Conversion = {
  accounts: number;
  won: number;
  meetings: number;
  conversion: number | null;
  meetingRate: number | null;
};
type LiftReport = {
  from: string;
  to: string;
  basis: "won" | "meetings";
  icp: Conversion;
  nonIcp: Conversion;
  priority: Conversion;
  nonPriority: Conversion;
  lift: number | null;
  band: string;
  priorityLift: number | null;
  priorityBand: string;
  byTier: {
    tier: string;
    accountsReached: number;
    won: number;
    revenue: number;
    averageDealSize: number | null;
    salesCycleMedianDays: number | null;
  }[];
};

const pct = (x: number | null) => (x === null ? "-" : `${(x * 100).toFixed(1)}%`);
const money = (x: number | null) => (x === null ? "-" : Math.round(x));

function day(values: Values, name: "from" | "to"): string | undefined {
  const v = values[name] as string | undefined;
  if (v !== undefined && !/^\d{4}-\d{2}-\d{2}$/.test(v))
    throw new UsageError(`--${name} must be a date YYYY-MM-DD, not "${v}"`);
  return v;
}

type Format = "table" | "csv" | "json";
type Query = {
  from?: string | undefined;
  to?: string | undefined;
  icpId?: string | undefined;
  segment?: string | undefined;
};

/**
 * `icp report --by segment` prints the engagement table (rates per account reached, then the
 * totals row); `--format csv` prints the API's CSV as is; `icp report --lift` prints ICP vs
 * non-ICP conversion with its band and the per-tier deal figures.
 */
export async function reportCommand(client: Client, values: Values): Promise<number> {
  const format = formatOf(values);
  const query: Query = {
    from: day(values, "from"),
    to: day(values, "to"),
    icpId: values.icp as string | undefined,
    segment: values.segment as string | undefined,
  };
  return values.lift ? liftReport(client, values, query, format) : engagementReport(client, values, query, format);
}

function formatOf(values: Values): Format {
  const format = (values.format as string | undefined) ?? "table";
  if (!["table", "csv", "json"].includes(format))
    throw new UsageError(`--format must be table, csv or json, not "${format}"`);
  return format as Format;
}

async function liftReport(client: Client, values: Values, query: Query, format: Format): Promise<number> {
  if (values.by !== undefined) throw new UsageError("--lift and --by do not go together");
  if (format === "csv") throw new UsageError("--lift has no CSV form; use --format json or table");
  const r = await client.request<LiftReport>("/v1/reports/icp-lift", { query, retry: true });
  return print(format === "json" ? `${JSON.stringify(r, null, 2)}\n` : liftText(r));
}

/** The lift line, then conversion by group, then the deal figures per tier. */
function liftText(r: LiftReport): string {
  const what = r.basis === "won" ? "won" : "meetings";
  const hits = (c: Conversion) => (r.basis === "won" ? c.won : c.meetings);
  const rate = (c: Conversion) => (r.basis === "won" ? c.conversion : c.meetingRate);
  const lift = (l: number | null, band: string) => `${l === null ? "n/a" : `${l}x`} (${band})`;
  const rows: Cell[][] = [
    ["ICP (qualified)", r.icp.accounts, hits(r.icp), pct(rate(r.icp))],
    ["non-ICP", r.nonIcp.accounts, hits(r.nonIcp), pct(rate(r.nonIcp))],
    ["priority tier", r.priority.accounts, hits(r.priority), pct(rate(r.priority))],
    ["other tiers", r.nonPriority.accounts, hits(r.nonPriority), pct(rate(r.nonPriority))],
  ];
  return (
    `ICP lift ${r.from} to ${r.to}: ${lift(r.lift, r.band)}; priority vs others ${lift(r.priorityLift, r.priorityBand)}\n` +
    "(target at least 2x; 3-4x good; 5x+ excellent)\n\n" +
    formatTable(["group", "reached", what, "conversion"], rows) +
    "\n" +
    formatTable(
      ["tier", "reached", "won", "revenue", "avg deal", "cycle days"],
      r.byTier.map((t) => [
        t.tier,
        t.accountsReached,
        t.won,
        money(t.revenue),
        money(t.averageDealSize),
        t.salesCycleMedianDays ?? "-",
      ]),
    )
  );
}

async function engagementReport(client: Client, values: Values, query: Query, format: Format): Promise<number> {
  const by = (values.by as string | undefined) ?? "segment";
  if (!(REPORT_GROUPS as readonly string[]).includes(by))
    throw new UsageError(`--by must be one of ${REPORT_GROUPS.join(", ")}, not "${by}"`);
  if (format === "csv")
    return print(
      await client.requestText("/v1/reports/engagement", {
        query: { ...query, groupBy: by, format: "csv" },
        retry: true,
      }),
    );
  const r = await client.request<EngagementReport>("/v1/reports/engagement", {
    query: { ...query, groupBy: by },
    retry: true,
  });
  if (format === "json") return print(`${JSON.stringify(r, null, 2)}\n`);
  if (r.groups.length === 0) {
    process.stderr.write(`no engagement between ${r.from} and ${r.to}\n`);
    return 0;
  }
  return print(engagementText(r, by));
}

/** One row per group, then the totals row. */
function engagementText(r: EngagementReport, by: string): string {
  const row = (g: Row): Cell[] => [
    g.group,
    g.accountsReached,
    g.sent,
    pct(g.openRate),
    pct(g.clickRate),
    pct(g.replyRate),
    pct(g.meetingRate),
    g.won,
    pct(g.winRate),
    money(g.revenue),
  ];
  return formatTable(
    [by, "reached", "sent", "open", "click", "reply", "meeting", "won", "win rate", "revenue"],
    [...r.groups.map(row), row(r.totals)],
    `Engagement by ${by}, ${r.from} to ${r.to} (rates per account reached)`,
  );
}

function print(text: string): number {
  process.stdout.write(text);
  return 0;
}
