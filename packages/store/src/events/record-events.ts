/**
 * The events worker: accepting events (publishEvents, onto the EventQueue) and recording them
 * (recordEvents): engagement items, timeline entries, effects, counters. Its parts live in
 * engagement-item.ts, event-claims.ts, event-counters.ts, event-reads.ts and webhook-secrets.ts.
 */
import { TransactWriteCommand, type TransactWriteCommandInput } from "@aws-sdk/lib-dynamodb";
import {
  applyEvent,
  type Deltas,
  accountId as domainAccountId,
  type EngagementEventsMessage,
  type EventDims,
  type EventInput,
  isAccountId,
  mergeDeltas,
  newId,
  normalizeDomain,
  type StoredEvent,
} from "@icp/core";
import { type AccountRecord, setAccountOutcome } from "../accounts/index.js";
import type { Store } from "../infra/index.js";
import { backoff, batchGet, batchPut, chunks, inParallel, keys, publish, slots } from "../infra/index.js";
import { stopAccountEnrollments } from "../sequencing/index.js";
import { addSuppression } from "../tenancy/index.js";
import {
  CLAIM_RENEW_MS,
  CLAIM_TTL_MS,
  claimBatch,
  doneBatches,
  markDone,
  recording,
  rememberDone,
  renewClaim,
} from "./claims.js";
import { applyCounters } from "./counters.js";
import { type EngagementItem, engagementItem, getEngagement, type Pending, toEngagement } from "./engagement-item.js";
import { EVENT_DAY_SHARDS, hash, shardOf } from "./shards.js";

/** Events per queue message, and the byte budget of one message (SQS takes 256 KiB). */
const MAX_EVENTS_PER_MESSAGE = 1000;
const MAX_MESSAGE_BYTES = 200 * 1024;
/**
 * Recent event ids kept on an account's engagement item (oldest dropped first; ~30 KB at most).
 * Older events are recognised by their timeline entry (see `floor`).
 */
export const MAX_IDS_PER_ACCOUNT = 1_000;

/**
 * Accept events for a workspace: give each an id (when the caller did not) and a time (when it
 * has none: now), and put them on the EventQueue in messages of up to 1,000. Idempotency is
 * by id, so a caller retrying with the same ids is safe.
 */
export async function publishEvents(
  store: Store,
  ws: string,
  events: readonly EventInput[],
): Promise<{ accepted: number; ids: string[] }> {
  const now = new Date().toISOString();
  const resolved: StoredEvent[] = events.map((e) => ({
    ...e,
    id: e.id ?? newId("evt"),
    at: e.at ? new Date(e.at).toISOString() : now,
  }));
  const messages: EngagementEventsMessage[] = [];
  let batch: StoredEvent[] = [];
  let bytes = 0;
  for (const e of resolved) {
    const size = Buffer.byteLength(JSON.stringify(e)) + 1;
    if (batch.length && (batch.length >= MAX_EVENTS_PER_MESSAGE || bytes + size > MAX_MESSAGE_BYTES)) {
      messages.push({ kind: "engagement-events", workspaceId: ws, events: batch });
      batch = [];
      bytes = 0;
    }
    batch.push(e);
    bytes += size;
  }
  if (batch.length) messages.push({ kind: "engagement-events", workspaceId: ws, events: batch });
  await publish(store, "EventQueue", messages);
  return { accepted: resolved.length, ids: resolved.map((e) => e.id) };
}

/** The account an event names (by id, or by domain), or undefined when it names none validly. */
export function eventAccountId(ws: string, e: Pick<EventInput, "accountId" | "domain">): string | undefined {
  if (e.accountId) return isAccountId(e.accountId) ? e.accountId : undefined;
  const d = e.domain ? normalizeDomain(e.domain) : undefined;
  return d ? domainAccountId(ws, d) : undefined;
}

