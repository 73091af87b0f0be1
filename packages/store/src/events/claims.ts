/**
 * The per-message claim of the events worker: one delivery of a message records it at a time,
 * and a message fully recorded is marked done (later copies are no-ops).
 */
import { randomBytes } from "node:crypto";
import { GetCommand, PutCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import type { Store } from "../infra/index.js";
import { type Backoff, backoff, conditionFailed, keys } from "../infra/index.js";

/** Messages this process is recording now (table|workspace|batch). */
export const recording = new Map<string, Promise<void>>();

/** Thrown when another delivery of the same message is recording it and did not finish in time: retry later. */
export class EventBatchBusyError extends Error {}

/** Batches this process saw done (their pending shares can be dropped from engagement items). */
export const doneBatches = new Set<string>();
export const rememberDone = (ws: string, batchKey: string) => {
  if (doneBatches.size > 10_000) doneBatches.clear();
  doneBatches.add(`${ws}|${batchKey}`);
};

/** How long a claim on a message holds off other deliveries of it (the worker's timeout is 30 s). */
export const CLAIM_TTL_MS = 60_000;
/** How often a holder renews its claim. */
export const CLAIM_RENEW_MS = 15_000;
/** How long a concurrent copy waits for the holder to finish before it gives up (and is retried). */
const CLAIM_WAIT_MS = 20_000;
/** Between looks at another process's claim: on average 100, 200, 400, then 800 ms. */
const HOLDER_POLL: Backoff = { baseMs: 100, capMs: 1600 };
export const expiresAt = () => Math.floor(Date.now() / 1000) + 14 * 86_400;

/**
 * Claim a message for recording: "done" when it was fully recorded before; a token when this
 * delivery may go ahead (the message is new, or the previous holder's claim ran out: holders renew
 * it every CLAIM_RENEW_MS while they work). A copy that finds the message claimed waits: as long as
 * it takes when the holder is in this process, else up to CLAIM_WAIT_MS, then it fails and SQS
 * delivers it again later. A takeover is safe because every step is idempotent; the claim only
 * spares concurrent copies the work.
 */
export async function claimBatch(store: Store, ws: string, batchKey: string): Promise<{ token: string } | "done"> {
  if (doneBatches.has(`${ws}|${batchKey}`)) return "done";
  const key = keys.eventBatch(ws, batchKey);
  const giveUp = Date.now() + CLAIM_WAIT_MS;
  for (let attempt = 0; ; attempt++) {
    const now = Date.now();
    const token = randomBytes(8).toString("hex");
    try {
      await store.ddb.send(
        new PutCommand({
          TableName: store.cfg.tableName,
          Item: {
            ...key,
            type: "event-batch",
            v: 1,
            st: "running",
            token,
            until: now + CLAIM_TTL_MS,
            expiresAt: expiresAt(),
          },
          ConditionExpression: "attribute_not_exists(pk) OR (#st = :running AND #until < :now)",
          ExpressionAttributeNames: { "#st": "st", "#until": "until" },
          ExpressionAttributeValues: { ":running": "running", ":now": now },
        }),
      );
      return { token };
    } catch (e) {
      if (!conditionFailed(e)) throw e;
    }
    const cur = await store.ddb.send(
      new GetCommand({ TableName: store.cfg.tableName, Key: key, ConsistentRead: true }),
    );
    if (cur.Item?.st === "done") {
      rememberDone(ws, batchKey);
      return "done";
    }
    // Held by this very process: its holder is alive, wait for it however long it takes.
    const here = recording.get(`${store.cfg.tableName}|${ws}|${batchKey}`);
    if (here) {
      await here.catch(() => {});
      continue;
    }
    if (Date.now() >= giveUp)
      throw new EventBatchBusyError(`event batch ${batchKey} is being recorded by another delivery`);
    await backoff(attempt + 1, HOLDER_POLL);
  }
}

/** Extend this delivery's claim, or give it up (until 0: it failed, another delivery may take over now). */
export async function renewClaim(
  store: Store,
  ws: string,
  batchKey: string,
  token: string,
  until: number,
): Promise<void> {
  try {
    await store.ddb.send(
      new UpdateCommand({
        TableName: store.cfg.tableName,
        Key: keys.eventBatch(ws, batchKey),
        UpdateExpression: "SET #until = :until",
        ConditionExpression: "#st = :running AND #token = :token",
        ExpressionAttributeNames: { "#until": "until", "#st": "st", "#token": "token" },
        ExpressionAttributeValues: { ":until": until, ":running": "running", ":token": token },
      }),
    );
  } catch (e) {
    if (!conditionFailed(e)) throw e;
  }
}

/** The batch is fully recorded (engagement, timeline, effects, counters): later copies are no-ops. */
export async function markDone(store: Store, ws: string, batchKey: string): Promise<void> {
  await store.ddb.send(
    new PutCommand({
      TableName: store.cfg.tableName,
      Item: { ...keys.eventBatch(ws, batchKey), type: "event-batch", v: 1, st: "done", expiresAt: expiresAt() },
    }),
  );
  rememberDone(ws, batchKey);
}
