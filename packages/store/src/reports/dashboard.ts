import { QueryCommand } from "@aws-sdk/lib-dynamodb";
import { type Coverage, coverage, Tier } from "@icp/core";
import { toAccount } from "../accounts/index.js";
import { recentEvents } from "../events/index.js";
import type { Store } from "../infra/index.js";
import { batchGet, keys } from "../infra/index.js";
import { listImports } from "../ingest/index.js";
import { getIcpVersion, listIcps } from "../scoring/index.js";

export type TierCountFilter = { icpId?: string; segment?: string };

/**
 * Accounts per tier, counted by the index (Select COUNT: DynamoDB returns counts, not items).
 * Unfiltered and ICP-filtered counts read the tier index (GSI1) partition by partition; a
 * segment filter reads the segment's partition of GSI2 once per tier.
 */
export async function countAccountsByTier(
  store: Store,
  ws: string,
  f: TierCountFilter = {},
): Promise<Record<Tier, number>> {
  const counts = await Promise.all(
    Tier.options.map(async (tier) => {
      const names: Record<string, string> = {};
      const values: Record<string, unknown> = {};
      const filters: string[] = [];
      if (f.icpId) {
        names["#icp"] = "icpId";
        values[":icp"] = f.icpId;
        filters.push("#icp = :icp");
      }
      const bySegment = f.segment !== undefined;
      if (bySegment) {
        names["#tier"] = "tier";
        values[":tier"] = tier;
        filters.push("#tier = :tier");
      }
      names["#pk"] = bySegment ? "gsi2pk" : "gsi1pk";
      values[":pk"] = bySegment
        ? keys.accountSegmentPartition(ws, f.segment as string)
        : keys.accountTierPartition(ws, tier);
      let n = 0;
      let start: Record<string, unknown> | undefined;
      do {
        const res = await store.ddb.send(
          new QueryCommand({
            TableName: store.cfg.tableName,
            IndexName: bySegment ? "gsi2" : "gsi1",
            KeyConditionExpression: "#pk = :pk",
            ExpressionAttributeNames: names,
            ExpressionAttributeValues: values,
            ...(filters.length ? { FilterExpression: filters.join(" AND ") } : {}),
            Select: "COUNT",
            ExclusiveStartKey: start,
          }),
        );
        n += res.Count ?? 0;
        start = res.LastEvaluatedKey;
      } while (start);
      return [tier, n] as const;
    }),
  );
  return Object.fromEntries(counts) as Record<Tier, number>;
}

export type CoverageWarning = {
  source: "icp" | "import";
  /** ICP id (source icp) or import id (source import). */
  id: string;
  name: string;
  version?: number;
  at?: string;
} & Coverage;

/**
 * Coverage of each ICP's active version (from its last full re-scoring) and of the latest
 * completed import: share of accounts that qualify, with the too-broad (>50%) / too-narrow
 * (<5%) warning. Reads stored items only.
 */
export async function coverageWarnings(store: Store, ws: string): Promise<CoverageWarning[]> {
  const [icps, imports] = await Promise.all([listIcps(store, ws), listImports(store, ws, 10)]);
  const out: CoverageWarning[] = [];
  const versions = await Promise.all(icps.map((icp) => getIcpVersion(store, ws, icp.id, icp.version)));
  icps.forEach((icp, i) => {
    const cov = versions[i]?.coverage;
    if (cov) out.push({ source: "icp", id: icp.id, name: icp.name, version: icp.version, ...cov });
  });
  const last = imports.find((j) => j.status === "completed" && j.accountsDone);
  if (last?.accountsDone)
    out.push({
      source: "import",
      id: last.id,
      name: last.filename ?? last.id,
      ...(last.completedAt ? { at: last.completedAt } : {}),
      ...coverage(last.accountsDone, last.qualified ?? 0),
    });
  return out;
}

export type ActivityItem = {
  id: string;
  type: string;
  at: string;
  accountId: string;
  /** The account as it is now (name from its facts, when it has one). */
  account: { domain: string; name?: string; tier: Tier; segment: string } | null;
  contactId?: string;
  sequenceId?: string;
  stepId?: string;
  channel?: string;
  variant?: string;
  amount?: number;
};

/**
 * The workspace's latest engagement events (any account), newest first, with each account's
 * domain, name, tier and segment: the per-day event index (events.ts recentEvents) plus one
 * batch read of the accounts named. Nothing is scanned.
 */
export async function recentActivity(
  store: Store,
  ws: string,
  o: { limit?: number; days?: number; now?: number } = {},
): Promise<ActivityItem[]> {
  const events = await recentEvents(store, ws, {
    limit: o.limit ?? 30,
    days: o.days ?? 14,
    ...(o.now ? { now: o.now } : {}),
  });
  const ids = [...new Set(events.map((e) => String(e.accountId)))];
  const found = await batchGet(
    store,
    ids.map((id) => keys.account(ws, id)),
  );
  const accounts = new Map<string, ActivityItem["account"]>();
  for (const id of ids) {
    const k = keys.account(ws, id);
    const item = found.get(`${k.pk}|${k.sk}`);
    if (!item) continue;
    const a = toAccount(item);
    accounts.set(id, {
      domain: a.domain,
      ...(a.facts.name ? { name: a.facts.name } : {}),
      tier: a.tier,
      segment: a.segment,
    });
  }
  const str = (v: unknown) => (typeof v === "string" ? v : undefined);
  return events.map((e) => {
    const accountId = String(e.accountId);
    const opt = {
      contactId: str(e.contactId),
      sequenceId: str(e.sequenceId),
      stepId: str(e.stepId),
      channel: str(e.channel),
      variant: str(e.variant),
    };
    return {
      id: String(e.id),
      type: String(e.type),
      at: String(e.at),
      accountId,
      account: accounts.get(accountId) ?? null,
      ...Object.fromEntries(Object.entries(opt).filter(([, v]) => v !== undefined)),
      ...(typeof e.amount === "number" ? { amount: e.amount } : {}),
    };
  });
}