export const dimsOfAccount = (a: Pick<AccountRecord, keyof EventDims>): EventDims => ({
  segment: a.segment,
  tier: a.tier,
  qualified: a.qualified,
  icpId: a.icpId,
  icpVersion: a.icpVersion,
});

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

/** Effects that belong to other capabilities; the default stops the account's sequences (enrollments.ts). */
export type EventEffects = {
  stopAccount: (store: Store, ws: string, accountId: string, reason: string) => Promise<unknown>;
};
const DEFAULT_EFFECTS: EventEffects = { stopAccount: stopAccountEnrollments };

/** The account fields the worker needs (projected read: account items can be large). */
const ACCOUNT_FIELDS = ["id", "segment", "tier", "qualified", "icpId", "icpVersion", "contacts"] as const;
type AccountDims = Pick<AccountRecord, (typeof ACCOUNT_FIELDS)[number]>;

/**
 * DynamoDB requests of the worker in flight per process (commits, reads, timeline, effects). The
 * messages of a poll run at once (up to 40 in the local stack), and without a bound their hundreds
 * of requests queue up in DynamoDB (Local), where the counter transactions, one at a time per
 * process, then wait seconds each: most of the time went there.
 */
const inSlot = slots(16);

/**
 * The engagement items this process wrote last, and a lock per account: deliveries handled by
 * this process take turns on an account and start from the state the previous one wrote, instead
 * of racing each other with conditional writes (which failed and re-read again and again when
 * many messages touch the same accounts). The conditional write still guards against other
 * processes: a stale entry fails it, and the item is read again.
 */
