import { QueryCommand } from "@aws-sdk/lib-dynamodb";
import {
  addMetrics,
  type Dimension,
  type EngagementRow,
  engagementRow,
  icpLift,
  type LiftBand,
  type Metrics,
  medianOfHistogram,
  ratio,
  scopeFor,
  totalsRow,
  twoProportionZTest,
  type ZTest,
} from "@icp/core";
import type { Store } from "../infra/index.js";
import { keys } from "../infra/index.js";

/** Report dimensions a client may group by (the counters' dimensions, `total` and `qualified` aside). */
export const GROUP_BY = ["segment", "tier", "icp", "sequence", "step", "channel", "variant"] as const;
export type GroupBy = (typeof GROUP_BY)[number];

export type ReportFilter = { from: string; to: string; icpId?: string; segment?: string };

const NOT_METRICS = new Set(["pk", "sk", "type", "v"]);

/**
 * Sum the counters of one dimension over a day range (inclusive, `YYYY-MM-DD`), per value:
 * one query on the (scope, dimension) partition, whatever the number of events behind it.
 */
export async function readCounters(
  store: Store,
  ws: string,
  dim: Dimension,
  f: ReportFilter,
): Promise<Map<string, Metrics>> {
  const pk = keys.counterPartition(ws, scopeFor(f), dim);
  const out = new Map<string, Metrics>();
  let start: Record<string, unknown> | undefined;
  do {
    const res = await store.ddb.send(
      new QueryCommand({
        TableName: store.cfg.tableName,
        KeyConditionExpression: "pk = :pk AND sk BETWEEN :a AND :b",
        ExpressionAttributeValues: { ":pk": pk, ":a": `${f.from}#`, ":b": `${f.to}#\uffff` },
        ExclusiveStartKey: start,
      }),
    );
    for (const item of res.Items ?? []) {
      const sk = String(item.sk);
      const rest = sk.slice(11);
      const value = rest.slice(0, rest.lastIndexOf("#"));
      const m: Metrics = {};
      for (const [k, v] of Object.entries(item)) if (!NOT_METRICS.has(k) && typeof v === "number") m[k] = v;
      out.set(value, addMetrics(out.get(value) ?? {}, m));
    }
    start = res.LastEvaluatedKey;
  } while (start);
  return out;
}

export type EngagementReport = {
  groupBy: GroupBy;
  from: string;
  to: string;
  filters: { icpId?: string; segment?: string };
  groups: EngagementRow[];
  /** Sum of the groups (an account reached in two groups counts in both). */
  totals: EngagementRow;
};

/** Engagement by segment, tier, ICP (id#version), sequence (id#version), step, channel or variant. */
export async function engagementReport(
  store: Store,
  ws: string,
  q: ReportFilter & { groupBy: GroupBy },
): Promise<EngagementReport> {
  const counters = await readCounters(store, ws, q.groupBy, q);
  const groups = [...counters.entries()]
    .map(([value, m]) => engagementRow(value, m))
    .sort((a, b) => b.accountsReached - a.accountsReached || (a.group < b.group ? -1 : 1));
  return {
    groupBy: q.groupBy,
    from: q.from,
    to: q.to,
    filters: { ...(q.icpId ? { icpId: q.icpId } : {}), ...(q.segment !== undefined ? { segment: q.segment } : {}) },
    groups,
    totals: totalsRow(groups),
  };
}

export type ConversionGroup = {
  accounts: number;
  won: number;
  meetings: number;
  conversion: number | null;
  meetingRate: number | null;
};
export type TierStats = {
  tier: string;
  accountsReached: number;
  won: number;
  revenue: number;
  averageDealSize: number | null;
  /** First touch → won, median in days (null without wins). */
  salesCycleMedianDays: number | null;
};
export type IcpLiftReport = {
  from: string;
  to: string;
  filters: { icpId?: string; segment?: string };
  /** What conversion means here: won / reached, or meetings / reached when nothing was won yet. */
  basis: "won" | "meetings";
  icp: ConversionGroup;
  nonIcp: ConversionGroup;
  priority: ConversionGroup;
  nonPriority: ConversionGroup;
  lift: number | null;
  band: LiftBand;
  priorityLift: number | null;
  priorityBand: LiftBand;
  byTier: TierStats[];
};

