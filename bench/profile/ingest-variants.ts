/**
 * A copy of packages/store/src/ingest.ts `ingestChunk` with per-phase timers and switches
 * for the variants the profile measures. Bench-only: the store's code is not changed.
 *
 * accountWrite:
 *  - "put"      the current code: one conditional PutItem per account, `putConcurrency` at once
 *  - "transact" conditional puts grouped in TransactWriteItems of `transactSize` (same
 *               conditions, so the optimistic concurrency is kept); a cancelled transaction
 *               falls back to the per-account path for its accounts
 *  - "batch"    unconditional BatchWriteItem (NOT safe against concurrent writers: an upper bound)
 */
import { TransactWriteCommand } from "@aws-sdk/lib-dynamodb";
import { accountId, type IngestChunkMessage, matchPersona, type TierChangedEvent } from "@icp/core";
import {
  type AccountRecord,
  accountItem,
  activeIcps,
  batchGet,
  batchPut,
  contactItem,
  getAccount,
  inParallel,
  isChunkDone,
  keys,
  markChunkDone,
  publish,
  putAccountIfUnchanged,
  StaleAccountError,
  type Store,
  tierChangedEvent,
} from "@icp/store";
import { nextState } from "../compat.js";

export type Variant = {
  name: string;
  accountWrite: "put" | "transact" | "batch";
  putConcurrency: number;
  transactSize: number;
  /** Contacts and (for "batch") accounts in one batchPut stream instead of two. */
  contactsWithAccounts: boolean;
  batchConcurrency: number;
  /** Publish the route events' SendMessageBatch calls in parallel instead of one after another. */
  publishParallel: boolean;
};

export const PHASES = [
  "isChunkDone",
  "activeIcps",
  "batchGet",
  "contacts",
  "accounts",
  "publish",
  "markChunkDone",
] as const;
export type Phase = (typeof PHASES)[number];
export type Timings = Record<Phase, number> & { chunks: number; chunkMs: number };

export const emptyTimings = (): Timings => ({
  isChunkDone: 0,
  activeIcps: 0,
  batchGet: 0,
  contacts: 0,
  accounts: 0,
  publish: 0,
  markChunkDone: 0,
  chunks: 0,
  chunkMs: 0,
});

async function timed<T>(t: Timings, phase: Phase, f: () => Promise<T>): Promise<T> {
  const t0 = performance.now();
  try {
    return await f();
  } finally {
    t[phase] += performance.now() - t0;
  }
}

/** SendMessageBatch calls of at most 10 messages, all at once (publish() sends them one after another). */
async function publishParallel(store: Store, events: readonly TierChangedEvent[]): Promise<void> {
  const groups: TierChangedEvent[][] = [];
  for (let i = 0; i < events.length; i += 10) groups.push(events.slice(i, i + 10));
  await Promise.all(groups.map((g) => publish(store, "RouteQueue", g)));
}

