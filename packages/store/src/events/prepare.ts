/** Step 3's decision for one account: which events are new, and the engagement item to write. */
import { applyEvent, type Deltas, type EventDims, mergeDeltas, type StoredEvent } from "@icp/core";
import type { AccountRecord } from "../accounts/index.js";
import type { Store } from "../infra/index.js";
import { batchGet, keys } from "../infra/index.js";
import { doneBatches, rememberDone } from "./claims.js";
import type { EngagementItem, Pending } from "./engagement-item.js";
import type { Work } from "./work.js";

/**
 * Recent event ids kept on an account's engagement item (oldest dropped first; ~30 KB at most).
 * Older events are recognised by their timeline entry (see `floor`).
 */
export const MAX_IDS_PER_ACCOUNT = 1_000;

export const dimsOfAccount = (a: Pick<AccountRecord, keyof EventDims>): EventDims => ({
  segment: a.segment,
  tier: a.tier,
  qualified: a.qualified,
  icpId: a.icpId,
  icpVersion: a.icpVersion,
});

/** What step 2 learns besides the items: batches done, and timeline entries that exist. */
export type Facts = { done: Set<string>; timeline: Set<string> };

export async function lookups(store: Store, ws: string, batchKey: string, work: Work[], claims = true): Promise<Facts> {
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

export type Prepared = {
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
export function prepare(ws: string, w: Work, batchKey: string, now: string, facts: Facts): Prepared {
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
