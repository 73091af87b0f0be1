import {
  type AccountInput,
  accountId,
  type CompiledIcp,
  type IngestChunkMessage,
  type TierChangedEvent,
} from "@icp/core";
import {
  type AccountRecord,
  acquireIngestLease,
  type IngestGrant,
  ingestRequests,
  putAccountsIfUnchanged,
  putNewAccounts,
  releaseIngestLease,
  tierChangedEvent,
  toAccount,
  type WriteStep,
  writeWithRetry,
} from "../accounts/index.js";
import type { Store } from "../infra/index.js";
import { batchGet, chunks, coalescing, inParallel, keys, publishTierChanges } from "../infra/index.js";
import { activeIcps, nextAccountState } from "../scoring/index.js";
import { completeImportIfDone, isChunkDone, markChunkDone } from "./import-jobs.js";

/**
 * `created`: of the `written` accounts, those new ones written unconditionally under a lease grant;
 * `unread`: the chunk's accounts could not exist yet (a pristine workspace's first import), so
 * they were not read.
 */
export type IngestResult = {
  written: number;
  unchanged: number;
  tierChanges: number;
  created: number;
  unread: boolean;
};

/**
 * Ingest one chunk: merge each row into the stored account, score it against every active
 * ICP, write it, publish tier changes, then count the chunk. Safe to run again for the same
 * message: rows already written by this chunk are skipped (their tier-change event is
 * re-published, consumers dedupe by event id) and the chunk is counted once.
 *
 * Writes: accounts that exist are written with their revision as condition (one transaction
 * per 99, then one by one on a conflict). New accounts are written with plain BatchWriteItem
 * when the chunk holds a grant of the workspace's ingest lease (lease.ts: while it does, nobody
 * else can create an account of the workspace, so one absent at our consistent read is ours to
 * create); without a grant (another import's chunks are on the fast path, or this chunk is
 * already being processed by another delivery) they are created conditionally, like updates.
 */
export async function ingestChunk(store: Store, msg: IngestChunkMessage): Promise<IngestResult> {
  const ws = msg.workspaceId;
  // The records of one SQS batch start together: their reads of the import job are merged into one
  // BatchGetItem and their identical ICP queries into one request (coalesce.ts; never joined to
  // a request already sent, so each read is as fresh as its own would have been).
  const reads = coalescing(store);
  const [done, grant, icps] = await Promise.all([
    isChunkDone(reads, ws, msg.importId, msg.chunk),
    acquireIngestLease(store, ws, msg.importId, msg.chunk),
    activeIcps(reads, ws),
  ]);
  let released: Promise<void> | undefined;
  const release = () => {
    // A failed release only delays others until the grant's term runs out.
    if (grant) released ??= releaseIngestLease(store, grant).catch(() => {});
    return released;
  };
  try {
    if (done) {
      await release();
      await completeImportIfDone(store, ws, msg.importId); // its worker may have died right after counting it
      return { written: 0, unchanged: msg.rows.length, tierChanges: 0, created: 0, unread: false };
    }
    return await ingestRows(store, msg, icps, grant, release);
  } finally {
    await release();
  }
}

/**
 * A chunk that is not done yet: read its accounts, decide each row, write the new accounts on
 * the fast path when granted and the rest conditionally, then publish tier changes and count it.
 */
async function ingestRows(
  store: Store,
  msg: IngestChunkMessage,
  icps: CompiledIcp[],
  grant: IngestGrant | undefined,
  release: () => Promise<void> | undefined,
): Promise<IngestResult> {
  const job = chunkJob(store, msg, icps, grant);
  // Read after the grant: an account absent now cannot be created by anyone else until we are done.
  // A fresh grant knows that none of them exists yet (lease.ts), so it has nothing to read.
  const unread = grant?.fresh === true;
  const existing = unread ? new Map<string, Record<string, unknown>>() : await readAccounts(job);
  const pending = decideRows(job, existing); // rows this chunk wrote before settle here
  const conditional = grant ? await writeNewAccounts(job, grant, pending) : pending;
  await writeIfUnchanged(job, conditional);
  await release(); // done writing: let others create accounts sooner
  await publishTierChanges(store, job.events);
  await markChunkDone(store, job.ws, msg.importId, msg.chunk, {
    rows: msg.rowCount ?? msg.rows.length,
    accounts: msg.rows.length,
    qualified: job.finals.filter((a) => a.qualified).length,
  });
  const { written, unchanged, created } = job;
  return { written, unchanged, tierChanges: job.events.length, created, unread };
}

