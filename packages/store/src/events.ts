import { createHash, randomBytes } from "node:crypto";
import { GetCommand, PutCommand, QueryCommand, TransactWriteCommand } from "@aws-sdk/lib-dynamodb";
import {
  applyEvent,
  type Deltas,
  decayedScore,
  accountId as domainAccountId,
  type EngagementEventsMessage,
  type EngagementMarkers,
  type EngagementState,
  type EventDims,
  type EventInput,
  emptyEngagement,
  isAccountId,
  mergeDeltas,
  newId,
  normalizeDomain,
  parseDeltaKey,
  type StoredEvent,
} from "@icp/core";
import { type AccountRecord, toAccount } from "./accounts.js";
import { batchGet, batchPut, inParallel, sleep } from "./batch.js";
import type { Store } from "./clients.js";
import { stopAccountEnrollments } from "./enrollments.js";
import { keys } from "./keys.js";
import { publish } from "./queue.js";
import { addSuppression } from "./suppression.js";

/** Events per queue message, and the byte budget of one message (SQS takes 256 KiB). */
const MAX_EVENTS_PER_MESSAGE = 1000;
const MAX_MESSAGE_BYTES = 200 * 1024;
/** Shards of the per-day event index and of the counters (spreads hot keys). */
export const EVENT_DAY_SHARDS = 4;
export const COUNTER_SHARDS = 4;
/** Event ids remembered per account for idempotency (oldest forgotten first). */
export const MAX_IDS_PER_ACCOUNT = 20_000;
/** Counter increments of a batch are kept on the account until applied; older ones are pruned. */
const PENDING_TTL_MS = 24 * 3600_000;
/** Counter updates per transaction (one slot is the batch marker). */
const COUNTERS_PER_TX = 99;

const hash = (s: string) => createHash("sha256").update(s).digest("hex");
const shardOf = (s: string, n: number) => Number.parseInt(hash(s).slice(0, 8), 16) % n;

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

/** The engagement state item of an account, as stored. */
type EngagementItem = EngagementState & {
  accountId: string;
  rev: number;
  /** Event ids already recorded (idempotency), oldest first. */
  ids: string[];
  /** Counter increments of batches not yet known to be applied: batch → {at, deltas}. */
  pending: Record<string, { at: string; deltas: Deltas }>;
  updatedAt: string;
};

const toEngagement = (item: Record<string, unknown> | undefined, accountId: string): EngagementItem => {
  if (!item) return { ...emptyEngagement(), accountId, rev: 0, ids: [], pending: {}, updatedAt: "" };
  const { pk: _1, sk: _2, type: _3, v: _4, ...rest } = item;
  return rest as EngagementItem;
};

/** First open/click/reply/meeting/won… per account, per contact and per enrollment. */
export async function engagementMarkers(store: Store, ws: string, accountId: string): Promise<EngagementMarkers> {
  const e = await getEngagement(store, ws, accountId);
  return { account: e.first, byContact: e.byContact, byEnrollment: e.byEnrollment };
}

export type EngagementSummary = {
  accountId: string;
  /** Decayed engagement score now (half-life 14 days). */
  score: number;
  events: number;
  lastEventAt: string | null;
  first: EngagementMarkers["account"];
};

/** What an account's page shows about its engagement. */
export async function engagementSummary(
  store: Store,
  ws: string,
  accountId: string,
  now = Date.now(),
): Promise<EngagementSummary> {
  const e = await getEngagement(store, ws, accountId);
  return {
    accountId,
    score: decayedScore(e.score, e.scoreAt, now),
    events: e.events,
    lastEventAt: e.lastAt,
    first: e.first,
  };
}

async function getEngagement(store: Store, ws: string, accountId: string): Promise<EngagementItem> {
  const res = await store.ddb.send(
    new GetCommand({ TableName: store.cfg.tableName, Key: keys.engagement(ws, accountId), ConsistentRead: true }),
  );
  return toEngagement(res.Item, accountId);
}

/** The account an event names (by id, or by domain), or undefined when it names none validly. */
export function eventAccountId(ws: string, e: Pick<EventInput, "accountId" | "domain">): string | undefined {
  if (e.accountId) return isAccountId(e.accountId) ? e.accountId : undefined;
  const d = e.domain ? normalizeDomain(e.domain) : undefined;
  return d ? domainAccountId(ws, d) : undefined;
}

