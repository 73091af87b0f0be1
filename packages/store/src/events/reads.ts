/** Reads of a workspace's stored events from the per-day index. */
import { QueryCommand } from "@aws-sdk/lib-dynamodb";
import type { Store } from "../infra/index.js";
import { inParallel, keys, queryIndexAll } from "../infra/index.js";
import { EVENT_DAY_SHARDS } from "./shards.js";

/** Recent engagement events of the workspace (any account), newest first, from the per-day index. */
export async function recentEvents(
  store: Store,
  ws: string,
  opts: { limit?: number; days?: number; now?: number } = {},
): Promise<Record<string, unknown>[]> {
  const limit = opts.limit ?? 50;
  const now = opts.now ?? Date.now();
  const out: Record<string, unknown>[] = [];
  for (let d = 0; d < (opts.days ?? 7) && out.length < limit; d++) {
    const day = new Date(now - d * 86_400_000).toISOString().slice(0, 10);
    const pages = await Promise.all(
      Array.from({ length: EVENT_DAY_SHARDS }, (_, s) =>
        store.ddb.send(
          new QueryCommand({
            TableName: store.cfg.tableName,
            IndexName: "gsi1",
            KeyConditionExpression: "gsi1pk = :pk",
            ExpressionAttributeValues: { ":pk": keys.eventDayPartition(ws, day, s) },
            ScanIndexForward: false,
            Limit: limit,
          }),
        ),
      ),
    );
    const items = pages.flatMap((p) => p.Items ?? []).sort((a, b) => (a.at < b.at ? 1 : a.at > b.at ? -1 : 0));
    out.push(...items.slice(0, limit - out.length).map(publicEvent));
  }
  return out;
}

/** Every stored event of a workspace between two days (inclusive), read from the per-day index. */
export async function eventsBetween(
  store: Store,
  ws: string,
  fromDay: string,
  toDay: string,
): Promise<Record<string, unknown>[]> {
  const days: string[] = [];
  for (let t = Date.parse(`${fromDay}T00:00:00Z`); t <= Date.parse(`${toDay}T00:00:00Z`); t += 86_400_000)
    days.push(new Date(t).toISOString().slice(0, 10));
  const out: Record<string, unknown>[] = [];
  await inParallel(
    days.flatMap((day) => Array.from({ length: EVENT_DAY_SHARDS }, (_, s) => keys.eventDayPartition(ws, day, s))),
    8,
    async (pk) => {
      out.push(...(await queryIndexAll(store, "gsi1", { pk })).map(publicEvent));
    },
  );
  return out;
}

const publicEvent = (i: Record<string, unknown>) => {
  const { pk: _1, sk: _2, v: _3, gsi1pk: _4, gsi1sk: _5, ...rest } = i;
  return rest;
};