const ENGAGEMENT_CACHE_MAX = 5_000;
const engagementCache = new Map<string, EngagementItem>();
const remember = (key: string, item: EngagementItem) => {
  engagementCache.delete(key);
  engagementCache.set(key, item);
  if (engagementCache.size > ENGAGEMENT_CACHE_MAX)
    engagementCache.delete(engagementCache.keys().next().value as string);
};
const accountLocks = new Map<string, Promise<void>>();
async function withAccountLock<T>(key: string, run: () => Promise<T>): Promise<T> {
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

type Work = {
  account: AccountDims;
  /** This message's events for the account (first occurrence of each id). */
  events: StoredEvent[];
  eng: EngagementItem;
};

/**
 * Record a batch of events (the EventQueue worker). Exactly-once per event id, also under
 * redelivery (concurrent or not), retries by providers and a worker killed half-way:
 * 1. claim the message (by content hash): a concurrent copy of it waits until the holder is done
 *    (then it is a no-op) or its claim runs out (then it takes over and redoes what is left);
 * 2. read the accounts (dimensions) and their engagement items (markers, recent ids, pending
 *    shares of other batches), and which of those batches are done (their shares are dropped);
 * 3. per account, one conditional write (revision) of the engagement item that adds the new
 *    events: ids, markers, score, and this batch's share (counter increments, ids, dimensions);
 * 4. for each account holding a share of this batch: timeline entries and effects (idempotent);
 * 5. the batch's increments, summed over its accounts, go to the counters in transactions,
 *    each with a marker item for (batch, part): applied once, whatever happens;
 * 6. the message is marked done.
 * A redelivered or taken-over batch finds its events recorded and its shares on the accounts, so
 * it redoes steps 4–6 only (idempotent). An event is a duplicate when its id is among the
 * account's recent ids or pending shares, or, when it is at or before the account's `floor`, when
 * its timeline entry exists (written only after step 3).
 */
export async function recordEvents(
  store: Store,
  msg: EngagementEventsMessage,
  effects: EventEffects = DEFAULT_EFFECTS,
  /** Tests: called after each step (a throw there is a worker dying at that point). */
  hook?: (step: "committed" | "owed" | "counted") => Promise<void> | void,
): Promise<RecordResult> {
  const ws = msg.workspaceId;
  const batchKey = hash(JSON.stringify(msg)).slice(0, 32);
  const now = new Date().toISOString();
  const result: RecordResult = {
    recorded: 0,
    duplicates: 0,
    unknownAccount: 0,
    unknownAccountIds: [],
    counterUpdates: 0,
  };

  // Group by account, first occurrence of an id wins within the message.
  const byAccount = new Map<string, StoredEvent[]>();
  const seen = new Set<string>();
  for (const raw of msg.events) {
    if (seen.has(raw.id)) {
      result.duplicates++;
      continue;
    }
    seen.add(raw.id);
    const id = eventAccountId(ws, raw);
    if (!id) {
      result.unknownAccount++;
      continue;
    }
    const e = { ...raw, accountId: id, at: new Date(raw.at).toISOString() };
    const list = byAccount.get(id) ?? [];
    list.push(e);
    byAccount.set(id, list);
  }
  if (!byAccount.size) return result;

  const local = `${store.cfg.tableName}|${ws}|${batchKey}`;
  const claim = await claimBatch(store, ws, batchKey);
  if (claim === "done") {
    for (const list of byAccount.values()) result.duplicates += list.length;
    return result;
  }
  // The claim is kept alive while this delivery works; a worker that dies stops renewing it.
  const beat = setInterval(() => {
    renewClaim(store, ws, batchKey, claim.token, Date.now() + CLAIM_TTL_MS).catch(() => {});
  }, CLAIM_RENEW_MS);
  beat.unref?.();
  const work = recordClaimed(store, ws, batchKey, now, byAccount, effects, result, hook);
  recording.set(local, work);
  try {
    await work;
  } catch (e) {
    // Let another delivery take over at once (a worker that dies cannot: its claim runs out).
    await renewClaim(store, ws, batchKey, claim.token, 0).catch(() => {});
    throw e;
  } finally {
    clearInterval(beat);
    recording.delete(local);
  }
  return result;
}

async function recordClaimed(
  store: Store,
  ws: string,
  batchKey: string,
  now: string,
  byAccount: Map<string, StoredEvent[]>,
  effects: EventEffects,
  result: RecordResult,
  hook?: (step: "committed" | "owed" | "counted") => Promise<void> | void,
): Promise<void> {
  const ids = [...byAccount.keys()];
  // Engagement items this process wrote last are not read again (a stale one fails its conditional
  // write and is read then); accounts always are (their dimensions count).
  const cacheKey = (accId: string) => `${store.cfg.tableName}|${ws}|${accId}`;
  const unknown = ids.filter((id) => !engagementCache.has(cacheKey(id)));
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
      eng: engagementCache.get(cacheKey(accId)) ?? toEngagement(at(engagements, keys.engagement(ws, accId)), accId),
    });
  }

  // One conditional write per account with new events; on a conflict, re-read and recompute.
  const batchDeltas: Deltas = {};
  const shares: { w: Work; share: Pending }[] = [];
  const settle = (w: Work, p: Prepared) => {
    result.recorded += p.fresh.length;
    result.duplicates += p.duplicates;
    if (p.share?.deltas) mergeDeltas(batchDeltas, p.share.deltas);
    if (p.share?.ids?.length && p.share.d) shares.push({ w, share: p.share });
  };
  const facts = await lookups(store, ws, batchKey, work);
  await inParallel(work, 16, (w) => {
    const key = cacheKey(w.account.id);
    return withAccountLock(key, async () => {
      // Another delivery in this process may have written the account since it was read.
      const cached = engagementCache.get(key);
      const fresher = cached && cached.rev > w.eng.rev ? { ...w, eng: cached } : undefined;
      let prep = fresher
        ? prepare(ws, fresher, batchKey, now, await lookups(store, ws, batchKey, [fresher], false))
        : prepare(ws, w, batchKey, now, facts);
      for (let attempt = 0; ; attempt++) {
        const outcome = await commit(store, ws, prep);
        if (outcome === "ok") {
          if (prep.next) remember(key, prep.next);
          return settle(w, prep);
        }
        if (attempt >= 40) throw new Error(`engagement of ${w.account.id}: too many concurrent writes`);
        await backoff(attempt + 1, { baseMs: 10, capMs: Infinity, growth: "linear" });
        if (outcome === "again") continue; // its transaction failed for another item: send it again
        // Someone else (another process) wrote this account meanwhile: re-read and recompute.
        const again: Work = { ...w, eng: await inSlot(() => getEngagement(store, ws, w.account.id)) };
        prep = prepare(ws, again, batchKey, now, await lookups(store, ws, batchKey, [again]));
      }
    });
  });
  await hook?.("committed");

  // What the batch owes for the events recorded under its name: timeline entries, effects.
  const timeline = shares.flatMap(({ w, share }) => {
    const want = new Set(share.ids);
    return w.events.filter((e) => want.has(e.id)).map((e) => timelineItem(ws, e, share.d as EventDims));
  });
  await Promise.all([
    inParallel(chunks(timeline, 25), 4, (items) => inSlot(() => batchPut(store, items, 1))),
    inParallel(shares, 8, ({ w, share }) => {
      const want = new Set(share.ids);
      const owed = w.events.filter((e) => want.has(e.id));
      return owed.some(hasEffect) ? inSlot(() => runEffects(store, ws, w.account, owed, effects)) : Promise.resolve();
    }),
  ]);

  await hook?.("owed");
  result.counterUpdates = await applyCounters(store, ws, batchKey, batchDeltas);
  await hook?.("counted");
  await markDone(store, ws, batchKey);
}