export const dimsOfAccount = (a: AccountRecord): EventDims => ({
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

/**
 * Record a batch of events (the EventQueue worker). Exactly-once per event id, also under
 * redelivery, retries by providers and a worker killed half-way:
 * 1. read the accounts (dimensions) and their engagement items (markers, ids already seen);
 * 2. for each new event: timeline entry and effects (both idempotent);
 * 3. per account, one conditional write (revision) of the engagement item that adds the event
 *    ids, the markers, the score, and this batch's counter increments as "pending";
 * 4. the batch's increments, summed over its accounts, go to the counters in transactions,
 *    each with a marker item for (batch, part): applied once, whatever happens.
 * A redelivered batch finds its ids recorded and its increments still pending on the accounts,
 * so it re-runs step 4 only, which its markers make a no-op for parts already applied.
 */
export async function recordEvents(
  store: Store,
  msg: EngagementEventsMessage,
  effects: EventEffects = DEFAULT_EFFECTS,
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

  const ids = [...byAccount.keys()];
  const found = await batchGet(
    store,
    ids.flatMap((id) => [keys.account(ws, id), keys.engagement(ws, id)]),
  );
  const item = (k: { pk: string; sk: string }) => found.get(`${k.pk}|${k.sk}`);

  // Compute every account's new state in memory, then write: all timeline entries in a few
  // BatchWriteItem requests, effects, then one conditional write per account.
  const work: { account: AccountRecord; events: StoredEvent[]; prep: Prepared }[] = [];
  for (const accId of ids) {
    const accItem = item(keys.account(ws, accId));
    const events = byAccount.get(accId) ?? [];
    if (!accItem) {
      result.unknownAccount += events.length;
      result.unknownAccountIds.push(accId);
      continue;
    }
    const account = toAccount(accItem);
    const eng = toEngagement(item(keys.engagement(ws, accId)), accId);
    work.push({ account, events, prep: prepare(ws, account, eng, events, batchKey, now) });
  }
  await batchPut(
    store,
    work.flatMap((w) => w.prep.timeline),
    4,
  );
  await inParallel(work, 8, (w) => runEffects(store, ws, w.account, w.prep.fresh, effects));

  const batchDeltas: Deltas = {};
  await inParallel(work, 16, async (w) => {
    let prep = w.prep;
    for (let attempt = 0; ; attempt++) {
      if (await commit(store, ws, prep)) {
        result.recorded += prep.fresh.length;
        result.duplicates += prep.duplicates;
        if (prep.deltas) mergeDeltas(batchDeltas, prep.deltas);
        return;
      }
      // Someone else wrote this account meanwhile: re-read, recompute, redo its idempotent writes.
      if (attempt >= 30) throw new Error(`engagement of ${w.account.id}: too many concurrent writes`);
      await sleep(Math.random() * 10 * (attempt + 1));
      prep = prepare(ws, w.account, await getEngagement(store, ws, w.account.id), w.events, batchKey, now);
      await batchPut(store, prep.timeline);
      await runEffects(store, ws, w.account, prep.fresh, effects);
    }
  });

  result.counterUpdates = await applyCounters(store, ws, batchKey, batchDeltas);
  return result;
}

type Prepared = {
  fresh: StoredEvent[];
  duplicates: number;
  timeline: Record<string, unknown>[];
  /** The item to write (undefined: nothing new for this account). */
  next?: EngagementItem;
  prevRev: number;
  accountId: string;
  /** This batch's counter increments for the account (new, or pending from an earlier attempt). */
  deltas?: Deltas;
};

/** One account's events against its engagement state (pure). */
function prepare(
  ws: string,
  account: AccountRecord,
  eng: EngagementItem,
  events: StoredEvent[],
  batchKey: string,
  now: string,
): Prepared {
  const known = new Set(eng.ids);
  const fresh = events.filter((e) => !known.has(e.id)).sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : 0));
  const duplicates = events.length - fresh.length;
  const pending = eng.pending[batchKey];
  const base = { duplicates, prevRev: eng.rev, accountId: account.id, timeline: [] as Record<string, unknown>[] };
  if (!fresh.length) return { ...base, fresh, ...(pending ? { deltas: pending.deltas } : {}) };

  const dims = dimsOfAccount(account);
  const deltas: Deltas = {};
  const next: EngagementItem = structuredClone(eng);
  for (const e of fresh) applyEvent(next, dims, e, deltas);
  if (pending) mergeDeltas(deltas, pending.deltas);
  next.ids = [...eng.ids, ...fresh.map((e) => e.id)].slice(-MAX_IDS_PER_ACCOUNT);
  const cutoff = new Date(Date.parse(now) - PENDING_TTL_MS).toISOString();
  next.pending = Object.fromEntries(Object.entries(eng.pending).filter(([b, p]) => b !== batchKey && p.at > cutoff));
  next.pending[batchKey] = { at: now, deltas };
  next.rev = eng.rev + 1;
  next.updatedAt = now;
  return { ...base, fresh, next, deltas, timeline: fresh.map((e) => timelineItem(ws, e, dims)) };
}

