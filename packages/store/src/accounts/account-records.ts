import { createHash } from "node:crypto";
import {
  BatchWriteCommand,
  GetCommand,
  PutCommand,
  QueryCommand,
  TransactWriteCommand,
  UpdateCommand,
} from "@aws-sdk/lib-dynamodb";
import {
  type AccountFacts,
  accountId,
  type Contact,
  contactIdentity,
  isAccountId,
  normalizeDomain,
  type Score,
  type Tier,
  type TierChangedEvent,
} from "@icp/core";
import type { Store } from "../infra/index.js";
import {
  backoff,
  batchDelete,
  batchGet,
  cancelledBy,
  chunks,
  conditionFailed,
  inParallel,
  keys,
  queryIndexAll,
  queryPage,
  retry,
  SHARDS,
  slots,
} from "../infra/index.js";
import { creationGuard, type IngestGrant, waitForCreation } from "./ingest-lease.js";

export type TierHistoryEntry = {
  eventId: string;
  from: Tier | null;
  to: Tier;
  score: number;
  icpId: string | null;
  icpVersion: number | null;
  at: string;
  source: string;
};

/** The account as stored: facts, current score and its explanation, bounded tier history. */
export type AccountRecord = {
  id: string;
  domain: string;
  facts: AccountFacts;
  score: number;
  tier: Tier;
  qualified: boolean;
  breakdown: Score["breakdown"];
  disqualifiedBy?: Score["disqualifiedBy"];
  icpId: string | null;
  icpVersion: number | null;
  segment: string;
  tierHistory: TierHistoryEntry[];
  /** The write that produced this state (`import:<id>#<chunk>`): makes a redelivered chunk a no-op. */
  lastSource: string;
  /** Optimistic-concurrency revision; every write requires the revision it read. */
  rev: number;
  /** When signals age enough to change the score (ISO), for the sweep. */
  agingAt?: string;
  /** Deal outcome reported by the team (CRM sync or API), used by backtests and reviews. */
  outcome?: { outcome: "won" | "lost"; amount?: number; at: string };
  /** The account's contacts, merged by email / LinkedIn / name (bounded by MAX_CONTACTS). */
  contacts: StoredContact[];
  createdAt: string;
  updatedAt: string;
};

/** Tier history kept on the account item; older entries remain in the route queue's consumers. */
export const TIER_HISTORY_LIMIT = 50;
/**
 * Contacts live inside the account item: one write per account keeps ingest at the cost of the
 * account itself, and 500 contacts of ~300 bytes stay far below DynamoDB's 400 KB item limit.
 */
export const MAX_CONTACTS = 500;

export function accountItem(ws: string, a: AccountRecord): Record<string, unknown> {
  // Same item as `{...key, ...gsi1, ...gsi2, ...gsi3, ...gsi4?, type, v, ...a}`, built without
  // the chain of spreads (which V8 runs ~10x slower; this is on the ingest's per-account path).
  const item: Record<string, unknown> = keys.account(ws, a.id);
  Object.assign(
    item,
    keys.accountByTier(ws, a.tier, a.score, a.id),
    keys.accountBySegment(ws, a.segment, a.score, a.id),
    keys.accountByShard(ws, a.id),
  );
  if (a.agingAt) Object.assign(item, keys.accountAging(ws, a.id, a.agingAt));
  item.type = "account";
  item.v = 1;
  return Object.assign(item, a);
}

export function toAccount(item: Record<string, unknown>): AccountRecord {
  const { pk: _1, sk: _2, type: _7, v: _8, ...rest } = item;
  for (const k of Object.keys(rest)) if (/^gsi\d(pk|sk)$/.test(k)) delete rest[k];
  return rest as AccountRecord;
}

export class StaleAccountError extends Error {}

/** Optimistic writes retried this often on a contended account before the message is retried by SQS. */
export const MAX_WRITE_ATTEMPTS = 12;

