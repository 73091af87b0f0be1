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
  const run = newRun(o);
  try {
    while (run.moved < run.max) {
      const messages = await receiveBatch(sqs, o);
      if (!messages.length) break; // the DLQ is empty (or holds only what this run keeps)
      const toMove = sortBatch(run, messages);
      if (toMove.length) await moveBatch(sqs, run, toMove);
    }
  } finally {
    await releaseKept(sqs, o.dlqUrl, run.kept);
  }
  const { moved, keptPoison, arrivedDuring, poisonReasons } = run;
  return { moved, keptPoison, arrivedDuring, poisonReasons };
}

/** One run's state: what it moved and what it keeps hidden until the end. */
type Run = RedriveResult & { o: RedriveOptions; max: number; startedAt: number; kept: Message[] };

const newRun = (o: RedriveOptions): Run => ({
  o,
  max: o.max ?? Number.POSITIVE_INFINITY,
  startedAt: Date.now(),
  kept: [],
  moved: 0,
  keptPoison: 0,
  arrivedDuring: 0,
  poisonReasons: [],
});

async function receiveBatch(sqs: SQSClient, o: RedriveOptions): Promise<Message[]> {
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
  return res.Messages ?? [];
}

/** The messages of a batch to move; the others (arrived during the run, poison, over `max`) are kept. */
function sortBatch(run: Run, messages: Message[]): Message[] {
  const toMove: Message[] = [];
  for (const m of messages) {
    // Stamped in a later millisecond than the run's start. The same millisecond counts as before:
    // a message parked just before the run often shares it, while one of ours coming back
    // (received, sent, handled, dead-lettered) takes far longer than a millisecond.
    if (Number(m.Attributes?.SentTimestamp ?? 0) > run.startedAt) {
      run.arrivedDuring++;
      run.kept.push(m);
    } else if ((isPoison(m) && !run.o.includePoison) || run.moved + toMove.length >= run.max) {
      run.kept.push(m); // poison, or over `max`: left in the DLQ
      if (isPoison(m)) {
        run.keptPoison++;
        if (run.poisonReasons.length < 20) run.poisonReasons.push(m.MessageAttributes?.reason?.StringValue ?? "");
      }
    } else toMove.push(m);
  }
  return toMove;
}

/** Send to the queue, then delete from the DLQ what was sent; what failed to send is kept, and ends the run. */
async function moveBatch(sqs: SQSClient, run: Run, toMove: Message[]): Promise<void> {
  const fifo = run.o.queueUrl.endsWith(".fifo");
  const sent = await sqs.send(
    new SendMessageBatchCommand({ QueueUrl: run.o.queueUrl, Entries: toMove.map((m, i) => sendEntry(m, i, fifo)) }),
  );
  const failed = new Set((sent.Failed ?? []).map((f) => f.Id));
  const done = toMove.filter((_, i) => !failed.has(String(i)));
  run.kept.push(...toMove.filter((_, i) => failed.has(String(i))));
  if (done.length) {
    await sqs.send(
      new DeleteMessageBatchCommand({
        QueueUrl: run.o.dlqUrl,
        Entries: done.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle ?? "" })),
      }),
    );
  }
  run.moved += done.length;
  if (failed.size) throw new Error(`${failed.size} message(s) could not be sent to ${run.o.queueUrl}`);
}

function sendEntry(m: Message, i: number, fifo: boolean) {
  const attributes = forwardedAttributes(m);
  return {
    Id: String(i),
    MessageBody: m.Body ?? "",
    ...(attributes ? { MessageAttributes: attributes } : {}),
    ...(fifo
      ? { MessageGroupId: m.Attributes?.MessageGroupId ?? "redrive", MessageDeduplicationId: m.MessageId ?? String(i) }
      : {}),
  };
}

/** What stays in the DLQ becomes visible again at once, as if the run had not looked at it. */
async function releaseKept(sqs: SQSClient, dlqUrl: string, kept: Message[]): Promise<void> {
  for (let i = 0; i < kept.length; i += 10) {
    await sqs
      .send(
        new ChangeMessageVisibilityBatchCommand({
          QueueUrl: dlqUrl,
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
