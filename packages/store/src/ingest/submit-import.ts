import { type IngestChunkMessage, mergeByDomain, newId, type ParsedImport } from "@icp/core";
import type { Store } from "../infra/index.js";
import { publish } from "../infra/index.js";
import { createImport, failImport, type ImportJob, putRowErrors } from "./import-jobs.js";

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
