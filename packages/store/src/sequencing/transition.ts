/** The compare-and-set every enrollment state change goes through. */
import { PutCommand, TransactWriteCommand } from "@aws-sdk/lib-dynamodb";
import type { Store } from "../infra/index.js";
import { keys, retry } from "../infra/index.js";
import { enrollmentItem, getStored, type Stored } from "./enrollment-record.js";

export type Change = { next: Stored; deletePointer?: boolean } | { result: Stored | undefined };

/** Errors of a write that lost the race to another writer of the enrollment (or its track pointer). */
const LOST = new Set([
  "ConditionalCheckFailedException",
  "TransactionCanceledException",
  "TransactionConflictException",
]);

/**
 * Read, decide, write conditioned on the revision read; on a lost race read again and decide
 * again. `decide` returns the new state, or `{result}` to stop without writing.
 */
export function transition(
  store: Store,
  ws: string,
  id: string,
  decide: (e: Stored) => Change,
  first?: Stored,
): Promise<Stored | undefined> {
  return retry(
    async (attempt) => {
      // A state just read by the caller saves the first read; a lost race reads again.
      const cur = attempt === 0 && first ? first : await getStored(store, ws, id);
      if (!cur) return undefined;
      const change = decide(cur);
      if ("result" in change) return change.result;
      const next: Stored = { ...change.next, rev: cur.rev + 1 };
      await writeIfUnchanged(store, ws, cur, next, change.deletePointer);
      return next;
    },
    // Linear, not exponential: the item is hot, its writers should come back soon.
    { attempts: 21, baseMs: 10, capMs: Infinity, growth: "linear", retryIf: (e) => LOST.has((e as Error)?.name) },
  );
}

/** Put `next` if the stored revision is still `cur`'s; an ended enrollment also frees its track. */
async function writeIfUnchanged(store: Store, ws: string, cur: Stored, next: Stored, deletePointer?: boolean) {
  const put = {
    TableName: store.cfg.tableName,
    Item: enrollmentItem(ws, next),
    ConditionExpression: "rev = :rev",
    ExpressionAttributeValues: { ":rev": cur.rev },
  };
  if (!deletePointer) {
    await store.ddb.send(new PutCommand(put));
    return;
  }
  await store.ddb.send(
    new TransactWriteCommand({
      TransactItems: [
        { Put: put },
        {
          Delete: {
            TableName: store.cfg.tableName,
            Key: keys.trackPointer(ws, cur.accountId, cur.track),
            ConditionExpression: "attribute_not_exists(pk) OR enrollmentId = :id",
            ExpressionAttributeValues: { ":id": cur.id },
          },
        },
      ],
    }),
  );
}

/** The enrollment without its claim: the step is done, given back, or the enrollment ends. */
export const unclaimed = (e: Stored): Stored => {
  const { claimedAt: _c, ...rest } = e;
  return { ...rest, claim: null };
};
