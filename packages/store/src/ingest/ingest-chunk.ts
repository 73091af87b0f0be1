import {
  type AccountInput,
  accountId,
  type CompiledIcp,
  type IngestChunkMessage,
  mergeByDomain,
  newId,
  type ParsedImport,
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
import { batchGet, chunks, coalescing, inParallel, keys, publish, publishTierChanges } from "../infra/index.js";
import { activeIcps, nextAccountState } from "../scoring/index.js";
import {
  completeImportIfDone,
  createImport,
  failImport,
  type ImportJob,
  isChunkDone,
  markChunkDone,
  putRowErrors,
} from "./import-jobs.js";

/** Accounts per ingest message: big enough to amortize round trips, small enough for SQS's 256 KiB. */
export const CHUNK_ROWS = 100;
const CHUNK_BYTES = 200 * 1024;

/**
 * Accept an upload: keep row errors, merge duplicate domains, and put the accounts on the
 * ingest queue in chunks. Each domain appears in exactly one chunk of an import, so chunks
 * never race each other on one account.
 */
export async function submitImport(
  store: Store,
  ws: string,
  parsed: ParsedImport,
  opts: { format: "csv" | "json"; filename?: string; idempotencyKey?: string },
): Promise<{ job: ImportJob; created: boolean }> {
  const merged = mergeByDomain(parsed.rows);
  const at = new Date().toISOString();
  const id = newId("imp");
  const messages: IngestChunkMessage[] = [];
  let current: IngestChunkMessage | undefined;
  let bytes = 0;
  for (const row of merged) {
    const size = JSON.stringify(row).length;
    if (!current || current.rows.length >= CHUNK_ROWS || bytes + size > CHUNK_BYTES) {
      current = { kind: "ingest-chunk", workspaceId: ws, importId: id, chunk: messages.length, rows: [], at };
      messages.push(current);
      bytes = 0;
    }
    current.rows.push(row);
    bytes += size;
  }
  const rejectedLines = new Set(parsed.errors.map((e) => e.line)).size;
  const res = await createImport(store, ws, {
    id,
    format: opts.format,
    ...(opts.filename ? { filename: opts.filename } : {}),
    ...(opts.idempotencyKey ? { idempotencyKey: opts.idempotencyKey } : {}),
    total: parsed.total,
    rejected: rejectedLines,
    accounts: merged.length,
    chunks: messages.length,
    rowsAccepted: parsed.rows.length,
  });
  if (!res.created) return res;
  try {
    await putRowErrors(store, ws, id, parsed.errors);
    // Progress counts rows; a chunk carries merged accounts, so it reports the rows behind them.
    const rowsPerDomain = new Map<string, number>();
    for (const r of parsed.rows) rowsPerDomain.set(r.account.domain, (rowsPerDomain.get(r.account.domain) ?? 0) + 1);
    await publish(
      store,
      "IngestQueue",
      messages.map((m) => ({
        ...m,
        rowCount: m.rows.reduce((n, r) => n + (rowsPerDomain.get(r.account.domain) ?? 1), 0),
      })),
    );
  } catch (e) {
    await failImport(store, ws, id, `could not queue the import: ${(e as Error).message}`);
    throw e;
  }
  return res;
}

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

async function ingestRows(
  store: Store,
  msg: IngestChunkMessage,
  icps: CompiledIcp[],
  grant: IngestGrant | undefined,
  release: () => Promise<void> | undefined,
): Promise<IngestResult> {
  const ws = msg.workspaceId;
  const source = `import:${msg.importId}#${msg.chunk}`;
  const now = Date.parse(msg.at);
  const rows = msg.rows.map((r) => ({ row: r.account, id: accountId(ws, r.account.domain) }));
  // Read after the grant: an account absent now cannot be created by anyone else until we are done.
  // A fresh grant knows that none of them exists yet (lease.ts), so it has nothing to read.
  const unread = grant?.fresh === true;
  const existing = unread
    ? new Map<string, Record<string, unknown>>()
    : await ingestRequests(() =>
        batchGet(
          store,
          rows.map((r) => keys.account(ws, r.id)),
        ),
      );

  const events: TierChangedEvent[] = [];
  const finals: AccountRecord[] = [];
  let unchanged = 0;
  const settle = (a: AccountRecord) => {
    finals.push(a);
    const last = a.tierHistory[a.tierHistory.length - 1];
    if (last?.source === source) events.push(tierChangedEvent(ws, a, last));
  };
  type Written = { account: AccountRecord; wrote: boolean };
  const step =
    (row: AccountInput, id: string) =>
    (prev: AccountRecord | undefined): WriteStep<Written> => {
      if (prev?.lastSource === source) return { done: { account: prev, wrote: false } }; // an earlier delivery of this chunk
      const next = nextAccountState(id, prev, row, icps, now, source, msg.at);
      return { write: next, result: { account: next, wrote: true } };
    };
  const pending: { row: AccountInput; id: string; prev?: AccountRecord; next: AccountRecord }[] = [];
  for (const { row, id } of rows) {
    const item = existing.get(`${keys.account(ws, id).pk}|A`);
    const prev = item ? toAccount(item) : undefined;
    const s = step(row, id)(prev);
    if ("done" in s) {
      unchanged++;
      settle(s.done.account);
    } else pending.push({ row, id, ...(prev ? { prev } : {}), next: s.write });
  }

  let written = 0;
  let created = 0;
  let conditional = pending;
  const fresh = grant ? pending.filter((p) => p.prev === undefined) : [];
  if (grant && fresh.length) {
    const left = new Set(
      (
        await putNewAccounts(
          store,
          ws,
          fresh.map((p) => p.next),
          grant,
        )
      ).map((a) => a.id),
    );
    for (const p of fresh)
      if (!left.has(p.id)) {
        settle(p.next);
        written++;
        created++;
      }
    conditional = pending.filter((p) => p.prev !== undefined || left.has(p.id));
  }
  // One conditional transaction per 99 accounts. If any account changed since we read it (a
  // concurrent import, a signal), write that group one by one, merging onto the newer state.
  for (const group of chunks(conditional, TRANSACT_MAX)) {
    if (
      await putAccountsIfUnchanged(
        store,
        ws,
        group.map((p) => p.next),
        grant,
      )
    ) {
      for (const p of group) settle(p.next);
      written += group.length;
      continue;
    }
    await inParallel(group, 16, async ({ row, id, prev }) => {
      const r = await writeWithRetry(store, ws, id, prev, step(row, id), grant);
      if (r.wrote) written++;
      settle(r.account);
    });
  }
  await release(); // done writing: let others create accounts sooner
  await publishTierChanges(store, events);
  await markChunkDone(store, ws, msg.importId, msg.chunk, {
    rows: msg.rowCount ?? msg.rows.length,
    accounts: msg.rows.length,
    qualified: finals.filter((a) => a.qualified).length,
  });
  return { written, unchanged, tierChanges: events.length, created, unread };
}

/** Accounts per conditional transaction: 100 items at most, one of them may be the lease guard. */
const TRANSACT_MAX = 99;