const conditionOn = (a: AccountRecord) =>
  a.rev === 1
    ? { ConditionExpression: "attribute_not_exists(pk)" }
    : { ConditionExpression: "rev = :prev", ExpressionAttributeValues: { ":prev": a.rev - 1 } };

/** Waits for the ingest lease before a creation gives up (each wait is bounded; see lease.ts). */
const MAX_LEASE_WAITS = 5;

/**
 * Write an account only if nobody else wrote it since we read revision `a.rev - 1`. Creating
 * one (rev 1) also requires that no ingest chunk is writing new accounts unconditionally
 * (packages/store/src/accounts/ingest-lease.ts), waiting for them if need be; `self` is that chunk's own grant.
 */
export async function putAccountIfUnchanged(
  store: Store,
  ws: string,
  a: AccountRecord,
  self?: IngestGrant,
): Promise<void> {
  const put = { TableName: store.cfg.tableName, Item: accountItem(ws, a), ...conditionOn(a) };
  for (let waits = 0; ; waits++) {
    if (waits > MAX_LEASE_WAITS) throw new Error(`account ${a.id}: the ingest lease kept refusing its creation`);
    try {
      if (a.rev !== 1) await store.ddb.send(new PutCommand(put));
      else
        await store.ddb.send(
          new TransactWriteCommand({ TransactItems: [creationGuard(store, ws, self), { Put: put }] }),
        );
      return;
    } catch (e) {
      const name = (e as Error).name;
      if (conditionFailed(e) || (a.rev === 1 && cancelledBy(e, 1))) throw new StaleAccountError(a.id);
      if (a.rev === 1 && cancelledBy(e, 0)) await waitForCreation(store, ws);
      else if (name === "TransactionConflictException" || name === "TransactionCanceledException")
        throw new StaleAccountError(a.id); // a conflicting transaction: re-read and retry like a stale write
      else throw e;
    }
  }
}

/** What `writeWithRetry` should do with the account as it is now: nothing more, or write `write`. */
export type WriteStep<R> = { done: R } | { write: AccountRecord; result: R };

/**
 * The optimistic-write loop: decide from the current state, write it conditionally on its
 * revision, and on a concurrent write re-read and decide again (up to MAX_WRITE_ATTEMPTS,
 * with jittered pauses: the item is contended).
 */
export async function writeWithRetry<R>(
  store: Store,
  ws: string,
  id: string,
  current: AccountRecord | undefined,
  step: (current: AccountRecord | undefined) => WriteStep<R>,
  self?: IngestGrant,
): Promise<R> {
  let seen = current;
  return retry(
    async (attempt) => {
      if (attempt > 0) seen = await getAccount(store, ws, id);
      const s = step(seen);
      if ("done" in s) return s.done;
      await putAccountIfUnchanged(store, ws, s.write, self);
      return s.result;
    },
    // Linear, not exponential: a hot account's writers should come back soon.
    { attempts: MAX_WRITE_ATTEMPTS + 1, baseMs: 20, capMs: Infinity, growth: "linear", retryIf: isStale },
  );
}

const isStale = (e: unknown) => e instanceof StaleAccountError;

/** Resolve `acc_…` or any form of a domain ("https://www.acme.com/") to the account id. */
export function resolveAccountRef(ws: string, ref: string): string | undefined {
  if (isAccountId(ref)) return ref;
  const domain = normalizeDomain(ref); // the router has already percent-decoded the path
  return domain ? accountId(ws, domain) : undefined;
}

export async function getAccount(store: Store, ws: string, id: string): Promise<AccountRecord | undefined> {
  const res = await store.ddb.send(
    new GetCommand({ TableName: store.cfg.tableName, Key: keys.account(ws, id), ConsistentRead: true }),
  );
  return res.Item ? toAccount(res.Item) : undefined;
}

/** A contact's stable id within its account (a hash of what identifies the person). */
export const contactKey = (c: Contact) => createHash("sha256").update(contactIdentity(c)).digest("hex").slice(0, 24);

