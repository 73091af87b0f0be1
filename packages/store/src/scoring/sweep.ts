import type { CompiledIcp, TierChangedEvent } from "@icp/core";
import { getAccount } from "../accounts/index.js";
import type { Store } from "../infra/index.js";
import { inParallel, keys, publishTierChanges, queryIndexAll, SHARDS } from "../infra/index.js";
import { activeIcps } from "./icps.js";
import { rescoreAccount } from "./rescore-account.js";

export type SweepResult = { checked: number; changedTier: number };

/**
 * Re-score the accounts whose signals aged past a point where their score changes (a
 * within-days window closed, or a decaying signal lost points). Reads only the sparse aging
 * index, never the accounts that have nothing to age. Each re-score moves `agingAt` forward
 * or clears it, so an account is swept once per change.
 */
export async function sweepAgedAccounts(store: Store, now = Date.now(), maxPerShard = 1000): Promise<SweepResult> {
  const nowIso = new Date(now).toISOString();
  const icpsByWs = new Map<string, Promise<CompiledIcp[]>>();
  const events: TierChangedEvent[] = [];
  let checked = 0;
  await inParallel(
    Array.from({ length: SHARDS }, (_, s) => s),
    SHARDS,
    async (shard) => {
      await queryIndexAll(
        store,
        "gsi4",
        { pk: keys.agingPartition(shard), skBefore: nowIso },
        {
          pageSize: 100,
          maxItems: maxPerShard,
          onPage: (items) =>
            inParallel(items, 8, async (item) => {
              const [, ws, id] = String(item.gsi4sk).split("#");
              if (!ws || !id) return;
              const account = await getAccount(store, ws, id); // the index is eventually consistent
              if (!account?.agingAt || account.agingAt >= nowIso) return;
              const icps = icpsByWs.get(ws) ?? activeIcps(store, ws);
              icpsByWs.set(ws, icps);
              const r = await rescoreAccount(store, ws, account, await icps, {
                source: `sweep:${nowIso}`,
                now,
                at: nowIso,
                write: true,
              });
              checked++;
              if (r.event) events.push(r.event);
            }),
        },
      );
    },
  );
  await publishTierChanges(store, events);
  return { checked, changedTier: events.length };
}
