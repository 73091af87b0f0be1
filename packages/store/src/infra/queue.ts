import { SendMessageBatchCommand, SendMessageCommand } from "@aws-sdk/client-sqs";
import type { TierChangeBatch, TierChangedEvent } from "@icp/core";
import type { Store } from "./clients.js";
import type { QueueName } from "./manifest.js";
import { type Backoff, backoff } from "./retry.js";

/** SQS caps a batch at 10 entries and 256 KiB; stay under with room for attributes. */
const MAX_BATCH_BYTES = 240 * 1024;
/** Failed entries go again after 100, 200, … 1600 ms (6 attempts). */
const FAILED_ENTRIES: Backoff = { baseMs: 50, capMs: 1600, jitter: "none" };

/** Publish messages (JSON) to a queue in batches, retrying failed entries; throws if any is never accepted. */
export async function publish(store: Store, queue: QueueName, messages: readonly unknown[]): Promise<void> {
  const url = store.cfg.queues[queue];
  const bodies = messages.map((m) => JSON.stringify(m));
  let batch: { Id: string; MessageBody: string }[] = [];
  let bytes = 0;
  const flush = async () => {
    let pending = batch;
    batch = [];
    bytes = 0;
    for (let attempt = 0; pending.length; attempt++) {
      if (attempt >= 6) throw new Error(`SendMessageBatch to ${queue}: ${pending.length} messages not accepted`);
      if (attempt > 0) await backoff(attempt, FAILED_ENTRIES);
      const res = await store.sqs.send(new SendMessageBatchCommand({ QueueUrl: url, Entries: pending }));
      const failed = new Set((res.Failed ?? []).map((f) => f.Id));
      pending = pending.filter((e) => failed.has(e.Id));
    }
  };
  for (const [i, body] of bodies.entries()) {
    const size = Buffer.byteLength(body);
    if (size > MAX_BATCH_BYTES) throw new Error(`message ${i} for ${queue} is ${size} bytes, over the SQS limit`);
    if (batch.length === 10 || bytes + size > MAX_BATCH_BYTES) await flush();
    batch.push({ Id: String(i), MessageBody: body });
    bytes += size;
  }
  if (batch.length) await flush();
}

/**
 * Put a message that can never succeed on its queue's DLQ with the reason, instead of letting
 * it be retried until the redrive policy moves it there without one. False when the queue
 * has no DLQ configured (the caller then fails the message the ordinary way).
 */
export async function deadLetter(
  store: Store,
  queue: QueueName,
  body: string,
  reason: string,
  messageId: string,
): Promise<boolean> {
  const url = store.cfg.dlqs?.[queue];
  if (!url) return false;
  await store.sqs.send(
    new SendMessageCommand({
      QueueUrl: url,
      MessageBody: body,
      MessageAttributes: {
        reason: { DataType: "String", StringValue: reason.slice(0, 1000) },
        sourceQueue: { DataType: "String", StringValue: queue },
        originalMessageId: { DataType: "String", StringValue: messageId },
        failedAt: { DataType: "String", StringValue: new Date().toISOString() },
      },
    }),
  );
  return true;
}

/** Events per route message: ~400 bytes each keeps a message well under SQS's 256 KiB. */
const EVENTS_PER_MESSAGE = 200;

/** Publish tier changes to the route queue, many per message (consumers dedupe by event id). */
export async function publishTierChanges(store: Store, events: readonly TierChangedEvent[]): Promise<void> {
  if (!events.length) return;
  const batches: TierChangeBatch[] = [];
  for (let i = 0; i < events.length; i += EVENTS_PER_MESSAGE)
    batches.push({ kind: "tier-changes", events: events.slice(i, i + EVENTS_PER_MESSAGE) });
  await publish(store, "RouteQueue", batches);
}
