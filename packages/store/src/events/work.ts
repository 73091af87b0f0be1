/** What the events worker holds per account, and the per-process state its deliveries share. */
import type { StoredEvent } from "@icp/core";
import type { AccountRecord } from "../accounts/index.js";
import type { Store } from "../infra/index.js";
import { batchGet, keys, slots } from "../infra/index.js";
import { type EngagementItem, toEngagement } from "./engagement-item.js";

export type RecordResult = {
  /** Events recorded now (new). */
  recorded: number;
  /** Already recorded before (same id): redeliveries, provider retries. */
  duplicates: number;
  /** Naming no existing account of the workspace: dropped (logged and counted by the worker). */
  unknownAccount: number;
  unknownAccountIds: string[];
  counterUpdates: number;
};

/** Effects that belong to other capabilities; the default stops the account's sequences (sequencing/). */
export type EventEffects = {
  stopAccount: (store: Store, ws: string, accountId: string, reason: string) => Promise<unknown>;
};

/** The account fields the worker needs (projected read: account items can be large). */
export const ACCOUNT_FIELDS = ["id", "segment", "tier", "qualified", "icpId", "icpVersion", "contacts"] as const;
type AccountDims = Pick<AccountRecord, (typeof ACCOUNT_FIELDS)[number]>;

/**
 * DynamoDB requests of the worker in flight per process (commits, reads, timeline, effects). The
 * messages of a poll run at once (up to 40 in the local stack), and without a bound their hundreds
 * of requests queue up in DynamoDB (Local), where the counter transactions, one at a time per
 * process, then wait seconds each: most of the time went there.
 */
export const inSlot = slots(16);

/**
 * The engagement items this process wrote last, and a lock per account: deliveries handled by
 * this process take turns on an account and start from the state the previous one wrote, instead
 * of racing each other with conditional writes (which failed and re-read again and again when
 * many messages touch the same accounts). The conditional write still guards against other
 * processes: a stale entry fails it, and the item is read again.
 */
const ENGAGEMENT_CACHE_MAX = 5_000;
export const engagementCache = new Map<string, EngagementItem>();
export const remember = (key: string, item: EngagementItem) => {
  engagementCache.delete(key);
  engagementCache.set(key, item);
  if (engagementCache.size > ENGAGEMENT_CACHE_MAX)
    engagementCache.delete(engagementCache.keys().next().value as string);
};
const accountLocks = new Map<string, Promise<void>>();
export async function withAccountLock<T>(key: string, run: () => Promise<T>): Promise<T> {
  const prev = accountLocks.get(key);
  let release: () => void = () => {};
  const mine = new Promise<void>((r) => {
    release = r;
  });
  accountLocks.set(key, mine);
  try {
    await prev;
    return await run();
  } finally {
    release();
    if (accountLocks.get(key) === mine) accountLocks.delete(key);
  }
}

export type Work = {
  account: AccountDims;
  /** This message's events for the account (first occurrence of each id). */
  events: StoredEvent[];
  eng: EngagementItem;
};

/** One delivery of a message, for the steps after its claim. */
export type BatchJob = { store: Store; ws: string; batchKey: string; now: string; result: RecordResult };

/** The key of an account's entry in the engagement cache and lock map. */
export const cacheKey = (job: BatchJob, accId: string) => `${job.store.cfg.tableName}|${job.ws}|${accId}`;

/**
 * Step 2: the accounts (their dimensions) and their engagement items. Events of accounts that do
 * not exist are counted as unknown and dropped.
 */
export async function loadWork(job: BatchJob, byAccount: Map<string, StoredEvent[]>): Promise<Work[]> {
  const { store, ws, result } = job;
  const ids = [...byAccount.keys()];
  // Engagement items this process wrote last are not read again (a stale one fails its conditional
  // write and is read then); accounts always are (their dimensions count).
  const unknown = ids.filter((id) => !engagementCache.has(cacheKey(job, id)));
  const [accounts, engagements] = await Promise.all([
    inSlot(() =>
      batchGet(
        store,
        ids.map((id) => keys.account(ws, id)),
        1,
        ACCOUNT_FIELDS,
      ),
    ),
    unknown.length
      ? inSlot(() =>
          batchGet(
            store,
            unknown.map((id) => keys.engagement(ws, id)),
            1,
          ),
        )
      : new Map<string, Record<string, unknown>>(),
  ]);
  const at = (m: Map<string, Record<string, unknown>>, k: { pk: string; sk: string }) => m.get(`${k.pk}|${k.sk}`);
  const work: Work[] = [];
  for (const accId of ids) {
    const accItem = at(accounts, keys.account(ws, accId));
    const events = byAccount.get(accId) ?? [];
    if (!accItem) {
      result.unknownAccount += events.length;
      result.unknownAccountIds.push(accId);
      continue;
    }
    work.push({
      account: { ...(accItem as unknown as AccountDims), id: accId },
      events,
      eng:
        engagementCache.get(cacheKey(job, accId)) ?? toEngagement(at(engagements, keys.engagement(ws, accId)), accId),
    });
  }
  return work;
}
