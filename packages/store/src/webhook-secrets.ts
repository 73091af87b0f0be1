/** The workspace's inbound webhook secret, and the used signatures (replay protection). */
import { randomBytes } from "node:crypto";
import { GetCommand, PutCommand } from "@aws-sdk/lib-dynamodb";
import type { Store } from "./clients.js";
import { conditionFailed } from "./dynamo-errors.js";
import { keys } from "./keys.js";

/**
 * Create or rotate the workspace's inbound webhook secret; the plain secret is returned once.
 * It is stored as is because verifying an HMAC needs it (unlike API keys, which are hashed).
 */
export async function rotateInboundWebhookSecret(
  store: Store,
  ws: string,
): Promise<{ secret: string; createdAt: string }> {
  const secret = `whsec_${randomBytes(32).toString("base64url")}`;
  const createdAt = new Date().toISOString();
  await store.ddb.send(
    new PutCommand({
      TableName: store.cfg.tableName,
      Item: { ...keys.inboundWebhookSecret(ws), type: "inbound-webhook-secret", v: 1, secret, createdAt },
    }),
  );
  return { secret, createdAt };
}

export async function getInboundWebhookSecret(store: Store, ws: string): Promise<string | undefined> {
  const res = await store.ddb.send(
    new GetCommand({ TableName: store.cfg.tableName, Key: keys.inboundWebhookSecret(ws), ConsistentRead: true }),
  );
  return typeof res.Item?.secret === "string" ? res.Item.secret : undefined;
}

/** Remember a webhook signature as used; false when it was used before (a replay). */
export async function claimWebhookSignature(store: Store, ws: string, sig: string, t: number): Promise<boolean> {
  try {
    await store.ddb.send(
      new PutCommand({
        TableName: store.cfg.tableName,
        Item: { ...keys.inboundWebhookSignature(ws, sig), type: "webhook-signature", v: 1, expiresAt: t + 3600 },
        ConditionExpression: "attribute_not_exists(pk)",
      }),
    );
    return true;
  } catch (e) {
    if (conditionFailed(e)) return false;
    throw e;
  }
}
