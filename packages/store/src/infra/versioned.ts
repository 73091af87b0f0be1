import { TransactWriteCommand } from "@aws-sdk/lib-dynamodb";
import type { Store } from "./clients.js";

type Key = { pk: string; sk: string };

/** How the head moves with a new version: created, or updated only if still at the version read. */
export type HeadWrite =
  | { create: Record<string, unknown> }
  | {
      key: Key;
      /** `SET …` assignments; `:prev` is bound to `prev` for the condition. */
      set: string[];
      /** The head attribute holding the version read (`latestVersion` for ICPs, `version` for sequences). */
      versionAttr: string;
      prev: number;
      names?: Record<string, string>;
      values: Record<string, unknown>;
    };

/**
 * Write a versioned document's new version item and its head in one transaction (ICPs,
 * sequences). The version item must be new and the head absent (create) or still at `prev`,
 * so two concurrent saves can never both become version n: the loser gets `false`.
 */
export async function writeVersion(
  store: Store,
  version: { key: Key; item: Record<string, unknown> },
  head: HeadWrite,
): Promise<boolean> {
  const TableName = store.cfg.tableName;
  const headOp =
    "create" in head
      ? { Put: { TableName, Item: head.create, ConditionExpression: "attribute_not_exists(pk)" } }
      : {
          Update: {
            TableName,
            Key: head.key,
            UpdateExpression: `SET ${head.set.join(", ")}`,
            ConditionExpression: "#vattr = :prev",
            ExpressionAttributeNames: { ...head.names, "#vattr": head.versionAttr },
            ExpressionAttributeValues: { ...head.values, ":prev": head.prev },
          },
        };
  try {
    await store.ddb.send(
      new TransactWriteCommand({
        TransactItems: [
          {
            Put: {
              TableName,
              Item: { ...version.key, ...version.item },
              ConditionExpression: "attribute_not_exists(pk)",
            },
          },
          headOp,
        ],
      }),
    );
    return true;
  } catch (e) {
    if ((e as Error).name === "TransactionCanceledException") return false;
    throw e;
  }
}
