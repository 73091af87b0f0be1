import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import { GetCommand, TransactWriteCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import type { Store } from "../infra/index.js";
import { keys, queryAll, withoutKeys } from "../infra/index.js";

export const SCOPES = ["read", "write", "admin"] as const;
export type Scope = (typeof SCOPES)[number];

/**
 * Keys look like `icp_<keyId>_<secret>`: the id part finds the key item with one GetItem
 * (O(1), no scan of hashes), then the SHA-256 of the whole key is compared in constant
 * time. Only the hash is stored; the plain key is returned once, at creation. Free-form
 * keys (the local demo key from ICP_API_KEY) get an id derived from their hash.
 */
const KEY_RE = /^icp_([0-9a-z]{12})_[A-Za-z0-9_-]{32,}$/;
const sha256 = (s: string) => createHash("sha256").update(s).digest();
export const keyIdOf = (plain: string) => KEY_RE.exec(plain)?.[1] ?? `h${sha256(plain).toString("hex").slice(0, 15)}`;

export type ApiKeyInfo = {
  id: string;
  workspaceId: string;
  label: string;
  scopes: Scope[];
  /** The first characters of the key, to recognise it in a list. */
  prefix: string;
  createdAt: string;
  lastUsedAt?: string;
  revokedAt?: string;
};

export class ApiKeyConflictError extends Error {}

async function writeKey(store: Store, plain: string, info: ApiKeyInfo, ifFreeOrSameWorkspace: boolean): Promise<void> {
  const hash = sha256(plain).toString("hex");
  try {
    await store.ddb.send(
      new TransactWriteCommand({
        TransactItems: [
          {
            Put: {
              TableName: store.cfg.tableName,
              Item: { ...keys.apiKey(info.id), type: "apikey", v: 2, ...info, hash },
              ConditionExpression: ifFreeOrSameWorkspace
                ? "attribute_not_exists(pk) OR workspaceId = :ws"
                : "attribute_not_exists(pk)",
              ...(ifFreeOrSameWorkspace ? { ExpressionAttributeValues: { ":ws": info.workspaceId } } : {}),
            },
          },
          // The workspace's own list of its keys (no hash in it).
          {
            Put: {
              TableName: store.cfg.tableName,
              Item: { ...keys.workspaceApiKey(info.workspaceId, info.id), type: "apikey-ref", v: 1, ...info },
            },
          },
        ],
      }),
    );
  } catch (e) {
    if ((e as Error).name === "TransactionCanceledException")
      throw new ApiKeyConflictError("this API key belongs to another workspace");
    throw e;
  }
}

/** Create a new random key for a workspace; the returned `key` is the only time it is visible. */
export async function createApiKey(
  store: Store,
  ws: string,
  label: string,
  scopes: Scope[],
): Promise<ApiKeyInfo & { key: string }> {
  const id = randomBytes(8).toString("hex").slice(0, 12);
  const key = `icp_${id}_${randomBytes(32).toString("base64url")}`;
  const info: ApiKeyInfo = {
    id,
    workspaceId: ws,
    label,
    scopes,
    prefix: key.slice(0, 17),
    createdAt: new Date().toISOString(),
  };
  await writeKey(store, key, info, false);
  return { ...info, key };
}

/** Register a given key (local demo key, tests). A key bound to another workspace is refused. */
export async function putApiKey(
  store: Store,
  ws: string,
  plain: string,
  label: string,
  scopes: Scope[] = [...SCOPES],
): Promise<void> {
  const info: ApiKeyInfo = {
    id: keyIdOf(plain),
    workspaceId: ws,
    label,
    scopes,
    prefix: plain.slice(0, 6),
    createdAt: new Date().toISOString(),
  };
  await writeKey(store, plain, info, true);
}

/** The key's owner and scopes, or undefined for an unknown, mismatching or revoked key. */
export async function verifyApiKey(store: Store, plain: string): Promise<ApiKeyInfo | undefined> {
  if (plain.length < 8 || plain.length > 200) return undefined;
  const res = await store.ddb.send(
    new GetCommand({ TableName: store.cfg.tableName, Key: keys.apiKey(keyIdOf(plain)) }),
  );
  const item = res.Item;
  if (!item || item.revokedAt || typeof item.hash !== "string") return undefined;
  const stored = Buffer.from(item.hash, "hex");
  const given = sha256(plain);
  if (stored.length !== given.length || !timingSafeEqual(stored, given)) return undefined;
  const { hash: _h, ...info } = withoutKeys(item);
  return info as ApiKeyInfo;
}

export async function listApiKeys(store: Store, ws: string): Promise<ApiKeyInfo[]> {
  const k = keys.workspaceApiKeyPrefix(ws);
  return (await queryAll(store, k.pk, k.skPrefix)).map((i) => withoutKeys(i) as ApiKeyInfo);
}

/** Revoke a key of this workspace (kept, marked revoked, for the audit trail). False if it is not the workspace's. */
export async function revokeApiKey(store: Store, ws: string, id: string): Promise<boolean> {
  const now = new Date().toISOString();
  try {
    await store.ddb.send(
      new TransactWriteCommand({
        TransactItems: [
          {
            Update: {
              TableName: store.cfg.tableName,
              Key: keys.apiKey(id),
              UpdateExpression: "SET revokedAt = :now",
              ConditionExpression: "workspaceId = :ws",
              ExpressionAttributeValues: { ":now": now, ":ws": ws },
            },
          },
          {
            Update: {
              TableName: store.cfg.tableName,
              Key: keys.workspaceApiKey(ws, id),
              UpdateExpression: "SET revokedAt = :now",
              ConditionExpression: "attribute_exists(pk)",
              ExpressionAttributeValues: { ":now": now },
            },
          },
        ],
      }),
    );
    return true;
  } catch (e) {
    if ((e as Error).name === "TransactionCanceledException") return false;
    throw e;
  }
}

/** Record when a key was last used (callers throttle this; it is informative, not exact). */
export async function touchApiKey(store: Store, ws: string, id: string): Promise<void> {
  const now = new Date().toISOString();
  await Promise.all(
    [keys.apiKey(id), keys.workspaceApiKey(ws, id)].map((Key) =>
      store.ddb.send(
        new UpdateCommand({
          TableName: store.cfg.tableName,
          Key,
          UpdateExpression: "SET lastUsedAt = :now",
          ConditionExpression: "attribute_exists(pk)",
          ExpressionAttributeValues: { ":now": now },
        }),
      ),
    ),
  ).catch(() => {});
}