const conv = (m: Metrics | undefined): ConversionGroup => {
  const accounts = m?.a_touched ?? 0;
  const won = m?.a_won ?? 0;
  const meetings = m?.a_meeting_booked ?? 0;
  return { accounts, won, meetings, conversion: ratio(won, accounts), meetingRate: ratio(meetings, accounts) };
};
const sumOf = (ms: Iterable<Metrics>) => {
  const out: Metrics = {};
  for (const m of ms) addMetrics(out, m);
  return out;
};

/**
 * ICP (qualified) vs non-ICP conversion and the lift band (2x / 3–4x / 5x+), the same for the
 * priority tier vs the others, and per tier: revenue, average deal size, median sales cycle.
 */
export async function icpLiftReport(store: Store, ws: string, f: ReportFilter): Promise<IcpLiftReport> {
  const [qualified, tiers] = await Promise.all([
    readCounters(store, ws, "qualified", f),
    readCounters(store, ws, "tier", f),
  ]);
  const icp = conv(qualified.get("yes"));
  const nonIcp = conv(qualified.get("no"));
  const priority = conv(tiers.get("priority"));
  const nonPriority = conv(sumOf([...tiers.entries()].filter(([t]) => t !== "priority").map(([, m]) => m)));
  const basis = icp.won + nonIcp.won > 0 ? "won" : "meetings";
  const rate = (g: ConversionGroup) => ({
    accounts: g.accounts,
    won: basis === "won" ? g.won : g.meetings,
    conversion: basis === "won" ? g.conversion : g.meetingRate,
  });
  const l = icpLift(rate(icp), rate(nonIcp));
  const pl = icpLift(rate(priority), rate(nonPriority));
  const order = ["priority", "nurture", "generic", "disqualified"];
  const byTier: TierStats[] = [...tiers.entries()]
    .sort(([a], [b]) => order.indexOf(a) - order.indexOf(b))
    .map(([tier, m]) => {
      const hist: Record<number, number> = {};
      for (const [k, v] of Object.entries(m)) if (k.startsWith("cy_")) hist[Number(k.slice(3))] = v;
      const won = m.a_won ?? 0;
      const revenue = Math.round((m.amt ?? 0) * 100) / 100;
      const wonEvents = m.n_won ?? 0;
      return {
        tier,
        accountsReached: m.a_touched ?? 0,
        won,
        revenue,
        averageDealSize: wonEvents ? Math.round((revenue / wonEvents) * 100) / 100 : null,
        salesCycleMedianDays: medianOfHistogram(hist),
      };
    });
  return {
    from: f.from,
    to: f.to,
    filters: { ...(f.icpId ? { icpId: f.icpId } : {}), ...(f.segment !== undefined ? { segment: f.segment } : {}) },
    basis,
    icp,
    nonIcp,
    priority,
    nonPriority,
    lift: l.lift,
    band: l.band,
    priorityLift: pl.lift,
    priorityBand: pl.band,
    byTier,
  };
}

export type VariantStats = {
  variant: string;
  accountsSent: number;
  opened: number;
  clicked: number;
  replied: number;
  openRate: number | null;
  replyRate: number | null;
};
export type VariantComparison = {
  sequence: string;
  step: string;
  /** The rate compared: replies per account sent, or opens when no variant got a reply. */
  metric: "replyRate" | "openRate";
  variants: VariantStats[];
  /** Best variant against the runner-up. */
  test: ZTest & { a: string; b: string };
  /** The best variant when the difference is significant (p < 0.05), else null. */
  winner: string | null;
};