/** Write the account's new engagement state if nobody else did since it was read; false otherwise. */
async function commit(store: Store, ws: string, p: Prepared): Promise<boolean> {
  if (!p.next) return true;
  try {
    await store.ddb.send(
      new PutCommand({
        TableName: store.cfg.tableName,
        Item: { ...keys.engagement(ws, p.accountId), type: "engagement", v: 1, ...p.next, accountId: p.accountId },
        ConditionExpression: p.prevRev === 0 ? "attribute_not_exists(pk)" : "#rev = :prev",
        ...(p.prevRev === 0
          ? {}
          : { ExpressionAttributeNames: { "#rev": "rev" }, ExpressionAttributeValues: { ":prev": p.prevRev } }),
      }),
    );
    return true;
  } catch (e) {
    if ((e as Error).name === "ConditionalCheckFailedException") return false;
    throw e;
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

async function runEffects(
  store: Store,
  ws: string,
  account: AccountRecord,
  events: StoredEvent[],
  effects: EventEffects,
): Promise<void> {
  const stopFor = events.find((e) => e.type === "replied" || e.type === "meeting_booked");
  if (stopFor) await effects.stopAccount(store, ws, account.id, stopFor.type);
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

/**
 * Counter transactions of this process run one at a time: they all touch the same hot items,
 * and DynamoDB Local fails concurrent transactions on one item after waiting for its lock
 * (AWS cancels them with TransactionConflict, retried below as well).
 */
let counterChain: Promise<unknown> = Promise.resolve();
function serially<T>(run: () => Promise<T>): Promise<T> {
  const next = counterChain.then(run, run);
  counterChain = next.catch(() => {});
  return next;
}

/** Apply a batch's summed increments with atomic ADD, each transaction guarded by a (batch, part) marker. */
async function applyCounters(store: Store, ws: string, batchKey: string, deltas: Deltas): Promise<number> {
  const shard = shardOf(batchKey, COUNTER_SHARDS);
  const entries = Object.entries(deltas)
    .filter(([, m]) => Object.keys(m).length)
    .sort(([a], [b]) => (a < b ? -1 : 1));
  const parts: (typeof entries)[] = [];
  for (let i = 0; i < entries.length; i += COUNTERS_PER_TX) parts.push(entries.slice(i, i + COUNTERS_PER_TX));
  const expiresAt = Math.floor(Date.now() / 1000) + 14 * 86_400;
  // A redelivered batch skips the parts it already applied without a (costly) cancelled transaction.
  const markers = parts.length
    ? await batchGet(
        store,
        parts.map((_, i) => keys.counterBatch(ws, batchKey, i)),
      )
    : new Map();
  const applied = (i: number) => {
    const k = keys.counterBatch(ws, batchKey, i);
    return markers.has(`${k.pk}|${k.sk}`);
  };
  await inParallel(
    parts.map((p, i) => [p, i] as const).filter(([, i]) => !applied(i)),
    2,
    async ([part, i]) => {
      const items = part.map(([k, metrics]) => {
        const { scope, dim, day, value } = parseDeltaKey(k);
        const names: Record<string, string> = { "#ty": "type", "#v": "v" };
        const values: Record<string, unknown> = { ":ty": "counter", ":one": 1 };
        const adds = Object.entries(metrics).map(([m, n], j) => {
          names[`#m${j}`] = m;
          values[`:m${j}`] = n;
          return `#m${j} :m${j}`;
        });
        return {
          Update: {
            TableName: store.cfg.tableName,
            Key: keys.counter(ws, scope, dim, day, value, shard),
            UpdateExpression: `SET #ty = :ty, #v = :one ADD ${adds.join(", ")}`,
            ExpressionAttributeNames: names,
            ExpressionAttributeValues: values,
          },
        };
      });
      const marker = {
        Put: {
          TableName: store.cfg.tableName,
          Item: { ...keys.counterBatch(ws, batchKey, i), type: "counter-batch", v: 1, expiresAt },
          ConditionExpression: "attribute_not_exists(pk)",
        },
      };
      for (let attempt = 0; ; attempt++) {
        try {
          await serially(() => store.ddb.send(new TransactWriteCommand({ TransactItems: [marker, ...items] })));
          return;
        } catch (e) {
          const err = e as Error & { CancellationReasons?: { Code?: string }[] };
          if (
            err.name === "TransactionCanceledException" &&
            err.CancellationReasons?.[0]?.Code === "ConditionalCheckFailed"
          )
            return; // this part was applied before (redelivery)
          const retryable =
            err.name === "TransactionConflictException" ||
            (err.name === "InternalServerError" && /lock/i.test(err.message)) ||
            (err.name === "TransactionCanceledException" &&
              (err.CancellationReasons ?? []).some(
                (r) => r.Code === "TransactionConflict" || r.Code === "ThrottlingError",
              ));
          if (!retryable || attempt >= 12) throw e;
          await sleep(Math.random() * Math.min(1000, 20 * 2 ** attempt));
        }
      }
    },
  );
  return entries.length;
}

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
      let start: Record<string, unknown> | undefined;
      do {
        const res = await store.ddb.send(
          new QueryCommand({
            TableName: store.cfg.tableName,
            IndexName: "gsi1",
            KeyConditionExpression: "gsi1pk = :pk",
            ExpressionAttributeValues: { ":pk": pk },
            ExclusiveStartKey: start,
          }),
        );
        out.push(...(res.Items ?? []).map(publicEvent));
        start = res.LastEvaluatedKey;
      } while (start);
    },
  );
  return out;
}

