/** Step 4: what a batch owes for the events recorded under its name: timeline entries and effects. */
import type { EventDims, StoredEvent } from "@icp/core";
import { type AccountRecord, setAccountOutcome } from "../accounts/index.js";
import type { Store } from "../infra/index.js";
import { batchPut, chunks, inParallel, keys } from "../infra/index.js";
import { addSuppression } from "../tenancy/index.js";
import type { Committed } from "./commit.js";
import { EVENT_DAY_SHARDS, shardOf } from "./shards.js";
import { type BatchJob, type EventEffects, inSlot } from "./work.js";

/** Timeline entries for the events of the batch's shares, and their effects (both idempotent). */
export async function writeOwed(job: BatchJob, shares: Committed["shares"], effects: EventEffects): Promise<void> {
  const { store, ws } = job;
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