type Written = { account: AccountRecord; wrote: boolean };
type Pending = { row: AccountInput; id: string; prev?: AccountRecord; next: AccountRecord };

/** A chunk being written: its rows, how to decide each, and what it has settled so far. */
type ChunkJob = {
  store: Store;
  ws: string;
  grant: IngestGrant | undefined;
  rows: { row: AccountInput; id: string }[];
  step: (row: AccountInput, id: string) => (prev: AccountRecord | undefined) => WriteStep<Written>;
  settle: (a: AccountRecord) => void;
  events: TierChangedEvent[];
  finals: AccountRecord[];
  written: number;
  unchanged: number;
  created: number;
};

function chunkJob(store: Store, msg: IngestChunkMessage, icps: CompiledIcp[], grant?: IngestGrant): ChunkJob {
  const ws = msg.workspaceId;
  const source = `import:${msg.importId}#${msg.chunk}`;
  const now = Date.parse(msg.at);
  const job: ChunkJob = {
    store,
    ws,
    grant,
    rows: msg.rows.map((r) => ({ row: r.account, id: accountId(ws, r.account.domain) })),
    step: (row, id) => (prev) => {
      if (prev?.lastSource === source) return { done: { account: prev, wrote: false } }; // an earlier delivery of this chunk
      const next = nextAccountState(id, prev, row, icps, now, source, msg.at);
      return { write: next, result: { account: next, wrote: true } };
    },
    settle: (a) => {
      job.finals.push(a);
      const last = a.tierHistory[a.tierHistory.length - 1];
      if (last?.source === source) job.events.push(tierChangedEvent(ws, a, last));
    },
    events: [],
    finals: [],
    written: 0,
    unchanged: 0,
    created: 0,
  };
  return job;
}

const readAccounts = ({ store, ws, rows }: ChunkJob) =>
  ingestRequests(() =>
    batchGet(
      store,
      rows.map((r) => keys.account(ws, r.id)),
    ),
  );

/** Each row against its stored account: settled when this chunk wrote it before, else pending. */
function decideRows(job: ChunkJob, existing: Map<string, Record<string, unknown>>): Pending[] {
  const pending: Pending[] = [];
  for (const { row, id } of job.rows) {
    const item = existing.get(`${keys.account(job.ws, id).pk}|A`);
    const prev = item ? toAccount(item) : undefined;
    const s = job.step(row, id)(prev);
    if ("done" in s) {
      job.unchanged++;
      job.settle(s.done.account);
    } else pending.push({ row, id, ...(prev ? { prev } : {}), next: s.write });
  }
  return pending;
}

/** The fast path: accounts absent at the read, written unconditionally; returns what is left to write conditionally. */
async function writeNewAccounts(job: ChunkJob, grant: IngestGrant, pending: Pending[]): Promise<Pending[]> {
  const fresh = pending.filter((p) => p.prev === undefined);
  if (!fresh.length) return pending;
  const left = new Set(
    (
      await putNewAccounts(
        job.store,
        job.ws,
        fresh.map((p) => p.next),
        grant,
      )
    ).map((a) => a.id),
  );
  for (const p of fresh)
    if (!left.has(p.id)) {
      job.settle(p.next);
      job.written++;
      job.created++;
    }
  return pending.filter((p) => p.prev !== undefined || left.has(p.id));
}

/**
 * One conditional transaction per 99 accounts. If any account changed since we read it (a
 * concurrent import, a signal), write that group one by one, merging onto the newer state.
 */
async function writeIfUnchanged(job: ChunkJob, conditional: Pending[]): Promise<void> {
  const { store, ws, grant } = job;
  for (const group of chunks(conditional, TRANSACT_MAX)) {
    if (
      await putAccountsIfUnchanged(
        store,
        ws,
        group.map((p) => p.next),
        grant,
      )
    ) {
      for (const p of group) job.settle(p.next);
      job.written += group.length;
      continue;
    }
    await inParallel(group, 16, async ({ row, id, prev }) => {
      const r = await writeWithRetry(store, ws, id, prev, job.step(row, id), grant);
      if (r.wrote) job.written++;
      job.settle(r.account);
    });
  }
}

/** Accounts per conditional transaction: 100 items at most, one of them may be the lease guard. */
const TRANSACT_MAX = 99;
