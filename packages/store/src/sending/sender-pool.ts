import { createHash } from "node:crypto";
import { GetCommand, PutCommand, TransactWriteCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import {
  type CapDecision,
  type CappedChannel,
  type CapUsage,
  type Channel,
  type ChannelLimits,
  capDecision,
  channelLimits,
  DEFAULT_SENDER_LIMITS,
  newId,
  nextSendAt,
  nextUtcDay,
  type Sender,
  type SenderInput,
  SenderLimits,
  senderKindFor,
  utcDay,
  utcWeek,
} from "@icp/core";
import type { Store } from "../infra/index.js";
import { backoff, batchGet, conditionFailed, keys, queryAll, withoutKeys } from "../infra/index.js";

/**
 * Senders (mailboxes and LinkedIn seats) and their cap usage. Usage lives in one item per
 * sender × channel × UTC day (and × ISO week for LinkedIn invites); a send reserves its slot
 * with ONE conditional write on those items (count < limit AND nextAt ≤ now), so any number
 * of concurrent workers can never push a sender over its cap.
 */
export const CAPPED_CHANNELS: readonly CappedChannel[] = ["email", "linkedin_invite", "linkedin_message"];

const toSender = (item: Record<string, unknown>) => withoutKeys(item) as Sender;

export async function createSender(store: Store, ws: string, input: SenderInput, now = new Date()): Promise<Sender> {
  const sender: Sender = {
    id: newId("snd"),
    kind: input.kind,
    name: input.name,
    ...(input.email ? { email: input.email } : {}),
    ...(input.signature ? { signature: input.signature } : {}),
    ...(input.linkedinUrl ? { linkedinUrl: input.linkedinUrl } : {}),
    warmupStart: input.warmupStart ? new Date(input.warmupStart).toISOString() : now.toISOString(),
    limits: SenderLimits.parse({ ...DEFAULT_SENDER_LIMITS, ...input.limits }),
    createdAt: now.toISOString(),
  };
  await store.ddb.send(
    new PutCommand({
      TableName: store.cfg.tableName,
      Item: { ...keys.sender(ws, sender.id), type: "sender", v: 1, ...sender },
      ConditionExpression: "attribute_not_exists(pk)",
    }),
  );
  return sender;
}

export async function getSender(store: Store, ws: string, id: string): Promise<Sender | undefined> {
  const res = await store.ddb.send(
    new GetCommand({ TableName: store.cfg.tableName, Key: keys.sender(ws, id), ConsistentRead: true }),
  );
  return res.Item ? toSender(res.Item) : undefined;
}

export async function listSenders(store: Store, ws: string, kind?: Sender["kind"]): Promise<Sender[]> {
  const { pk, skPrefix } = keys.senderPrefix(ws);
  const all = (await queryAll(store, pk, skPrefix)).map(toSender);
  return kind ? all.filter((s) => s.kind === kind) : all;
}

/** Today's usage of one channel of a sender, with the limit in force. */
export type ChannelUsage = {
  channel: CappedChannel;
  day: string;
  sent: number;
  limit: number;
  nextAt: string | null;
} & {
  week?: { start: string; sent: number; limit: number };
};

const dayKey = (ws: string, id: string, ch: CappedChannel, day: string) => keys.senderUsage(ws, id, ch, `D#${day}`);
const weekKey = (ws: string, id: string, ch: CappedChannel, week: string) => keys.senderUsage(ws, id, ch, `W#${week}`);
const channelsOf = (s: Sender): CappedChannel[] =>
  s.kind === "mailbox" ? ["email"] : ["linkedin_invite", "linkedin_message"];

/** Today's usage per channel of each sender (one batched read). */
export async function senderUsage(
  store: Store,
  ws: string,
  senders: readonly Sender[],
  now = new Date(),
): Promise<Map<string, ChannelUsage[]>> {
  const day = utcDay(now);
  const week = utcWeek(now);
  const wanted = senders.flatMap((s) =>
    channelsOf(s).flatMap((ch) => [
      dayKey(ws, s.id, ch, day),
      ...(ch === "linkedin_invite" ? [weekKey(ws, s.id, ch, week)] : []),
    ]),
  );
  const items = wanted.length ? await batchGet(store, wanted) : new Map<string, Record<string, unknown>>();
  const get = (k: { pk: string; sk: string }) => items.get(`${k.pk}|${k.sk}`);
  const out = new Map<string, ChannelUsage[]>();
  for (const s of senders) {
    out.set(
      s.id,
      channelsOf(s).map((ch) => {
        const lim = channelLimits(ch, s.limits, s.warmupStart, now);
        const d = get(dayKey(ws, s.id, ch, day));
        const u: ChannelUsage = {
          channel: ch,
          day,
          sent: Number(d?.count ?? 0),
          limit: lim.perDay,
          nextAt: (d?.nextAt as string | undefined) ?? null,
        };
        if (lim.perWeek !== null)
          u.week = { start: week, sent: Number(get(weekKey(ws, s.id, ch, week))?.count ?? 0), limit: lim.perWeek };
        return u;
      }),
    );
  }
  return out;
}

/**
 * The sender for a new enrollment on this channel: the least used today among the
 * workspace's senders of the right kind. Senders within 2% of a day's cap of the least used
 * count as tied, and the tie is broken by a hash of `seed` (the enrollment id), so a burst of
 * concurrent picks that all read the same usage spreads over them instead of piling onto one.
 * Undefined when there is none. Callers fix the choice with assignSender so every step of the
 * enrollment uses it.
 */
export async function pickSender(
  store: Store,
  ws: string,
  channel: Channel,
  now = new Date(),
  seed = "",
): Promise<Sender | undefined> {
  const kind = senderKindFor(channel);
  if (!kind) return undefined;
  const senders = await listSenders(store, ws, kind);
  if (senders.length <= 1) return senders[0];
  const usage = await senderUsage(store, ws, senders, now);
  const load = (s: Sender) => (usage.get(s.id) ?? []).reduce((n, u) => n + u.sent / Math.max(1, u.limit), 0);
  const min = Math.min(...senders.map(load));
  const tied = senders.filter((s) => load(s) <= min + 0.02).sort((a, b) => a.id.localeCompare(b.id));
  const h = Number.parseInt(createHash("sha256").update(seed).digest("hex").slice(0, 8), 16);
  return tied[h % tied.length];
}

export type Reservation = ({ ok: true } | Extract<CapDecision, { ok: false }>) & {
  limits: ChannelLimits;
};

/** The reservation was refused: a cap's condition held no more, or a concurrent transaction won. */
const refused = (e: unknown) => conditionFailed(e) || (e as Error).name === "TransactionCanceledException";

type UsageUpdate = NonNullable<
  NonNullable<ConstructorParameters<typeof TransactWriteCommand>[0]["TransactItems"]>[number]["Update"]
>;

/** What one reservation writes: the day item, and (when needed) the week item and the next day's gap. */
type ReservationWrites = { day: UsageUpdate; week?: UsageUpdate; spill?: UsageUpdate };

const USAGE_TAGS = { ":type": "sender-usage", ":v": 1 };

/**
 * The day item's increment, conditioned on the day's limit and, unless the channel has no gap,
 * on its `nextAt` (previous send + gap + jitter) not being after now.
 */
function dayIncrement(table: string, key: Record<string, string>, limits: ChannelLimits, now: Date, next: Date) {
  // Without a gap there is no `nextAt` to keep or to check: concurrent workers whose clocks
  // read a few ms apart must not refuse each other over it.
  const gapless = limits.gapMs === 0 && limits.jitterMs === 0;
  const names = { "#c": "count", "#last": "lastAt", "#lim": "limit", "#t": "type", "#v": "v" };
  const values = { ":zero": 0, ":one": 1, ":now": now.toISOString(), ":lim": limits.perDay, ...USAGE_TAGS };
  if (gapless)
    return {
      TableName: table,
      Key: key,
      UpdateExpression: "SET #c = if_not_exists(#c, :zero) + :one, #last = :now, #lim = :lim, #t = :type, #v = :v",
      ConditionExpression: "attribute_not_exists(#c) OR #c < :lim",
      ExpressionAttributeNames: names,
      ExpressionAttributeValues: values,
    };
  return {
    TableName: table,
    Key: key,
    UpdateExpression:
      "SET #c = if_not_exists(#c, :zero) + :one, #last = :now, #next = :next, #lim = :lim, #t = :type, #v = :v",
    ConditionExpression: "(attribute_not_exists(#c) OR #c < :lim) AND (attribute_not_exists(#next) OR #next <= :now)",
    ExpressionAttributeNames: { ...names, "#next": "nextAt" },
    ExpressionAttributeValues: { ...values, ":next": next.toISOString() },
  };
}

/** The writes of one reservation attempt at `now`, with `next` the earliest next send. */
function reservationWrites(
  store: Store,
  ws: string,
  sender: Sender,
  channel: CappedChannel,
  limits: ChannelLimits,
  now: Date,
  next: Date,
): ReservationWrites {
  const table = store.cfg.tableName;
  const gapless = limits.gapMs === 0 && limits.jitterMs === 0;
  const day = dayIncrement(table, dayKey(ws, sender.id, channel, utcDay(now)), limits, now, next);
  const out: ReservationWrites = { day };
  if (limits.perWeek !== null)
    out.week = {
      TableName: table,
      Key: weekKey(ws, sender.id, channel, utcWeek(now)),
      UpdateExpression: "SET #c = if_not_exists(#c, :zero) + :one, #lim = :lim, #t = :type, #v = :v",
      ConditionExpression: "attribute_not_exists(#c) OR #c < :lim",
      ExpressionAttributeNames: { "#c": "count", "#lim": "limit", "#t": "type", "#v": "v" },
      ExpressionAttributeValues: { ":zero": 0, ":one": 1, ":lim": limits.perWeek, ...USAGE_TAGS },
    };
  // When the gap runs past midnight, the next day's item gets the `nextAt` too.
  if (!gapless && utcDay(next) !== utcDay(now))
    out.spill = {
      TableName: table,
      Key: dayKey(ws, sender.id, channel, utcDay(nextUtcDay(now))),
      UpdateExpression: "SET #next = :next, #t = :type, #v = :v",
      ExpressionAttributeNames: { "#next": "nextAt", "#t": "type", "#v": "v" },
      ExpressionAttributeValues: { ":next": next.toISOString(), ...USAGE_TAGS },
    };
  return out;
}

/** Write a reservation: one conditional update, or a transaction when it spans items. False when refused. */
async function writeReservation(store: Store, w: ReservationWrites): Promise<boolean> {
  try {
    if (!w.week && !w.spill) await store.ddb.send(new UpdateCommand(w.day));
    else {
      const items = [w.day, w.week, w.spill].filter((u): u is UsageUpdate => u !== undefined);
      await store.ddb.send(new TransactWriteCommand({ TransactItems: items.map((Update) => ({ Update })) }));
    }
    return true;
  } catch (e) {
    if (!refused(e)) throw e;
    return false;
  }
}

/**
 * Reserve one send of `channel` for `sender` at `now`, atomically: the day item's count must
 * be under the day's limit and its `nextAt` (previous send + gap + seeded jitter) not after
 * now; LinkedIn invites also bump the week item in the same transaction. When the gap runs
 * past midnight the next day's item gets the `nextAt` too, so the gap holds across days.
 * Over the cap, the answer says until when to wait — the caller defers, it never drops.
 */
export async function reserveCapacity(
  store: Store,
  ws: string,
  sender: Sender,
  channel: CappedChannel,
  now = new Date(),
  seed = "",
): Promise<Reservation> {
  const limits = channelLimits(channel, sender.limits, sender.warmupStart, now);
  for (let attempt = 0; ; attempt++) {
    const next = nextSendAt(limits, now, `${sender.id}#${channel}#${seed}`);
    if (await writeReservation(store, reservationWrites(store, ws, sender, channel, limits, now, next)))
      return { ok: true, limits };
    // Refused: read the usage to tell the caller how long to wait (or retry a lost race).
    const usage = await readUsage(store, ws, sender.id, channel, now);
    const d = capDecision(usage, limits, now);
    if (!d.ok) return { ...d, limits };
    if (attempt >= 8) return { ok: false, reason: "gap", waitUntil: new Date(now.getTime() + 1000), limits };
    await backoff(attempt + 1, { baseMs: 20, capMs: Number.POSITIVE_INFINITY, growth: "linear" });
  }
}

async function readUsage(
  store: Store,
  ws: string,
  senderId: string,
  channel: CappedChannel,
  now: Date,
): Promise<CapUsage> {
  const dk = dayKey(ws, senderId, channel, utcDay(now));
  const wk = weekKey(ws, senderId, channel, utcWeek(now));
  const got = await batchGet(store, channel === "linkedin_invite" ? [dk, wk] : [dk]);
  const d = got.get(`${dk.pk}|${dk.sk}`);
  const w = got.get(`${wk.pk}|${wk.sk}`);
  return {
    today: Number(d?.count ?? 0),
    week: Number(w?.count ?? 0),
    nextAt: (d?.nextAt as string | undefined) ?? null,
  };
}
