import { GetCommand, PutCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import type { Channel } from "@icp/core";
import type { Store } from "../infra/index.js";
import { conditionFailed, keys, withoutKeys } from "../infra/index.js";

/**
 * Send records: one per enrollment step, ever. It is written (status `sending`) with
 * attribute_not_exists BEFORE the transport is called, so of two workers holding the same
 * step (SQS redelivery, overlapping ticks, a retry after a crash) only one reaches the
 * transport. Transport retries inside that worker reuse the record and the deterministic
 * Message-ID `<enrollmentId.stepId@icp-sequencer>`.
 *
 * Why a redelivery never sends again, whatever state it finds — at-most-once: a record still
 * `sending` means a worker died (or timed out) somewhere between writing it and recording
 * the transport's answer. The email may have been accepted by the server or not; nothing
 * local can tell. Sending again risks a duplicate in a prospect's inbox (irreversible and
 * reputation-damaging), while not sending loses one step of a sequence (recoverable: the
 * record is marked `uncertain`, logged and visible, and the sequence moves on). So the
 * redelivery marks it `uncertain` and completes the step — once the record is older than the send
 * handler's timeout; a younger one may belong to a worker still sending, so the copy is asked back
 * (settle-prior-send.ts, SENDING_LIVE_MS). The one exception is `retryable`:
 * written only when the transport refused the message before accepting any of it
 * (connection refused, auth, greeting), i.e. provably nothing went out.
 */
export const SendStatus = ["sending", "sent", "uncertain", "retryable", "failed"] as const;
export type SendStatus = (typeof SendStatus)[number];

export type SendRecord = {
  enrollmentId: string;
  stepId: string;
  stepIndex: number;
  channel: Channel;
  status: SendStatus;
  /** Our Message-ID (email) / idempotency key (webhook), the same on every transport retry. */
  messageId: string;
  senderId?: string;
  /** The transport's own id (SMTP response / SES message id). */
  providerMessageId?: string;
  variant?: string;
  claim: string;
  attempts: number;
  createdAt: string;
  updatedAt: string;
  sentAt?: string;
  detail?: string;
};

/** Deterministic RFC 5322 Message-ID of an enrollment step's email. */
export const stepMessageId = (enrollmentId: string, stepId: string) => `<${enrollmentId}.${stepId}@icp-sequencer>`;

export async function getSendRecord(
  store: Store,
  ws: string,
  enrollmentId: string,
  stepId: string,
): Promise<SendRecord | undefined> {
  const res = await store.ddb.send(
    new GetCommand({
      TableName: store.cfg.tableName,
      Key: keys.sendRecord(ws, enrollmentId, stepId),
      ConsistentRead: true,
    }),
  );
  return res.Item ? (withoutKeys(res.Item) as SendRecord) : undefined;
}

/**
 * Claim the step's one send: creates the record in status `sending`, or takes over a
 * `retryable` one. `{fresh: false, record}` when another attempt owns or owned it — the
 * caller must not call the transport.
 */
export async function beginSend(
  store: Store,
  ws: string,
  r: Pick<SendRecord, "enrollmentId" | "stepId" | "stepIndex" | "channel" | "claim"> & {
    senderId?: string;
    variant?: string;
    messageId?: string;
  },
  now = new Date(),
): Promise<{ fresh: true; record: SendRecord } | { fresh: false; record: SendRecord }> {
  const at = now.toISOString();
  const record: SendRecord = {
    enrollmentId: r.enrollmentId,
    stepId: r.stepId,
    stepIndex: r.stepIndex,
    channel: r.channel,
    status: "sending",
    messageId: r.messageId ?? stepMessageId(r.enrollmentId, r.stepId),
    ...(r.senderId ? { senderId: r.senderId } : {}),
    ...(r.variant ? { variant: r.variant } : {}),
    claim: r.claim,
    attempts: 1,
    createdAt: at,
    updatedAt: at,
  };
  const key = keys.sendRecord(ws, r.enrollmentId, r.stepId);
  try {
    await store.ddb.send(
      new PutCommand({
        TableName: store.cfg.tableName,
        Item: { ...key, type: "send", v: 1, ...record },
        ConditionExpression: "attribute_not_exists(pk)",
      }),
    );
    return { fresh: true, record };
  } catch (e) {
    if (!conditionFailed(e)) throw e;
  }
  // It exists: take it over only when it is provably unsent.
  try {
    const res = await store.ddb.send(
      new UpdateCommand({
        TableName: store.cfg.tableName,
        Key: key,
        UpdateExpression: "SET #s = :sending, #claim = :claim, updatedAt = :now ADD attempts :one",
        ConditionExpression: "#s = :retryable",
        ExpressionAttributeNames: { "#s": "status", "#claim": "claim" },
        ExpressionAttributeValues: {
          ":sending": "sending",
          ":retryable": "retryable",
          ":claim": r.claim,
          ":now": at,
          ":one": 1,
        },
        ReturnValues: "ALL_NEW",
      }),
    );
    return { fresh: true, record: withoutKeys(res.Attributes ?? {}) as SendRecord };
  } catch (e) {
    if (!conditionFailed(e)) throw e;
  }
  const existing = await getSendRecord(store, ws, r.enrollmentId, r.stepId);
  if (!existing) throw new Error(`send record ${r.enrollmentId}/${r.stepId} vanished`);
  return { fresh: false, record: existing };
}

/** Move a record from `sending` to its final state (a no-op if another attempt already finished it). */
export async function finishSend(
  store: Store,
  ws: string,
  enrollmentId: string,
  stepId: string,
  status: Exclude<SendStatus, "sending">,
  extra: { providerMessageId?: string; detail?: string } = {},
  now = new Date(),
): Promise<void> {
  const at = now.toISOString();
  const set = ["#s = :status", "updatedAt = :now"];
  const values: Record<string, unknown> = { ":status": status, ":now": at, ":sending": "sending" };
  // The worker that called the transport knows it sent: that corrects an `uncertain` set meanwhile
  // by a concurrent duplicate delivery (which saw `sending` and did not send).
  if (status === "sent") {
    set.push("sentAt = :now");
    values[":uncertain"] = "uncertain";
  }
  if (extra.providerMessageId) {
    set.push("providerMessageId = :pid");
    values[":pid"] = extra.providerMessageId;
  }
  if (extra.detail) {
    set.push("detail = :detail");
    values[":detail"] = extra.detail.slice(0, 500);
  }
  try {
    await store.ddb.send(
      new UpdateCommand({
        TableName: store.cfg.tableName,
        Key: keys.sendRecord(ws, enrollmentId, stepId),
        UpdateExpression: `SET ${set.join(", ")}`,
        ConditionExpression: status === "sent" ? "#s IN (:sending, :uncertain)" : "#s = :sending",
        ExpressionAttributeNames: { "#s": "status" },
        ExpressionAttributeValues: values,
      }),
    );
  } catch (e) {
    if (!conditionFailed(e)) throw e;
  }
}
