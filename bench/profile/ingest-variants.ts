/**
 * A copy of packages/store/src/ingest/ingest-chunk.ts `ingestChunk` with per-phase timers and switches
 * for the variants the profile measures. Bench-only: the store's code is not changed.
 *
 * accountWrite:
 *  - "put"      the current code: one conditional PutItem per account, `putConcurrency` at once
 *  - "transact" the same conditional puts grouped in TransactWriteItems of `transactSize`
 *               (same conditions, so the optimistic concurrency is kept); a cancelled
 *               transaction re-reads its accounts and retries once, then takes the per-account path
 *  - "batch"    unconditional BatchWriteItem (NOT safe against concurrent writers: an upper bound)
 */
import { TransactWriteCommand } from "@aws-sdk/lib-dynamodb";
import {
  type AccountInput,
  accountId,
  type CompiledIcp,
  type IngestChunkMessage,
  matchPersona,
  type TierChangedEvent,
} from "@icp/core";
import {
  type AccountRecord,
  accountItem,
  activeIcps,
  batchGet,
  batchPut,
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
import { contactItems as contactItemsFor, nextState } from "../compat.js";

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
  /** false: do not publish tier changes at all (measures what route messages cost). */
  publishEvents: boolean;
  /** One route message per chunk carrying all its tier changes ({kind: "tier-changed-batch", events}). */
  routeBatch: boolean;
  /** "transact" only: skip the BatchGetItem and write as new (attribute_not_exists); read only what turns out to exist. */
  optimisticNew: boolean;
  /** Skip the isChunkDone read (markChunkDone's condition and lastSource keep redelivery idempotent). */
  skipChunkCheck: boolean;
  /** Reuse a workspace's active ICPs for this long instead of querying them per chunk (0: per chunk). */
  icpCacheMs: number;
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
export type Timings = Record<Phase, number> & { chunks: number; chunkMs: number; conflicts: number };

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
  conflicts: 0,
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
async function publishParallel(store: Store, events: readonly unknown[]): Promise<void> {
  const groups: unknown[][] = [];
  for (let i = 0; i < events.length; i += 10) groups.push(events.slice(i, i + 10));
  await Promise.all(groups.map((g) => publish(store, "RouteQueue", g)));
}

const icpCache = new Map<string, { at: number; icps: CompiledIcp[] }>();

async function icpsFor(store: Store, ws: string, cacheMs: number): Promise<CompiledIcp[]> {
  const hit = icpCache.get(ws);
  if (cacheMs > 0 && hit && Date.now() - hit.at < cacheMs) return hit.icps;
  const icps = await activeIcps(store, ws);
  icpCache.set(ws, { at: Date.now(), icps });
  return icps;
}

type Row = { row: AccountInput; id: string };

export async function ingestChunkVariant(store: Store, msg: IngestChunkMessage, v: Variant, t: Timings): Promise<void> {
  const c0 = performance.now();
  const ws = msg.workspaceId;
  if (!v.skipChunkCheck && (await timed(t, "isChunkDone", () => isChunkDone(store, ws, msg.importId, msg.chunk))))
    return;
  const icps = await timed(t, "activeIcps", () => icpsFor(store, ws, v.icpCacheMs));
  const source = `import:${msg.importId}#${msg.chunk}`;
  const now = Date.parse(msg.at);
  const ids = msg.rows.map((r) => accountId(ws, r.account.domain));
  const read = async (which: readonly string[]) => {
    const found = await timed(t, "batchGet", () =>
      batchGet(
        store,
        which.map((id) => keys.account(ws, id)),
      ),
    );
    const byId = new Map<string, AccountRecord>();
    for (const item of found.values()) byId.set(item.id as string, item as unknown as AccountRecord);
    return byId;
  };
  const optimistic = v.accountWrite === "transact" && v.optimisticNew;
  const existing = optimistic ? new Map<string, AccountRecord>() : await read(ids);

  const personas = icps.flatMap((c) => c.icp.personas);
  const contactItems = msg.rows.flatMap((r, i) =>
    contactItemsFor(ws, ids[i] as string, r.account.contacts ?? [], (c) => matchPersona(personas, c)),
  );
  const events: TierChangedEvent[] = [];
  /** Accounts of this chunk settled (written, or found written by this chunk): the job counts the qualified ones. */
  const states = new Map<string, AccountRecord>();
  const settle = (a: AccountRecord) => {
    states.set(a.id, a);
    const last = a.tierHistory[a.tierHistory.length - 1];
    if (last?.source === source) events.push(tierChangedEvent(ws, a, last));
  };
  const rows: Row[] = msg.rows.map((r, i) => ({ row: r.account, id: ids[i] as string }));
  const next = ({ row, id }: Row, prev: AccountRecord | undefined) =>
    nextState(ws, id, prev, row, icps, now, source, msg.at);

  // The current per-account path (also the last fallback of the transact variant).
  const putOne = async (r: Row, prevIn: AccountRecord | undefined) => {
    let prev = prevIn;
    for (let attempt = 0; ; attempt++) {
      if (prev?.lastSource === source) return settle(prev);
      const n = next(r, prev);
      try {
        await putAccountIfUnchanged(store, ws, n);
        return settle(n);
      } catch (e) {
        if (!(e instanceof StaleAccountError) || attempt >= 5) throw e;
        prev = await getAccount(store, ws, r.id);
      }
    }
  };

  /** One TransactWriteItems of conditional puts; false when cancelled (an account changed meanwhile). */
  const transact = async (group: readonly Row[], prevs: Map<string, AccountRecord>): Promise<boolean> => {
    const nexts = group.map((r) => next(r, prevs.get(r.id)));
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
    } catch (e) {
      if ((e as Error).name !== "TransactionCanceledException") throw e;
      t.conflicts++;
      return false;
    }
    for (const a of nexts) settle(a);
    return true;
  };

  if (v.accountWrite === "put") {
    await timed(t, "contacts", () => batchPut(store, contactItems, v.batchConcurrency));
    await timed(t, "accounts", () => inParallel(rows, v.putConcurrency, (r) => putOne(r, existing.get(r.id))));
  } else if (v.accountWrite === "batch") {
    const nexts = rows.map((r) => next(r, existing.get(r.id)));
    for (const a of nexts) settle(a);
    const accountItems = nexts.map((a) => accountItem(ws, a));
    if (v.contactsWithAccounts)
      await timed(t, "accounts", () => batchPut(store, [...contactItems, ...accountItems], v.batchConcurrency));
    else {
      await timed(t, "contacts", () => batchPut(store, contactItems, v.batchConcurrency));
      await timed(t, "accounts", () => batchPut(store, accountItems, v.batchConcurrency));
    }
  } else {
    await timed(t, "contacts", () => batchPut(store, contactItems, v.batchConcurrency));
    const todo = rows.filter((r) => {
      const prev = existing.get(r.id);
      if (prev?.lastSource !== source) return true;
      settle(prev); // written by an earlier delivery of this chunk
      return false;
    });
    const groups: Row[][] = [];
    for (let i = 0; i < todo.length; i += v.transactSize) groups.push(todo.slice(i, i + v.transactSize));
    await inParallel(groups, v.batchConcurrency, async (group) => {
      if (await timed(t, "accounts", () => transact(group, existing))) return;
      // Some account exists or changed: read the group, retry once with their revisions, then one by one.
      const prevs = await read(group.map((r) => r.id));
      const rest = group.filter((r) => {
        const prev = prevs.get(r.id);
        if (prev?.lastSource !== source) return true;
        settle(prev);
        return false;
      });
      if (!rest.length || (await timed(t, "accounts", () => transact(rest, prevs)))) return;
      await timed(t, "accounts", () =>
        inParallel(rest, v.putConcurrency, async (r) => putOne(r, await getAccount(store, ws, r.id))),
      );
    });
  }
  if (events.length && v.publishEvents) {
    const messages: unknown[] = v.routeBatch ? [{ kind: "tier-changed-batch", events }] : events;
    await timed(t, "publish", () =>
      v.publishParallel ? publishParallel(store, messages) : publish(store, "RouteQueue", messages),
    );
  }
  await timed(t, "markChunkDone", () =>
    markChunkDone(store, ws, msg.importId, msg.chunk, {
      rows: msg.rowCount ?? msg.rows.length,
      accounts: msg.rows.length,
      qualified: [...states.values()].filter((a) => a.qualified).length,
    }),
  );
  t.chunks++;
  t.chunkMs += performance.now() - c0;
}
