import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageBatchCommand,
  type Message,
  type MessageAttributeValue,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  type SQSClient,
} from "@aws-sdk/client-sqs";

/** Attributes `deadLetter` (packages/store/src/infra/queue.ts) puts on a poison message; dropped when it is moved back. */
export const DEAD_LETTER_ATTRIBUTES = ["reason", "sourceQueue", "originalMessageId", "failedAt"] as const;

export type RedriveOptions = {
  dlqUrl: string;
  /** The queue the DLQ belongs to: where the messages go back. */
  queueUrl: string;
  /** Move poison messages (they carry a `reason`) too; by default they stay: they would fail again. */
  includePoison?: boolean;
  /** Move at most this many messages. */
  max?: number;
  /** Long-poll wait per receive (seconds); the run ends at the first empty receive. */
  waitSeconds?: number;
  /** How long messages received but kept stay hidden during the run; they are made visible again at the end. */
  holdSeconds?: number;
};

export type RedriveResult = {
  moved: number;
  /** Poison messages (they carry a `reason`) that were in the DLQ and were left there. */
  keptPoison: number;
  /** Messages that reached the DLQ after the run started (moved ones failing again): left for the next run. */
  arrivedDuring: number;
  /** The reasons of the poison messages left in the DLQ (the first 20). */
  poisonReasons: string[];
};

const isPoison = (m: Message) => m.MessageAttributes?.reason?.StringValue !== undefined;

function forwardedAttributes(m: Message): Record<string, MessageAttributeValue> | undefined {
  const attrs = { ...(m.MessageAttributes ?? {}) };
  for (const k of DEAD_LETTER_ATTRIBUTES) delete attrs[k];
  return Object.keys(attrs).length ? attrs : undefined;
}

/**
 * Move the messages of a DLQ back to its source queue (after the fault that parked them is
 * fixed): receive a batch, send it to the queue, delete what was sent, until the DLQ is empty.
 * Send comes before delete, so a crash in between duplicates a message (handlers are
 * idempotent) and never loses one. Poison messages, which the handlers dead-letter at once
 * with a `reason` attribute, stay unless `includePoison`; the redrive policy's own moves
 * (retries exhausted: DynamoDB down, throttled…) carry no reason and are moved. Only what was
 * in the DLQ when the run started is moved: a moved message that fails again and comes back
 * during the run stays there, so a run always ends (no redrive loop).
 */
export async function redriveDlq(sqs: SQSClient, o: RedriveOptions): Promise<RedriveResult> {
  const max = o.max ?? Number.POSITIVE_INFINITY;
  const startedAt = Date.now();
  const fifo = o.queueUrl.endsWith(".fifo");
  const kept: Message[] = [];
  const poisonReasons: string[] = [];
  let moved = 0;
  let arrivedDuring = 0;
  let keptPoison = 0;
  try {
    while (moved < max) {
      const res = await sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: o.dlqUrl,
          MaxNumberOfMessages: 10,
          WaitTimeSeconds: o.waitSeconds ?? 1,
          VisibilityTimeout: o.holdSeconds ?? 300,
          MessageAttributeNames: ["All"],
          MessageSystemAttributeNames: ["SentTimestamp", "MessageGroupId"],
        }),
      );
      const messages = res.Messages ?? [];
      if (!messages.length) break;
      const toMove: Message[] = [];
      for (const m of messages) {
        if (Number(m.Attributes?.SentTimestamp ?? 0) >= startedAt) {
          arrivedDuring++;
          kept.push(m);
        } else if ((isPoison(m) && !o.includePoison) || moved + toMove.length >= max) {
          kept.push(m); // poison, or over `max`: left in the DLQ
          if (isPoison(m)) {
            keptPoison++;
            if (poisonReasons.length < 20) poisonReasons.push(m.MessageAttributes?.reason?.StringValue ?? "");
          }
        } else toMove.push(m);
      }
      if (!toMove.length) continue;
      const sent = await sqs.send(
        new SendMessageBatchCommand({
          QueueUrl: o.queueUrl,
          Entries: toMove.map((m, i) => {
            const attributes = forwardedAttributes(m);
            return {
              Id: String(i),
              MessageBody: m.Body ?? "",
              ...(attributes ? { MessageAttributes: attributes } : {}),
              ...(fifo
                ? {
                    MessageGroupId: m.Attributes?.MessageGroupId ?? "redrive",
                    MessageDeduplicationId: m.MessageId ?? String(i),
                  }
                : {}),
            };
          }),
        }),
      );
      const failed = new Set((sent.Failed ?? []).map((f) => f.Id));
      const done = toMove.filter((_, i) => !failed.has(String(i)));
      kept.push(...toMove.filter((_, i) => failed.has(String(i))));
      if (done.length) {
        await sqs.send(
          new DeleteMessageBatchCommand({
            QueueUrl: o.dlqUrl,
            Entries: done.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle ?? "" })),
          }),
        );
      }
      moved += done.length;
      if (failed.size) throw new Error(`${failed.size} message(s) could not be sent to ${o.queueUrl}`);
    }
  } finally {
    // What stays in the DLQ becomes visible again at once, as if the run had not looked at it.
    for (let i = 0; i < kept.length; i += 10) {
      await sqs
        .send(
          new ChangeMessageVisibilityBatchCommand({
            QueueUrl: o.dlqUrl,
            Entries: kept.slice(i, i + 10).map((m, j) => ({
              Id: String(j),
              ReceiptHandle: m.ReceiptHandle ?? "",
              VisibilityTimeout: 0,
            })),
          }),
        )
        .catch(() => {}); // they reappear after holdSeconds anyway
    }
  }
  return { moved, keptPoison, arrivedDuring, poisonReasons };
}
