import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageBatchCommand,
  type Message,
  ReceiveMessageCommand,
  type SQSClient,
} from "@aws-sdk/client-sqs";
import { sleep } from "@icp/store/retry";
import type { SQSBatchResponse, SQSEvent, SQSRecord } from "aws-lambda";

export type SqsLambda = (event: SQSEvent, context?: never) => Promise<SQSBatchResponse | undefined>;

export type PollerOptions = {
  sqs: SQSClient;
  queueUrl: string;
  queueArn: string;
  handler: SqsLambda;
  batchSize: number;
  /** Parallel receive loops: how many "Lambda instances" consume the queue. */
  concurrency: number;
  visibilityTimeout: number;
  /** Seconds before a failed message becomes visible again (AWS would wait the visibility timeout). */
  retryDelay: number;
  onError?: (e: unknown) => void;
  /** While true, receive nothing (the API in this process is shedding load): checked every 200 ms. */
  paused?: () => boolean;
};

function toRecord(m: Message, arn: string): SQSRecord {
  const attrs = m.Attributes ?? {};
  return {
    messageId: m.MessageId ?? "",
    receiptHandle: m.ReceiptHandle ?? "",
    body: m.Body ?? "",
    attributes: {
      ApproximateReceiveCount: attrs.ApproximateReceiveCount ?? "1",
      SentTimestamp: attrs.SentTimestamp ?? String(Date.now()),
      SenderId: attrs.SenderId ?? "local",
      ApproximateFirstReceiveTimestamp: attrs.ApproximateFirstReceiveTimestamp ?? String(Date.now()),
    },
    messageAttributes: {},
    md5OfBody: m.MD5OfBody ?? "",
    eventSource: "aws:sqs",
    eventSourceARN: arn,
    awsRegion: "us-east-1",
  };
}

/**
 * What Lambda's SQS event source mapping does, in process: receive a batch, invoke the
 * handler with an SQS event, delete what succeeded, and leave partial batch failures (or the
 * whole batch if the handler throws) to come back; SQS's redrive policy moves a message to
 * the DLQ after maxReceiveCount receives.
 */
export function startPoller(o: PollerOptions): { stop(): Promise<void> } {
  let running = true;
  const loop = async () => {
    while (running) {
      if (o.paused?.()) {
        await sleep(200);
        continue;
      }
      let messages: Message[] = [];
      try {
        const res = await o.sqs.send(
          new ReceiveMessageCommand({
            QueueUrl: o.queueUrl,
            MaxNumberOfMessages: o.batchSize,
            WaitTimeSeconds: 1,
            VisibilityTimeout: o.visibilityTimeout,
            MessageSystemAttributeNames: ["All"],
          }),
        );
        messages = res.Messages ?? [];
      } catch (e) {
        if (!running) break;
        o.onError?.(e);
        await sleep(500);
        continue;
      }
      if (!messages.length) continue;
      let failed: Set<string>;
      try {
        const res = await o.handler({ Records: messages.map((m) => toRecord(m, o.queueArn)) });
        failed = new Set((res?.batchItemFailures ?? []).map((f) => f.itemIdentifier));
      } catch (e) {
        o.onError?.(e);
        failed = new Set(messages.map((m) => m.MessageId ?? ""));
      }
      const done = messages.filter((m) => !failed.has(m.MessageId ?? ""));
      const retry = messages.filter((m) => failed.has(m.MessageId ?? ""));
      try {
        if (done.length)
          await o.sqs.send(
            new DeleteMessageBatchCommand({
              QueueUrl: o.queueUrl,
              Entries: done.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle ?? "" })),
            }),
          );
        if (retry.length)
          await o.sqs.send(
            new ChangeMessageVisibilityBatchCommand({
              QueueUrl: o.queueUrl,
              Entries: retry.map((m, i) => ({
                Id: String(i),
                ReceiptHandle: m.ReceiptHandle ?? "",
                VisibilityTimeout: o.retryDelay,
              })),
            }),
          );
      } catch (e) {
        o.onError?.(e);
      }
    }
  };
  const loops = Array.from({ length: o.concurrency }, loop);
  return {
    async stop() {
      running = false;
      await Promise.all(loops);
    },
  };
}