/** A/B variants of each sequence step, the best two compared with a two-proportion z-test. */
export async function variantReport(store: Store, ws: string, f: ReportFilter): Promise<VariantComparison[]> {
  const counters = await readCounters(store, ws, "variant", f);
  const bySteps = new Map<string, VariantStats[]>();
  for (const [value, m] of counters) {
    const parts = value.split("#");
    const variant = parts.pop() ?? "";
    const step = parts.join("#");
    // Only A/B variants compete: not the default content, nor segment/persona-targeted content.
    if (variant === "default" || variant.includes(":")) continue;
    const sent = m.a_sent ?? m.a_touched ?? 0;
    const s: VariantStats = {
      variant,
      accountsSent: sent,
      opened: m.a_opened ?? 0,
      clicked: m.a_clicked ?? 0,
      replied: m.a_replied ?? 0,
      openRate: ratio(m.a_opened ?? 0, sent),
      replyRate: ratio(m.a_replied ?? 0, sent),
    };
    bySteps.set(step, [...(bySteps.get(step) ?? []), s]);
  }
  const out: VariantComparison[] = [];
  for (const [step, variants] of bySteps) {
    if (variants.length < 2) continue;
    const metric = variants.some((v) => v.replied > 0) ? "replyRate" : "openRate";
    const x = (v: VariantStats) => (metric === "replyRate" ? v.replied : v.opened);
    variants.sort((a, b) => (b[metric] ?? -1) - (a[metric] ?? -1) || (a.variant < b.variant ? -1 : 1));
    const [a, b] = variants as [VariantStats, VariantStats];
    const test = twoProportionZTest(x(a), a.accountsSent, x(b), b.accountsSent);
    const [seqId, seqVersion, stepId] = step.split("#");
    out.push({
      sequence: `${seqId}#${seqVersion}`,
      step: stepId ?? "",
      metric,
      variants,
      test: { ...test, a: a.variant, b: b.variant },
      winner: test.significant ? a.variant : null,
    });
  }
  return out.sort((p, q) => (p.sequence + p.step < q.sequence + q.step ? -1 : 1));
}

export type FunnelStep = {
  step: string;
  sent: number;
  opened: number;
  clicked: number;
  replied: number;
  openRate: number | null;
  clickRate: number | null;
  replyRate: number | null;
};
export type SequenceFunnel = { sequence: string; steps: FunnelStep[] };

/** Per sequence (id#version), per step: accounts sent → opened → clicked → replied. */
export async function funnelReport(
  store: Store,
  ws: string,
  f: ReportFilter & { sequenceId?: string },
): Promise<SequenceFunnel[]> {
  const counters = await readCounters(store, ws, "step", f);
  const bySeq = new Map<string, FunnelStep[]>();
  for (const [value, m] of counters) {
    const i = value.lastIndexOf("#");
    const seq = value.slice(0, i);
    if (f.sequenceId && !seq.startsWith(`${f.sequenceId}#`)) continue;
    const sent = m.a_sent ?? 0;
    bySeq.set(seq, [
      ...(bySeq.get(seq) ?? []),
      {
        step: value.slice(i + 1),
        sent,
        opened: m.a_opened ?? 0,
        clicked: m.a_clicked ?? 0,
        replied: m.a_replied ?? 0,
        openRate: ratio(m.a_opened ?? 0, sent),
        clickRate: ratio(m.a_clicked ?? 0, sent),
        replyRate: ratio(m.a_replied ?? 0, sent),
      },
    ]);
  }
  return [...bySeq.entries()]
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([sequence, steps]) => ({
      sequence,
      steps: steps.sort((a, b) => b.sent - a.sent || (a.step < b.step ? -1 : 1)),
    }));
}

/** Default report window: the last 90 days (UTC), today included. */
export function defaultRange(now = Date.now()): { from: string; to: string } {
  return {
    from: new Date(now - 89 * 86_400_000).toISOString().slice(0, 10),
    to: new Date(now).toISOString().slice(0, 10),
  };
}
