import { PutCommand } from "@aws-sdk/lib-dynamodb";
import type { Store } from "./clients.js";
import { keys } from "./keys.js";

export async function ensureWorkspace(store: Store, workspaceId: string, name: string): Promise<void> {
  await store.ddb
    .send(
      new PutCommand({
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
      }),
    )
    .catch((e) => {
      if (e.name !== "ConditionalCheckFailedException") throw e;
    });
}
