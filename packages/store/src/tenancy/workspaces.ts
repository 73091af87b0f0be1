import { PutCommand, TransactWriteCommand } from "@aws-sdk/lib-dynamodb";
import { pristineLease } from "../accounts/index.js";
import type { Store } from "../infra/index.js";
import { cancelledBy, conditionFailed, keys } from "../infra/index.js";

/**
 * Create the workspace unless it exists. A new workspace gets its ingest lease in the same
 * transaction, marked pristine (no account yet: its first import skips the reads, lease.ts).
 */
export async function ensureWorkspace(store: Store, workspaceId: string, name: string): Promise<void> {
  const put = {
    TableName: store.cfg.tableName,
    Item: {
      ...keys.workspace(workspaceId),
      type: "workspace",
      v: 1,
      id: workspaceId,
      name,
      createdAt: new Date().toISOString(),
    },
    ConditionExpression: "attribute_not_exists(pk)",
  };
  try {
    await store.ddb.send(
      new TransactWriteCommand({ TransactItems: [{ Put: put }, pristineLease(store, workspaceId)] }),
    );
    return;
  } catch (e) {
    const name = (e as Error).name;
    if (name !== "TransactionCanceledException" && name !== "TransactionConflictException") throw e;
    if (cancelledBy(e, 0)) return; // it exists
  }
  // A lease item without its workspace item (accounts may exist: not pristine) or a conflict.
  await store.ddb.send(new PutCommand(put)).catch((e) => {
    if (!conditionFailed(e)) throw e;
  });
}
