import { createHash } from "node:crypto";
import { GetCommand, PutCommand } from "@aws-sdk/lib-dynamodb";
import type { Store } from "./clients.js";
import { keys } from "./keys.js";

/** API keys are stored as SHA-256 hashes only; the plain key is shown once, at creation. */
export const hashApiKey = (plain: string) => createHash("sha256").update(plain).digest("hex");

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

/** Register an API key for a workspace. A key already bound to another workspace is refused. */
export async function putApiKey(store: Store, workspaceId: string, plain: string, label: string): Promise<void> {
  try {
    await store.ddb.send(
      new PutCommand({
        TableName: store.cfg.tableName,
        Item: {
          ...keys.apiKey(hashApiKey(plain)),
          type: "apikey",
          v: 1,
          workspaceId,
          label,
          createdAt: new Date().toISOString(),
        },
        ConditionExpression: "attribute_not_exists(pk) OR workspaceId = :ws",
        ExpressionAttributeValues: { ":ws": workspaceId },
      }),
    );
  } catch (e) {
    if ((e as Error).name === "ConditionalCheckFailedException")
      throw new Error("this API key belongs to another workspace");
    throw e;
  }
}

export type ApiKeyOwner = { workspaceId: string; label: string };

export async function workspaceForApiKey(store: Store, plain: string): Promise<ApiKeyOwner | undefined> {
  const res = await store.ddb.send(
    new GetCommand({ TableName: store.cfg.tableName, Key: keys.apiKey(hashApiKey(plain)) }),
  );
  return res.Item
    ? { workspaceId: res.Item.workspaceId as string, label: (res.Item.label ?? "") as string }
    : undefined;
}
