import { DeleteCommand, PutCommand, QueryCommand } from "@aws-sdk/lib-dynamodb";
import { normalizeDomain } from "@icp/core";
import type { Store } from "../infra/index.js";
import { batchGet, conditionFailed, keys } from "../infra/index.js";

/**
 * The suppression list: emails (unsubscribed, hard-bounced, added by hand) and do-not-contact
 * domains. A domain entry suppresses every address at that domain. Entries are kept forever
 * (an unsubscribe must not expire); `DELETE /v1/suppressions` removes one on purpose.
 */
export type SuppressionTarget = { email?: string; domain?: string };
export type Suppression = {
  kind: "email" | "domain";
  value: string;
  reason: string;
  source?: string;
  createdAt: string;
};

const normEmail = (e: string) => e.trim().toLowerCase();
const emailDomain = (e: string) => normalizeDomain(e.slice(e.lastIndexOf("@") + 1));

function targets(t: SuppressionTarget): { kind: "email" | "domain"; value: string }[] {
  const out: { kind: "email" | "domain"; value: string }[] = [];
  if (t.email) {
    const email = normEmail(t.email);
    out.push({ kind: "email", value: email });
    const d = emailDomain(email);
    if (d) out.push({ kind: "domain", value: d });
  }
  if (t.domain) {
    const d = normalizeDomain(t.domain);
    if (d) out.push({ kind: "domain", value: d });
  }
  return out;
}

/** Whether an email (or any address at its domain) or a domain is suppressed, and why. */
export async function isSuppressed(
  store: Store,
  ws: string,
  t: SuppressionTarget,
): Promise<{ suppressed: boolean; reason?: string }> {
  const ts = targets(t);
  if (!ts.length) return { suppressed: false };
  const ks = ts.map((x) => keys.suppression(ws, x.kind, x.value));
  const found = await batchGet(store, ks);
  for (const k of ks) {
    const item = found.get(`${k.pk}|${k.sk}`);
    if (item) return { suppressed: true, reason: String(item.reason ?? "suppressed") };
  }
  return { suppressed: false };
}

/**
 * Add an email or a do-not-contact domain (exactly one of them). Idempotent: adding an entry
 * that exists keeps the first one (its reason and date). Returns the entry as stored.
 */
export async function addSuppression(
  store: Store,
  ws: string,
  s: SuppressionTarget & { reason: string; source?: string; at?: string },
): Promise<Suppression> {
  const kind = s.email ? "email" : "domain";
  const value = s.email ? normEmail(s.email) : s.domain ? normalizeDomain(s.domain) : undefined;
  if (!value || (s.email && s.domain)) throw new Error("addSuppression needs exactly one valid email or domain");
  const entry: Suppression = {
    kind,
    value,
    reason: s.reason,
    ...(s.source ? { source: s.source } : {}),
    createdAt: s.at ?? new Date().toISOString(),
  };
  try {
    await store.ddb.send(
      new PutCommand({
        TableName: store.cfg.tableName,
        Item: { ...keys.suppression(ws, kind, value), type: "suppression", v: 1, ...entry },
        ConditionExpression: "attribute_not_exists(pk)",
      }),
    );
    return entry;
  } catch (e) {
    if (!conditionFailed(e)) throw e;
    const existing = await batchGet(store, [keys.suppression(ws, kind, value)]);
    const item = [...existing.values()][0];
    return item ? toSuppression(item) : entry;
  }
}

/** Remove an entry; false when there was none. */
export async function removeSuppression(store: Store, ws: string, t: SuppressionTarget): Promise<boolean> {
  const kind = t.email ? "email" : "domain";
  const value = t.email ? normEmail(t.email) : t.domain ? normalizeDomain(t.domain) : undefined;
  if (!value) return false;
  const res = await store.ddb.send(
    new DeleteCommand({
      TableName: store.cfg.tableName,
      Key: keys.suppression(ws, kind, value),
      ReturnValues: "ALL_OLD",
    }),
  );
  return res.Attributes !== undefined;
}

const toSuppression = (i: Record<string, unknown>): Suppression => ({
  kind: i.kind as Suppression["kind"],
  value: String(i.value),
  reason: String(i.reason),
  ...(i.source ? { source: String(i.source) } : {}),
  createdAt: String(i.createdAt),
});

/** A page of the list, emails and domains, ordered by kind then value. */
export async function listSuppressions(
  store: Store,
  ws: string,
  opts: { limit: number; cursor?: string },
): Promise<{ items: Suppression[]; nextCursor?: string }> {
  const pk = keys.suppressionPartition(ws);
  const res = await store.ddb.send(
    new QueryCommand({
      TableName: store.cfg.tableName,
      KeyConditionExpression: "pk = :pk",
      ExpressionAttributeValues: { ":pk": pk },
      Limit: opts.limit,
      ...(opts.cursor ? { ExclusiveStartKey: { pk, sk: opts.cursor } } : {}),
    }),
  );
  const last = res.LastEvaluatedKey?.sk as string | undefined;
  return { items: (res.Items ?? []).map(toSuppression), ...(last ? { nextCursor: last } : {}) };
}