export type StoredContact = Contact & { id: string; persona?: string };

export type AccountFilter = { tier?: Tier; segment?: string; icpId?: string; icpVersion?: number };
export type Page<T> = { items: T[]; nextCursor?: string };

const TIER_ORDER: Tier[] = ["priority", "nurture", "generic", "disqualified"];

type Cursor = { t: number; k?: Record<string, unknown> };
const encodeCursor = (c: Cursor) => Buffer.from(JSON.stringify(c)).toString("base64url");
export function decodeCursor(s: string): Cursor | undefined {
  try {
    const c = JSON.parse(Buffer.from(s, "base64url").toString()) as Cursor;
    return typeof c.t === "number" && c.t >= 0 && c.t < TIER_ORDER.length ? c : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Accounts best first. A segment filter reads GSI2; otherwise GSI1 tier by tier
 * (priority, nurture, generic, disqualified), so an unfiltered listing is a ranking.
 * The ICP filter is applied server-side as a filter expression.
 */
export async function listAccounts(
  store: Store,
  ws: string,
  f: AccountFilter,
  limit: number,
  cursor?: string,
): Promise<Page<AccountRecord>> {
  const c: Cursor = cursor ? (decodeCursor(cursor) ?? { t: 0 }) : { t: f.tier ? TIER_ORDER.indexOf(f.tier) : 0 };
  const items: AccountRecord[] = [];
  let startKey = c.k;
  let t = c.t;
  const filters: string[] = [];
  const values: Record<string, unknown> = {};
  if (f.icpId) {
    filters.push("icpId = :icp");
    values[":icp"] = f.icpId;
  }
  if (f.icpVersion !== undefined) {
    filters.push("icpVersion = :icpv");
    values[":icpv"] = f.icpVersion;
  }
  const bySegment = f.segment !== undefined;
  if (bySegment && f.tier) {
    filters.push("tier = :tier");
    values[":tier"] = f.tier;
  }
  for (;;) {
    const tier = TIER_ORDER[t] as Tier;
    const res = await store.ddb.send(
      new QueryCommand({
        TableName: store.cfg.tableName,
        IndexName: bySegment ? "gsi2" : "gsi1",
        KeyConditionExpression: bySegment ? "gsi2pk = :pk" : "gsi1pk = :pk",
        ExpressionAttributeValues: {
          ...values,
          ":pk": bySegment
            ? keys.accountSegmentPartition(ws, f.segment as string)
            : keys.accountTierPartition(ws, tier),
        },
        ...(filters.length ? { FilterExpression: filters.join(" AND ") } : {}),
        Limit: limit - items.length,
        ExclusiveStartKey: startKey,
      }),
    );
    items.push(...(res.Items ?? []).map(toAccount));
    startKey = res.LastEvaluatedKey;
    const moreInTier = startKey !== undefined;
    if (items.length >= limit) {
      if (moreInTier) return { items, nextCursor: encodeCursor({ t, k: startKey }) };
      const nextTier = !bySegment && !f.tier && t + 1 < TIER_ORDER.length;
      return nextTier ? { items, nextCursor: encodeCursor({ t: t + 1 }) } : { items };
    }
    if (!moreInTier) {
      if (bySegment || f.tier || t + 1 >= TIER_ORDER.length) return { items };
      t += 1;
    }
  }
}

export type TimelineEntry = { at: string; type: string; [k: string]: unknown };

/** Newest first: the stored timeline entries merged with the account's tier changes. */
export async function accountTimeline(
  store: Store,
  ws: string,
  a: AccountRecord,
  limit: number,
): Promise<TimelineEntry[]> {
  const page = await queryPage(store, keys.timelinePrefix(ws, a.id), { limit, newestFirst: true });
  const stored = page.items.map((i) => {
    const { pk: _1, sk: _2, v: _3, gsi1pk: _4, gsi1sk: _5, ...rest } = i;
    return rest as TimelineEntry;
  });
  const tiers: TimelineEntry[] = a.tierHistory.map((h) => ({ ...h, type: "tier_changed" }));
  return [...stored, ...tiers].sort((x, y) => (x.at < y.at ? 1 : x.at > y.at ? -1 : 0)).slice(0, limit);
}

export function tierChangedEvent(ws: string, a: AccountRecord, h: TierHistoryEntry): TierChangedEvent {
  return {
    kind: "tier-changed",
    eventId: h.eventId,
    workspaceId: ws,
    accountId: a.id,
    domain: a.domain,
    from: h.from,
    to: h.to,
    score: h.score,
    icpId: h.icpId,
    icpVersion: h.icpVersion,
    segment: a.segment,
    at: h.at,
    source: h.source,
  };
}

/**
 * Every account of a workspace, read shard by shard from the stable account index. Costs one
 * read per account: for reviews and backtests over history, not for request paths.
 */
export async function allAccounts(store: Store, ws: string): Promise<AccountRecord[]> {
  const shards = await Promise.all(
    Array.from({ length: SHARDS }, (_, shard) =>
      queryIndexAll(store, "gsi3", { pk: keys.accountShardPartition(ws, shard) }),
    ),
  );
  return shards.flat().map(toAccount);
}

/**
 * Record (or clear, with null) the deal outcome of an account. `unlessNewer`: keep an outcome
 * the account already holds from a later time (won/lost events come late and out of order).
 */
export async function setAccountOutcome(
  store: Store,
  ws: string,
  id: string,
  outcome: AccountRecord["outcome"] | null,
  opts: { unlessNewer?: boolean } = {},
): Promise<boolean> {
  const newerGuard = Boolean(outcome && opts.unlessNewer);
  try {
    await store.ddb.send(
      new UpdateCommand({
        TableName: store.cfg.tableName,
        Key: keys.account(ws, id),
        // Bumps the revision, so that a concurrent optimistic write (ingest, re-score) cannot
        // overwrite the outcome with the state it read before.
        UpdateExpression: outcome ? "SET outcome = :o ADD rev :one" : "REMOVE outcome ADD rev :one",
        ConditionExpression: newerGuard
          ? "attribute_exists(pk) AND (attribute_not_exists(outcome) OR outcome.#at <= :at)"
          : "attribute_exists(pk)",
        ...(newerGuard ? { ExpressionAttributeNames: { "#at": "at" } } : {}),
        ExpressionAttributeValues: {
          ":one": 1,
          ...(outcome ? { ":o": outcome } : {}),
          ...(newerGuard && outcome ? { ":at": outcome.at } : {}),
        },
      }),
    );
    return true;
  } catch (e) {
    if (conditionFailed(e)) return false;
    throw e;
  }
}

/**
 * Erase an account and everything stored under it (contacts, timeline) on request. Aggregates
 * it contributed to elsewhere hold no personal data and are left as they are.
 */
/** Which of these account ids exist in the workspace (keys only are read). */
export async function existingAccountIds(store: Store, ws: string, ids: readonly string[]): Promise<Set<string>> {
  const unique = [...new Set(ids)];
  const found = await batchGet(
    store,
    unique.map((id) => keys.account(ws, id)),
    8,
    [],
  );
  return new Set(unique.filter((id) => found.has(`${keys.account(ws, id).pk}|${keys.account(ws, id).sk}`)));
}

export async function deleteAccount(store: Store, ws: string, id: string): Promise<number> {
  const pk = keys.account(ws, id).pk;
  const items: Record<string, unknown>[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const res = await store.ddb.send(
      new QueryCommand({
        TableName: store.cfg.tableName,
        KeyConditionExpression: "pk = :pk",
        ExpressionAttributeValues: { ":pk": pk },
        ProjectionExpression: "pk, sk",
        ExclusiveStartKey: start,
      }),
    );
    items.push(...(res.Items ?? []));
    start = res.LastEvaluatedKey;
  } while (start);
  await batchDelete(store, items as { pk: string; sk: string }[]);
  return items.length;
}

/**
 * Write many accounts in one transaction (up to 99; creations add the lease guard as the first
 * item), each conditioned on the revision it was read at. All or nothing: false when any of them
 * changed meanwhile (the caller then writes them one by one); waits while the guard refuses.
 */
export async function putAccountsIfUnchanged(
  store: Store,
  ws: string,
  accounts: readonly AccountRecord[],
  self?: IngestGrant,
): Promise<boolean> {
  const creates = accounts.some((a) => a.rev === 1);
  const off = creates ? 1 : 0;
  for (let waits = 0; ; waits++) {
    if (waits > MAX_LEASE_WAITS) throw new Error("the ingest lease kept refusing the creation of accounts");
    try {
      const puts = accounts.map((a) => ({
        Put: { TableName: store.cfg.tableName, Item: accountItem(ws, a), ...conditionOn(a) },
      }));
      await store.ddb.send(
        new TransactWriteCommand({ TransactItems: creates ? [creationGuard(store, ws, self), ...puts] : puts }),
      );
      return true;
    } catch (e) {
      const name = (e as Error).name;
      if (name !== "TransactionCanceledException" && name !== "TransactionConflictException") throw e;
      const stale = accounts.some((_, i) => cancelledBy(e, i + off));
      // Refused by the guard: wait once here rather than in every one-by-one write.
      if (creates && cancelledBy(e, 0)) await waitForCreation(store, ws);
      if (stale || !creates || !cancelledBy(e, 0)) return false;
    }
  }
}

/**
 * The ingest's bulk requests in flight per process (a chunk's read of its accounts, the
 * BatchWriteItem requests of new ones), whatever the number of chunks being ingested at once:
 * DynamoDB (Local) serves a few concurrent requests best, and dozens of them in flight only wait
 * (bench/RESULTS.md). The chunks still overlap their other work.
 */
export const ingestRequests = slots(8);

/**
 * Write accounts that did not exist at a consistent read, unconditionally (BatchWriteItem, 25 per
 * request) — only for the holder of an ingest lease grant. Nothing is sent after the grant's
 * deadline (requests still running then are aborted): returns the accounts that may not have
 * been written, for the caller to write with conditions.
 */
export async function putNewAccounts(
  store: Store,
  ws: string,
  accounts: readonly AccountRecord[],
  grant: IngestGrant,
): Promise<AccountRecord[]> {
  const table = store.cfg.tableName;
  const left: AccountRecord[] = [];
  await inParallel(chunks(accounts, 25), 4, async (batch) => {
    const byPk = new Map(batch.map((a) => [keys.account(ws, a.id).pk, a]));
    let pending = batch.map((a) => ({ PutRequest: { Item: accountItem(ws, a) } }));
    for (let attempt = 0; pending.length; attempt++) {
      if (attempt > 0) await backoff(attempt, { baseMs: 25, capMs: 1000 });
      const sent = await ingestRequests(async () => {
        const remaining = grant.deadline - Date.now(); // after waiting for the slot
        if (remaining <= 0 || attempt >= 8) return false;
        try {
          const res = await store.ddb.send(new BatchWriteCommand({ RequestItems: { [table]: pending } }), {
            abortSignal: AbortSignal.timeout(remaining),
          });
          pending = (res.UnprocessedItems?.[table] ?? []) as typeof pending;
          return true;
        } catch (e) {
          if ((e as Error).name !== "AbortError" && !/abort/i.test((e as Error).message)) throw e;
          return false;
        }
      });
      if (!sent) break;
    }
    for (const p of pending) left.push(byPk.get(String(p.PutRequest.Item.pk)) as AccountRecord);
  });
  return left;
}