/** What step 2 learns besides the items: batches done, and timeline entries that exist. */
type Facts = { done: Set<string>; timeline: Set<string> };

async function lookups(store: Store, ws: string, batchKey: string, work: Work[], claims = true): Promise<Facts> {
  const batches = new Set<string>();
  const timelineKeys: { pk: string; sk: string }[] = [];
  for (const w of work) {
    if (claims)
      for (const b of Object.keys(w.eng.pending ?? {}))
        if (b !== batchKey && !doneBatches.has(`${ws}|${b}`)) batches.add(b);
    const floor = w.eng.floor;
    if (!floor) continue;
    const known = knownIds(w.eng);
    for (const e of w.events)
      if (e.at <= floor && !known.has(e.id)) timelineKeys.push(keys.timelineEvent(ws, w.account.id, e.at, e.id));
  }
  const [claimed, timeline] = await Promise.all([
    batches.size
      ? batchGet(
          store,
          [...batches].map((b) => keys.eventBatch(ws, b)),
          4,
          ["st"],
        )
      : new Map<string, Record<string, unknown>>(),
    timelineKeys.length ? batchGet(store, timelineKeys, 4, ["kind"]) : new Map<string, Record<string, unknown>>(),
  ]);
  const done = new Set<string>();
  for (const b of batches) {
    const k = keys.eventBatch(ws, b);
    if (claimed.get(`${k.pk}|${k.sk}`)?.st === "done") {
      done.add(b);
      rememberDone(ws, b);
    }
  }
  const tl = new Set<string>();
  for (const [k, item] of timeline) if (item.kind === "engagement") tl.add(k);
  return { done, timeline: tl };
}

const knownIds = (eng: EngagementItem) => {
  const known = new Set(eng.ids);
  for (const p of Object.values(eng.pending ?? {})) for (const id of p.ids ?? []) known.add(id);
  return known;
};

type Prepared = {
  fresh: StoredEvent[];
  duplicates: number;
  /** The item to write (undefined: nothing new for this account). */
  next?: EngagementItem;
  prevRev: number;
  accountId: string;
  /** This batch's share on the account after the write (new, or from an earlier attempt). */
  share?: Pending;
};

/** Pending shares are kept this long at most when their batch never finishes (SQS keeps a message 14 days). */
const PENDING_TTL_MS = 14 * 86_400_000;