const publicEvent = (i: Record<string, unknown>) => {
  const { pk: _1, sk: _2, v: _3, gsi1pk: _4, gsi1sk: _5, ...rest } = i;
  return rest;
};

/**
 * Create or rotate the workspace's inbound webhook secret; the plain secret is returned once.
 * It is stored as is because verifying an HMAC needs it (unlike API keys, which are hashed).
 */
export async function rotateInboundWebhookSecret(
  store: Store,
  ws: string,
): Promise<{ secret: string; createdAt: string }> {
  const secret = `whsec_${randomBytes(32).toString("base64url")}`;
  const createdAt = new Date().toISOString();
  await store.ddb.send(
    new PutCommand({
      TableName: store.cfg.tableName,
      Item: { ...keys.inboundWebhookSecret(ws), type: "inbound-webhook-secret", v: 1, secret, createdAt },
    }),
  );
  return { secret, createdAt };
}

export async function getInboundWebhookSecret(store: Store, ws: string): Promise<string | undefined> {
  const res = await store.ddb.send(
    new GetCommand({ TableName: store.cfg.tableName, Key: keys.inboundWebhookSecret(ws), ConsistentRead: true }),
  );
  return typeof res.Item?.secret === "string" ? res.Item.secret : undefined;
}

/** Remember a webhook signature as used; false when it was used before (a replay). */
export async function claimWebhookSignature(store: Store, ws: string, sig: string, t: number): Promise<boolean> {
  try {
    await store.ddb.send(
      new PutCommand({
        TableName: store.cfg.tableName,
        Item: { ...keys.inboundWebhookSignature(ws, sig), type: "webhook-signature", v: 1, expiresAt: t + 3600 },
        ConditionExpression: "attribute_not_exists(pk)",
      }),
    );
    return true;
  } catch (e) {
    if ((e as Error).name === "ConditionalCheckFailedException") return false;
    throw e;
  }
}