export async function ingestChunkVariant(store: Store, msg: IngestChunkMessage, v: Variant, t: Timings): Promise<void> {
  const c0 = performance.now();
  const ws = msg.workspaceId;
  if (await timed(t, "isChunkDone", () => isChunkDone(store, ws, msg.importId, msg.chunk))) return;
  const icps = await timed(t, "activeIcps", () => activeIcps(store, ws));
  const source = `import:${msg.importId}#${msg.chunk}`;
  const now = Date.parse(msg.at);
  const ids = msg.rows.map((r) => accountId(ws, r.account.domain));
  const existing = await timed(t, "batchGet", () =>
    batchGet(
      store,
      ids.map((id) => keys.account(ws, id)),
    ),
  );
  const personas = icps.flatMap((c) => c.icp.personas);
  const contactItems = msg.rows.flatMap((r, i) =>
    (r.account.contacts ?? []).map((c) => contactItem(ws, ids[i] as string, c, matchPersona(personas, c))),
  );
  const events: TierChangedEvent[] = [];
  const rows = msg.rows.map((r, i) => ({ row: r.account, id: ids[i] as string }));

  // The current per-account path, also the fallback of the transact variant.
  const putOne = async ({ row, id }: (typeof rows)[number], prevIn: AccountRecord | undefined) => {
    let prev = prevIn;
    for (let attempt = 0; ; attempt++) {
      if (prev?.lastSource === source) {
        const last = prev.tierHistory[prev.tierHistory.length - 1];
        if (last?.source === source) events.push(tierChangedEvent(ws, prev, last));
        return;
      }
      const next = nextState(ws, id, prev, row, icps, now, source, msg.at);
      try {
        await putAccountIfUnchanged(store, ws, next);
        const last = next.tierHistory[next.tierHistory.length - 1];
        if (last?.source === source) events.push(tierChangedEvent(ws, next, last));
        return;
      } catch (e) {
        if (!(e instanceof StaleAccountError) || attempt >= 5) throw e;
        prev = await getAccount(store, ws, id);
      }
    }
  };
  const prevOf = (id: string) => existing.get(`${keys.account(ws, id).pk}|A`) as AccountRecord | undefined;

  if (v.accountWrite === "put") {
    await timed(t, "contacts", () => batchPut(store, contactItems, v.batchConcurrency));
    await timed(t, "accounts", () => inParallel(rows, v.putConcurrency, (r) => putOne(r, prevOf(r.id))));
  } else if (v.accountWrite === "batch") {
    const nexts = rows.map(({ row, id }) => nextState(ws, id, prevOf(id), row, icps, now, source, msg.at));
    for (const next of nexts) {
      const last = next.tierHistory[next.tierHistory.length - 1];
      if (last?.source === source) events.push(tierChangedEvent(ws, next, last));
    }
    const accountItems = nexts.map((a) => accountItem(ws, a));
    if (v.contactsWithAccounts)
      await timed(t, "accounts", () => batchPut(store, [...contactItems, ...accountItems], v.batchConcurrency));
    else {
      await timed(t, "contacts", () => batchPut(store, contactItems, v.batchConcurrency));
      await timed(t, "accounts", () => batchPut(store, accountItems, v.batchConcurrency));
    }
  } else {
    await timed(t, "contacts", () => batchPut(store, contactItems, v.batchConcurrency));
    await timed(t, "accounts", async () => {
      const todo = rows.filter((r) => prevOf(r.id)?.lastSource !== source);
      for (const r of rows) if (prevOf(r.id)?.lastSource === source) await putOne(r, prevOf(r.id));
      const groups: (typeof rows)[] = [];
      for (let i = 0; i < todo.length; i += v.transactSize) groups.push(todo.slice(i, i + v.transactSize));
      await inParallel(groups, v.batchConcurrency, async (group) => {
        const nexts = group.map(({ row, id }) => nextState(ws, id, prevOf(id), row, icps, now, source, msg.at));
        try {
          await store.ddb.send(
            new TransactWriteCommand({
              TransactItems: nexts.map((a) => ({
                Put: {
                  TableName: store.cfg.tableName,
                  Item: accountItem(ws, a),
                  ConditionExpression: a.rev === 1 ? "attribute_not_exists(pk)" : "rev = :prev",
                  ...(a.rev === 1 ? {} : { ExpressionAttributeValues: { ":prev": a.rev - 1 } }),
                },
              })),
            }),
          );
          for (const next of nexts) {
            const last = next.tierHistory[next.tierHistory.length - 1];
            if (last?.source === source) events.push(tierChangedEvent(ws, next, last));
          }
        } catch (e) {
          if ((e as Error).name !== "TransactionCanceledException") throw e;
          // Someone wrote one of them meanwhile: the whole group takes the per-account path.
          await inParallel(group, v.putConcurrency, async (r) => putOne(r, await getAccount(store, ws, r.id)));
        }
      });
    });
  }
  if (events.length)
    await timed(t, "publish", () =>
      v.publishParallel ? publishParallel(store, events) : publish(store, "RouteQueue", events),
    );
  await timed(t, "markChunkDone", () =>
    markChunkDone(store, ws, msg.importId, msg.chunk, msg.rowCount ?? msg.rows.length),
  );
  t.chunks++;
  t.chunkMs += performance.now() - c0;
}