/** One account's events against its engagement state (pure, given the facts looked up). */
function prepare(ws: string, w: Work, batchKey: string, now: string, facts: Facts): Prepared {
  const { eng, account, events } = w;
  const known = knownIds(eng);
  const floor = eng.floor ?? null;
  const isDuplicate = (e: StoredEvent) => {
    if (known.has(e.id)) return true;
    if (floor === null || e.at > floor) return false;
    const k = keys.timelineEvent(ws, account.id, e.at, e.id);
    return facts.timeline.has(`${k.pk}|${k.sk}`);
  };
  const fresh = events.filter((e) => !isDuplicate(e)).sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : 0));
  const duplicates = events.length - fresh.length;
  const own = eng.pending?.[batchKey];
  const base = { duplicates, prevRev: eng.rev, accountId: account.id };
  if (!fresh.length) return { ...base, fresh, ...(own ? { share: own } : {}) };

  // A batch counts an account's events in the dimensions of its first write there.
  const dims = own?.d ?? dimsOfAccount(account);
  const deltas: Deltas = {};
  const { pending: _p, ids: _i, ...state } = eng;
  const next: EngagementItem = { ...structuredClone(state), ids: [], pending: {} };
  for (const e of fresh) applyEvent(next, dims, e, deltas);
  if (own) mergeDeltas(deltas, own.deltas);
  const allIds = [...eng.ids, ...fresh.map((e) => e.id)];
  next.ids = allIds.slice(-MAX_IDS_PER_ACCOUNT);
  // Ids dropped from the list: every event recorded so far is at or before lastAt.
  next.floor = allIds.length > next.ids.length ? next.lastAt : floor;
  const cutoff = new Date(Date.parse(now) - PENDING_TTL_MS).toISOString();
  for (const [b, p] of Object.entries(eng.pending ?? {}))
    if (b !== batchKey && !facts.done.has(b) && !doneBatches.has(`${ws}|${b}`) && p.at > cutoff) next.pending[b] = p;
  const share: Pending = {
    at: now,
    deltas,
    ids: [...(own?.ids ?? []), ...fresh.map((e) => e.id)],
    d: dims,
  };
  next.pending[batchKey] = share;
  next.rev = eng.rev + 1;
  next.updatedAt = now;
  return { ...base, fresh, next, share };
}

/**
 * Engagement writes of a process go out together: each is a conditional put (on the revision read),
 * and whatever is waiting is sent as one TransactWriteItems of up to COMMITS_PER_TX, a few in
 * flight. On DynamoDB Local a transaction of 25–100 puts wrote ~480 items/s against ~200/s for
 * single conditional puts (same run). The account lock guarantees one write per item per
 * transaction. (On AWS a transactional write costs twice the write units of a put.)
 */
const COMMITS_PER_TX = 50;
const TX_IN_FLIGHT = 3;
type TxPut = NonNullable<NonNullable<TransactWriteCommandInput["TransactItems"]>[number]["Put"]>;
type CommitRequest = { put: TxPut; done: (r: "ok" | "conflict" | "again" | Error) => void };
const commitQueues = new WeakMap<Store, { waiting: CommitRequest[]; inFlight: number }>();

/**
 * Write the account's new engagement state if nobody else did since it was read: "conflict" when
 * someone did, "again" when its transaction failed for another reason (send it again).
 */
function commit(store: Store, ws: string, p: Prepared): Promise<"ok" | "conflict" | "again"> {
  if (!p.next) return Promise.resolve("ok");
  const put: TxPut = {
    TableName: store.cfg.tableName,
    Item: engagementItem(ws, { ...p.next, accountId: p.accountId }),
    ConditionExpression: p.prevRev === 0 ? "attribute_not_exists(pk)" : "#rev = :prev",
    ...(p.prevRev === 0
      ? {}
      : { ExpressionAttributeNames: { "#rev": "rev" }, ExpressionAttributeValues: { ":prev": p.prevRev } }),
  };
  let q = commitQueues.get(store);
  if (!q) {
    q = { waiting: [], inFlight: 0 };
    commitQueues.set(store, q);
  }
  const queue = q;
  return new Promise((resolve, reject) => {
    queue.waiting.push({ put, done: (r) => (r instanceof Error ? reject(r) : resolve(r)) });
    pump(store, queue);
  });
}

