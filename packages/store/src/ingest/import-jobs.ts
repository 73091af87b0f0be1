import { GetCommand, TransactWriteCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import type { RowError } from "@icp/core";
import type { Store } from "../infra/index.js";
import { batchPut, conditionFailed, keys, queryPage } from "../infra/index.js";

export type ImportStatus = "queued" | "processing" | "completed" | "failed";

export type ImportJob = {
  id: string;
  status: ImportStatus;
  format: "csv" | "json";
  filename?: string;
  /** Data rows in the upload. */
  total: number;
  /** Rows ingested so far (duplicates of a domain count as accepted: they were merged). */
  accepted: number;
  /** Rows refused with errors. */
  rejected: number;
  /** Distinct accounts the accepted rows describe. */
  accounts: number;
  chunks: number;
  chunksDone: number;
  /** Accounts ingested so far, and how many of them qualify against an active ICP. */
  accountsDone?: number;
  qualified?: number;
  createdAt: string;
  updatedAt: string;
  completedAt?: string;
  failure?: string;
};

/** Row errors kept per import; beyond this only the count grows (the summary says so). */
export const MAX_STORED_ROW_ERRORS = 10_000;

function toJob(i: Record<string, unknown>): ImportJob {
  const { pk: _pk, sk: _sk, type: _t, v: _v, idempotencyKey: _k, doneChunks: _d, ...rest } = i;
  return rest as ImportJob;
}

export type NewImport = Pick<ImportJob, "id" | "format" | "total" | "rejected" | "accounts" | "chunks"> & {
  filename?: string;
  idempotencyKey?: string;
  rowsAccepted: number;
};

/**
 * Create the job, claiming the Idempotency-Key in the same transaction. When the key was
 * already used, returns the import it created instead (the retried upload is a no-op).
 */
export async function createImport(
  store: Store,
  ws: string,
  imp: NewImport,
): Promise<{ job: ImportJob; created: boolean }> {
  const now = new Date().toISOString();
  const { idempotencyKey, rowsAccepted: _r, ...fields } = imp;
  const job: ImportJob = { ...fields, status: "queued", accepted: 0, chunksDone: 0, createdAt: now, updatedAt: now };
  if (imp.chunks === 0) Object.assign(job, { status: "completed", completedAt: now });
  const table = store.cfg.tableName;
  const items: NonNullable<ConstructorParameters<typeof TransactWriteCommand>[0]["TransactItems"]> = [
    {
      Put: {
        TableName: table,
        Item: { ...keys.importJob(ws, imp.id), type: "import", v: 1, ...job },
        ConditionExpression: "attribute_not_exists(pk)",
      },
    },
  ];
  if (idempotencyKey)
    items.unshift({
      Put: {
        TableName: table,
        Item: {
          ...keys.importIdempotency(ws, idempotencyKey),
          type: "idempotency",
          v: 1,
          importId: imp.id,
          createdAt: now,
        },
        ConditionExpression: "attribute_not_exists(pk)",
      },
    });
  try {
    await store.ddb.send(new TransactWriteCommand({ TransactItems: items }));
    return { job, created: true };
  } catch (e) {
    if ((e as Error).name !== "TransactionCanceledException" || !idempotencyKey) throw e;
    const existing = await importForIdempotencyKey(store, ws, idempotencyKey);
    if (!existing) throw e;
    return { job: existing, created: false };
  }
}

export async function importForIdempotencyKey(store: Store, ws: string, key: string): Promise<ImportJob | undefined> {
  const res = await store.ddb.send(
    new GetCommand({ TableName: store.cfg.tableName, Key: keys.importIdempotency(ws, key), ConsistentRead: true }),
  );
  return res.Item ? getImport(store, ws, res.Item.importId as string) : undefined;
}

export async function putRowErrors(
  store: Store,
  ws: string,
  importId: string,
  errors: readonly RowError[],
): Promise<void> {
  const items = errors.slice(0, MAX_STORED_ROW_ERRORS).map((e) => ({
    ...keys.importError(ws, importId, e.line, e.field),
    type: "import-error",
    v: 1,
    ...e,
  }));
  await batchPut(store, items);
}

export async function getImport(store: Store, ws: string, id: string): Promise<ImportJob | undefined> {
  const res = await store.ddb.send(
    new GetCommand({ TableName: store.cfg.tableName, Key: keys.importJob(ws, id), ConsistentRead: true }),
  );
  return res.Item ? toJob(res.Item) : undefined;
}

/** Row errors in line order, a page at a time. */
export async function listRowErrors(
  store: Store,
  ws: string,
  id: string,
  limit: number,
  cursor?: string,
): Promise<{ items: RowError[]; nextCursor?: string }> {
  const page = await queryPage(store, keys.importErrorPrefix(ws, id), {
    limit,
    ...(cursor ? { afterSk: cursor } : {}),
  });
  const items = page.items.map((i) => ({
    line: i.line as number,
    field: i.field as string,
    message: i.message as string,
  }));
  return page.lastSk ? { items, nextCursor: page.lastSk } : { items };
}

export async function listImports(store: Store, ws: string, limit = 50): Promise<ImportJob[]> {
  return (await queryPage(store, keys.importPrefix(ws), { limit, newestFirst: true })).items.map(toJob);
}

/**
 * Whether the chunk was counted: the job keeps the set of counted chunk numbers (a consistent
 * read of the job item, which concurrent chunks of one SQS batch share through coalescing).
 */
export async function isChunkDone(store: Store, ws: string, importId: string, chunk: number): Promise<boolean> {
  const res = await store.ddb.send(
    new GetCommand({
      TableName: store.cfg.tableName,
      Key: keys.importJob(ws, importId),
      ConsistentRead: true,
    }),
  );
  return (res.Item?.doneChunks as Set<number> | undefined)?.has(chunk) ?? false;
}

/**
 * Record a chunk as ingested and add its rows to the job's progress in one conditional update
 * of the job: the chunk number joins the job's `doneChunks` set only if absent, so a
 * redelivered chunk counts once. The update returns the counts, so only the last chunk asks
 * for completion. (A transaction with a marker item per chunk cost DynamoDB Local about 3x
 * this, plus a completion attempt per chunk.)
 */
export async function markChunkDone(
  store: Store,
  ws: string,
  importId: string,
  chunk: number,
  done: { rows: number; accounts: number; qualified: number },
): Promise<void> {
  let job: Record<string, unknown>;
  try {
    const res = await store.ddb.send(
      new UpdateCommand({
        TableName: store.cfg.tableName,
        Key: keys.importJob(ws, importId),
        UpdateExpression:
          "ADD accepted :n, chunksDone :one, accountsDone :a, qualified :q, doneChunks :set SET updatedAt = :now, #s = :processing",
        ConditionExpression: "attribute_exists(pk) AND NOT contains(doneChunks, :chunk)",
        ExpressionAttributeNames: { "#s": "status" },
        ExpressionAttributeValues: {
          ":n": done.rows,
          ":one": 1,
          ":a": done.accounts,
          ":q": done.qualified,
          ":set": new Set([chunk]),
          ":chunk": chunk,
          ":now": new Date().toISOString(),
          ":processing": "processing",
        },
        ReturnValues: "ALL_NEW",
        ReturnValuesOnConditionCheckFailure: "ALL_OLD",
      }),
    );
    job = res.Attributes ?? {};
  } catch (e) {
    if (!conditionFailed(e)) throw e;
    // No job at all: not a duplicate but a chunk without its import (retried, then the DLQ).
    if (!(e as { Item?: object }).Item) throw new Error(`import ${importId} does not exist`);
    // Counted by an earlier delivery, which may have died before completing the job.
    return completeImportIfDone(store, ws, importId);
  }
  if (job.chunksDone === job.chunks) await completeImportIfDone(store, ws, importId);
}

/**
 * Mark the job completed once every chunk has reported; exactly one caller sees that. Also
 * called for a redelivered chunk that was already counted: the worker that counted it may
 * have died before this step, and the job would otherwise stay "processing" for ever.
 */
export async function completeImportIfDone(store: Store, ws: string, importId: string): Promise<void> {
  const now = new Date().toISOString();
  await store.ddb
    .send(
      new UpdateCommand({
        TableName: store.cfg.tableName,
        Key: keys.importJob(ws, importId),
        UpdateExpression: "SET #s = :done, completedAt = :now, updatedAt = :now",
        ConditionExpression: "chunksDone = chunks AND #s <> :done",
        ExpressionAttributeNames: { "#s": "status" },
        ExpressionAttributeValues: { ":done": "completed", ":now": now },
      }),
    )
    .catch((e) => {
      if (!conditionFailed(e)) throw e;
    });
}

export async function failImport(store: Store, ws: string, id: string, reason: string): Promise<void> {
  await store.ddb.send(
    new UpdateCommand({
      TableName: store.cfg.tableName,
      Key: keys.importJob(ws, id),
      UpdateExpression: "SET #s = :f, failure = :r, updatedAt = :now",
      ExpressionAttributeNames: { "#s": "status" },
      ExpressionAttributeValues: { ":f": "failed", ":r": reason, ":now": new Date().toISOString() },
    }),
  );
}
