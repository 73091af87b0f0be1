import { QueryCommand } from "@aws-sdk/lib-dynamodb";
import type { Store } from "./clients.js";

/** Every item of a partition whose sort key starts with `skPrefix`, following pagination. */
export async function queryAll(store: Store, pk: string, skPrefix: string): Promise<Record<string, unknown>[]> {
  const out: Record<string, unknown>[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const res = await store.ddb.send(
      new QueryCommand({
        TableName: store.cfg.tableName,
        KeyConditionExpression: "pk = :pk AND begins_with(sk, :p)",
        ExpressionAttributeValues: { ":pk": pk, ":p": skPrefix },
        ConsistentRead: true,
        ExclusiveStartKey: start,
      }),
    );
    out.push(...(res.Items ?? []));
    start = res.LastEvaluatedKey;
  } while (start);
  return out;
}

/**
 * Every item of one partition of a global secondary index (`<index>pk = pk`, optionally
 * `<index>sk < skBefore`), following pagination (GSI reads are eventually consistent). With
 * `onPage` each page is handed over instead of collected; `maxItems` stops after the page that reaches it.
 */
export async function queryIndexAll(
  store: Store,
  index: string,
  where: { pk: string; skBefore?: string },
  opts: { pageSize?: number; maxItems?: number; onPage?: (items: Record<string, unknown>[]) => Promise<void> } = {},
): Promise<Record<string, unknown>[]> {
  const out: Record<string, unknown>[] = [];
  let start: Record<string, unknown> | undefined;
  let seen = 0;
  do {
    const res = await store.ddb.send(
      new QueryCommand({
        TableName: store.cfg.tableName,
        IndexName: index,
        KeyConditionExpression: `${index}pk = :pk${where.skBefore ? ` AND ${index}sk < :before` : ""}`,
        ExpressionAttributeValues: { ":pk": where.pk, ...(where.skBefore ? { ":before": where.skBefore } : {}) },
        ...(opts.pageSize ? { Limit: opts.pageSize } : {}),
        ExclusiveStartKey: start,
      }),
    );
    const items = res.Items ?? [];
    seen += items.length;
    if (opts.onPage) await opts.onPage(items);
    else out.push(...items);
    start = res.LastEvaluatedKey;
  } while (start && (opts.maxItems === undefined || seen < opts.maxItems));
  return out;
}

/** One page of a partition's items under a sort-key prefix, oldest or newest first. */
export async function queryPage(
  store: Store,
  where: { pk: string; skPrefix: string },
  opts: { limit: number; newestFirst?: boolean; afterSk?: string },
): Promise<{ items: Record<string, unknown>[]; lastSk?: string }> {
  const res = await store.ddb.send(
    new QueryCommand({
      TableName: store.cfg.tableName,
      KeyConditionExpression: "pk = :pk AND begins_with(sk, :p)",
      ExpressionAttributeValues: { ":pk": where.pk, ":p": where.skPrefix },
      ScanIndexForward: !opts.newestFirst,
      Limit: opts.limit,
      ...(opts.afterSk ? { ExclusiveStartKey: { pk: where.pk, sk: opts.afterSk } } : {}),
    }),
  );
  const lastSk = res.LastEvaluatedKey?.sk as string | undefined;
  return { items: res.Items ?? [], ...(lastSk ? { lastSk } : {}) };
}

/** Strip the table's bookkeeping attributes (keys, index keys, type, schema version) from an item. */
export function withoutKeys(item: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(item)) if (!/^(pk|sk|type|v|gsi\d(pk|sk))$/.test(k)) out[k] = v;
  return out;
}
