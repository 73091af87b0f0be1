/** The workspace's inbound webhook secret, and the used signatures (replay protection). */
import { randomBytes } from "node:crypto";
import { GetCommand, PutCommand } from "@aws-sdk/lib-dynamodb";
import { newWebhookSecret } from "@icp/core";
import type { Store } from "../infra/index.js";
import { conditionFailed, keys } from "../infra/index.js";

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

// --- outbound webhook secret (per workspace): webhook steps and subscriptions sign with it ---

export type WebhookSecret = { secret: string; createdAt: string };

export async function getWebhookSecret(store: Store, ws: string): Promise<WebhookSecret | undefined> {
  const res = await store.ddb.send(
    new GetCommand({ TableName: store.cfg.tableName, Key: keys.webhookSecret(ws), ConsistentRead: true }),
  );
  return res.Item ? { secret: res.Item.secret as string, createdAt: res.Item.createdAt as string } : undefined;
}

/** Replace the workspace's signing secret with a new one (returned once to the caller). */
export async function rotateWebhookSecret(store: Store, ws: string, now = new Date()): Promise<WebhookSecret> {
  const s: WebhookSecret = { secret: newWebhookSecret(), createdAt: now.toISOString() };
  await store.ddb.send(
    new PutCommand({
      TableName: store.cfg.tableName,
      Item: { ...keys.webhookSecret(ws), type: "webhook-secret", v: 1, ...s },
    }),
  );
  return s;
}

/** The secret webhook steps sign with, created on first use (concurrent first uses agree on one). */
export async function ensureWebhookSecret(store: Store, ws: string): Promise<WebhookSecret> {
  const existing = await getWebhookSecret(store, ws);
  if (existing) return existing;
  const s: WebhookSecret = { secret: newWebhookSecret(), createdAt: new Date().toISOString() };
  try {
    await store.ddb.send(
      new PutCommand({
        TableName: store.cfg.tableName,
        Item: { ...keys.webhookSecret(ws), type: "webhook-secret", v: 1, ...s },
        ConditionExpression: "attribute_not_exists(pk)",
      }),
    );
    return s;
  } catch (e) {
    if (!conditionFailed(e)) throw e;
    const won = await getWebhookSecret(store, ws);
    if (!won) throw e;
    return won;
  }
}
