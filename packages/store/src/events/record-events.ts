/**
 * The events worker's orchestrator: recordEvents takes a message of the EventQueue through the
 * steps below. Its stages: work.ts (step 2), prepare.ts and commit.ts (3), owed.ts (4),
 * counters.ts (5), claims.ts (1 and 6); publish.ts accepts events onto the queue.
 */
import type { EngagementEventsMessage, StoredEvent } from "@icp/core";
import type { Store } from "../infra/index.js";
import { stopAccountEnrollments } from "../sequencing/index.js";
import { CLAIM_RENEW_MS, CLAIM_TTL_MS, claimBatch, markDone, recording, renewClaim } from "./claims.js";
import { commitAll } from "./commit.js";
import { applyCounters } from "./counters.js";
import { writeOwed } from "./owed.js";
import { eventAccountId } from "./publish.js";
import { hash } from "./shards.js";
import { type BatchJob, type EventEffects, loadWork, type RecordResult } from "./work.js";

const DEFAULT_EFFECTS: EventEffects = { stopAccount: stopAccountEnrollments };

type Hook = (step: "committed" | "owed" | "counted") => Promise<void> | void;

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
  hook?: Hook,
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
  const byAccount = groupByAccount(ws, msg.events, result);
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
  const work = recordClaimed({ store, ws, batchKey, now, result }, byAccount, effects, hook);
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

/** The message's events by account: the first occurrence of an id wins, events naming no account are counted. */
function groupByAccount(ws: string, events: StoredEvent[], result: RecordResult): Map<string, StoredEvent[]> {
  const byAccount = new Map<string, StoredEvent[]>();
  const seen = new Set<string>();
  for (const raw of events) {
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
  return byAccount;
}

/** Steps 2 to 6, for the delivery that holds the claim. */
async function recordClaimed(
  job: BatchJob,
  byAccount: Map<string, StoredEvent[]>,
  effects: EventEffects,
  hook?: Hook,
): Promise<void> {
  const work = await loadWork(job, byAccount); // 2. accounts and engagement items (cached ones not read)
  const { deltas, shares } = await commitAll(job, work); // 3. one conditional write per account
  await hook?.("committed");
  await writeOwed(job, shares, effects); // 4. timeline entries and effects of this batch's shares
  await hook?.("owed");
  job.result.counterUpdates = await applyCounters(job.store, job.ws, job.batchKey, deltas); // 5. once per part
  await hook?.("counted");
  await markDone(job.store, job.ws, job.batchKey); // 6. later copies are no-ops
}