function pump(store: Store, q: { waiting: CommitRequest[]; inFlight: number }) {
  while (q.inFlight < TX_IN_FLIGHT && q.waiting.length) {
    const batch = q.waiting.splice(0, COMMITS_PER_TX);
    q.inFlight++;
    store.ddb
      .send(new TransactWriteCommand({ TransactItems: batch.map((r) => ({ Put: r.put })) }))
      .then(
        () => {
          for (const r of batch) r.done("ok");
        },
        (e) => {
          const err = e as Error & { CancellationReasons?: { Code?: string }[] };
          if (err.name === "TransactionCanceledException") {
            const reasons = err.CancellationReasons ?? [];
            batch.forEach((r, i) => {
              r.done(reasons[i]?.Code === "ConditionalCheckFailed" ? "conflict" : "again");
            });
          } else if (
            err.name === "TransactionConflictException" ||
            err.name === "ThrottlingException" ||
            err.name === "ProvisionedThroughputExceededException" ||
            (err.name === "InternalServerError" && /lock/i.test(err.message))
          )
            for (const r of batch) r.done("again");
          else for (const r of batch) r.done(err);
        },
      )
      .finally(() => {
        q.inFlight--;
        pump(store, q);
      });
  }
}

/** The timeline entry of an event (account partition, newest first), also indexed by day. */
export function timelineItem(ws: string, e: StoredEvent, d: EventDims): Record<string, unknown> {
  const accountId = e.accountId as string;
  const { domain: _d, ...fields } = e;
  return {
    ...keys.timelineEvent(ws, accountId, e.at, e.id),
    ...keys.eventByDay(ws, e.at.slice(0, 10), shardOf(e.id, EVENT_DAY_SHARDS), e.at, e.id),
    v: 1,
    kind: "engagement",
    ...fields,
    accountId,
    dims: d,
  };
}

const hasEffect = (e: StoredEvent) =>
  e.type === "replied" ||
  e.type === "meeting_booked" ||
  e.type === "unsubscribed" ||
  e.type === "bounced" ||
  e.type === "won" ||
  e.type === "lost";

async function runEffects(
  store: Store,
  ws: string,
  account: Pick<AccountRecord, "id" | "contacts">,
  events: StoredEvent[],
  effects: EventEffects,
): Promise<void> {
  const stopFor = events.find((e) => e.type === "replied" || e.type === "meeting_booked");
  if (stopFor) await effects.stopAccount(store, ws, account.id, stopFor.type);
  // A won/lost deal becomes the account's outcome (backtests and reviews read it), the latest wins.
  const deal = events
    .filter((e) => e.type === "won" || e.type === "lost")
    .reduce<StoredEvent | undefined>((a, e) => (!a || e.at >= a.at ? e : a), undefined);
  if (deal)
    await setAccountOutcome(
      store,
      ws,
      account.id,
      {
        outcome: deal.type as "won" | "lost",
        ...(deal.amount !== undefined ? { amount: deal.amount } : {}),
        at: deal.at,
      },
      { unlessNewer: true },
    );
  for (const e of events) {
    if (e.type !== "unsubscribed" && e.type !== "bounced") continue;
    const email =
      e.contactEmail ?? (e.contactId ? account.contacts?.find((c) => c.id === e.contactId)?.email : undefined);
    if (!email) continue;
    await addSuppression(store, ws, {
      email,
      reason: e.type === "unsubscribed" ? "unsubscribed" : "hard-bounce",
      source: `event:${e.id}`,
      at: e.at,
    });
  }
}
