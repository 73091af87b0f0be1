/** Re-scoring one account: shared by the rescore pages and the aging sweep. */
import { type AccountFacts, type CompiledIcp, stableJson, type TierChangedEvent } from "@icp/core";
import { type AccountRecord, tierChangedEvent, writeWithRetry } from "../accounts/index.js";
import type { Store } from "../infra/index.js";
import { nextAccountState } from "./account-state.js";

/** Has anything the user sees changed? Re-scoring an account to the same result writes nothing. */
const sameScore = (a: AccountRecord, b: AccountRecord) =>
  a.tier === b.tier &&
  a.score === b.score &&
  a.qualified === b.qualified &&
  a.segment === b.segment &&
  a.icpId === b.icpId &&
  a.icpVersion === b.icpVersion &&
  a.agingAt === b.agingAt &&
  stableJson(a.breakdown) === stableJson(b.breakdown) &&
  stableJson(a.disqualifiedBy) === stableJson(b.disqualifiedBy);

export type RescoreOutcome = { account: AccountRecord; changed: boolean; event?: TierChangedEvent };

/**
 * Re-score one account (optionally after changing its facts) and write it if the result
 * differs, retrying on a concurrent write. The tier-change event, if any, is returned for
 * the caller to publish (so a page publishes one batch).
 */
export async function rescoreAccount(
  store: Store,
  ws: string,
  prev: AccountRecord,
  icps: readonly CompiledIcp[],
  opts: { source: string; now: number; at: string; write: boolean; mutate?: (f: AccountFacts) => AccountFacts },
): Promise<RescoreOutcome> {
  const eventOf = (a: AccountRecord) => {
    const last = a.tierHistory[a.tierHistory.length - 1];
    return last?.source === opts.source ? { event: tierChangedEvent(ws, a, last) } : {};
  };
  return writeWithRetry<RescoreOutcome>(store, ws, prev.id, prev, (current) => {
    if (!current) throw new Error(`account ${prev.id} disappeared while re-scoring`);
    // Applied by an earlier delivery of this very work: re-emit its event, change nothing.
    if (current.lastSource === opts.source) return { done: { account: current, changed: false, ...eventOf(current) } };
    const facts = opts.mutate ? opts.mutate(current.facts) : current.facts;
    const next = nextAccountState(
      current.id,
      current,
      { ...facts, domain: current.domain },
      icps,
      opts.now,
      opts.source,
      opts.at,
    );
    next.facts = facts;
    if (!opts.mutate && sameScore(current, next)) return { done: { account: current, changed: false } };
    if (!opts.write) return { done: { account: next, changed: true } };
    return { write: next, result: { account: next, changed: true, ...eventOf(next) } };
  });
}
