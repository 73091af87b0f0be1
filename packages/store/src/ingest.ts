import {
  type AccountInput,
  accountId,
  type CompiledIcp,
  DEFAULT_SEGMENT,
  type IngestChunkMessage,
  matchPersona,
  mergeAccounts,
  mergeByDomain,
  newId,
  nextAgingAt,
  type ParsedImport,
  scoreBest,
  type TierChangedEvent,
} from "@icp/core";
import {
  type AccountRecord,
  contactItem,
  contactKey,
  getAccount,
  MAX_CONTACT_IDS,
  MAX_WRITE_ATTEMPTS,
  putAccountIfUnchanged,
  StaleAccountError,
  TIER_HISTORY_LIMIT,
  tierChangedEvent,
} from "./accounts.js";
import { batchGet, batchPut, inParallel, sleep } from "./batch.js";
import type { Store } from "./clients.js";
import { activeIcps } from "./icps.js";
import { createImport, failImport, type ImportJob, isChunkDone, markChunkDone, putRowErrors } from "./imports.js";
import { keys } from "./keys.js";
import { publish } from "./queue.js";

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

export type IngestResult = { written: number; unchanged: number; tierChanges: number };

/**
 * Ingest one chunk: merge each row into the stored account, score it against every active
 * ICP, write it with an optimistic-concurrency condition, publish tier changes, then count
 * the chunk. Safe to run again for the same message: rows already written by this chunk
 * are skipped (their tier-change event is re-published, consumers dedupe by event id) and
 * the chunk is counted once.
 */
export async function ingestChunk(store: Store, msg: IngestChunkMessage): Promise<IngestResult> {
  const ws = msg.workspaceId;
  if (await isChunkDone(store, ws, msg.importId, msg.chunk))
    return { written: 0, unchanged: msg.rows.length, tierChanges: 0 };
  const icps = await activeIcps(store, ws);
  const source = `import:${msg.importId}#${msg.chunk}`;
  const now = Date.parse(msg.at);
  const ids = msg.rows.map((r) => accountId(ws, r.account.domain));
  const existing = await batchGet(
    store,
    ids.map((id) => keys.account(ws, id)),
  );

  // Contacts first: they are idempotent puts, so a crash before the account write loses nothing.
  const personas = icps.flatMap((c) => c.icp.personas);
  const contactItems = msg.rows.flatMap((r, i) =>
    (r.account.contacts ?? []).map((c) => contactItem(ws, ids[i] as string, c, matchPersona(personas, c))),
  );
  await batchPut(store, contactItems);

  const events: TierChangedEvent[] = [];
  let written = 0;
  let unchanged = 0;
  let qualified = 0;
  await inParallel(
    msg.rows.map((r, i) => ({ row: r.account, id: ids[i] as string })),
    16,
    async ({ row, id }) => {
      let prev = existing.get(`${keys.account(ws, id).pk}|A`) as AccountRecord | undefined;
      for (let attempt = 0; ; attempt++) {
        if (prev?.lastSource === source) {
          unchanged++;
          if (prev.qualified) qualified++;
          const last = prev.tierHistory[prev.tierHistory.length - 1];
          if (last?.source === source) events.push(tierChangedEvent(ws, prev, last));
          return;
        }
        const next = nextAccountState(id, prev, row, icps, now, source, msg.at);
        try {
          await putAccountIfUnchanged(store, ws, next);
          written++;
          if (next.qualified) qualified++;
          const last = next.tierHistory[next.tierHistory.length - 1];
          if (last?.source === source) events.push(tierChangedEvent(ws, next, last));
          return;
        } catch (e) {
          if (!(e instanceof StaleAccountError) || attempt >= MAX_WRITE_ATTEMPTS) throw e;
          await sleep(Math.random() * 20 * (attempt + 1)); // contended item: spread the retries
          prev = await getAccount(store, ws, id); // someone else wrote it: merge onto theirs
        }
      }
    },
  );
  if (events.length) await publish(store, "RouteQueue", events);
  await markChunkDone(store, ws, msg.importId, msg.chunk, {
    rows: msg.rowCount ?? msg.rows.length,
    accounts: msg.rows.length,
    qualified,
  });
  return { written, unchanged, tierChanges: events.length };
}

/** Pure: the account after merging `row` into `prev` and re-scoring it. */
export function nextAccountState(
  id: string,
  prev: AccountRecord | undefined,
  row: AccountInput,
  icps: readonly CompiledIcp[],
  now: number,
  source: string,
  at: string,
): AccountRecord {
  const { contacts, ...rowFacts } = row;
  // Merged even for a new account, so that duplicate signals or technologies in one row collapse
  // the same way on the first write as on any later one.
  const { contacts: _c, ...facts } = mergeAccounts(prev?.facts ?? { domain: row.domain }, rowFacts);
  const s = scoreBest(icps, facts, row.domain, now);
  const aging = nextAgingAt(icps, facts, now);
  const tier = s?.tier ?? "generic";
  const history = [...(prev?.tierHistory ?? [])];
  if (prev?.tier !== tier) {
    history.push({
      eventId: `${source.replace(/[:#]/g, "_")}_${id}`,
      from: prev?.tier ?? null,
      to: tier,
      score: s?.score ?? 0,
      icpId: s?.icpId ?? null,
      icpVersion: s?.icpVersion ?? null,
      at,
      source,
    });
  }
  const record: AccountRecord = {
    id,
    domain: row.domain,
    facts,
    score: s?.score ?? 0,
    tier,
    qualified: s?.qualified ?? false,
    breakdown: s?.breakdown ?? [],
    icpId: s?.icpId ?? null,
    icpVersion: s?.icpVersion ?? null,
    segment: s?.segment ?? DEFAULT_SEGMENT,
    tierHistory: history.slice(-TIER_HISTORY_LIMIT),
    lastSource: source,
    rev: (prev?.rev ?? 0) + 1,
    contactIds: [...new Set([...(prev?.contactIds ?? []), ...(contacts ?? []).map(contactKey)])].slice(
      0,
      MAX_CONTACT_IDS,
    ),
    createdAt: prev?.createdAt ?? at,
    updatedAt: at,
  };
  if (s?.disqualifiedBy) record.disqualifiedBy = s.disqualifiedBy;
  if (aging !== undefined) record.agingAt = new Date(aging).toISOString();
  if (prev?.outcome) record.outcome = prev.outcome;
  return record;
}
