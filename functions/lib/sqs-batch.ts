import { BatchProcessor, EventType, processPartialResponse } from "@aws-lambda-powertools/batch";
import { Logger } from "@aws-lambda-powertools/logger";
import { Metrics, MetricUnit } from "@aws-lambda-powertools/metrics";
import { deadLetter, type QueueName, storeFromEnv } from "@icp/store";
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from "aws-lambda";
import type { z } from "zod";

export const logger = new Logger({ serviceName: "icp-sequencer" });
/** CloudWatch metrics (EMF log lines) per queue: handled, failed, dead-lettered, and what handlers count. */
export const metrics = new Metrics({ namespace: "icp-sequencer", serviceName: "icp-sequencer" });

/** A message that can never succeed (not JSON, wrong shape): retrying it is pointless. */
export class PoisonMessageError extends Error {}

/**
 * SQS handler with partial batch failures: each record is parsed with its zod schema and
 * handled on its own. A poison message goes straight to the queue's DLQ with its reason
 * (and counts as handled); any other failure is reported back so that only that record is
 * retried, and after maxReceiveCount the redrive policy parks it in the DLQ. One bad
 * message never fails the batch or the worker.
 */
export function sqsHandler<T>(
  queue: QueueName,
  schema: z.ZodType<T>,
  handle: (msg: T, record: SQSRecord) => Promise<unknown>,
) {
  const parse = (r: SQSRecord): T => {
    let body: unknown;
    try {
      body = JSON.parse(r.body);
    } catch {
      throw new PoisonMessageError("not JSON");
    }
    const parsed = schema.safeParse(body);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new PoisonMessageError(
        `does not match its schema: ${issue?.path.join(".") || "message"}: ${issue?.message}`,
      );
    }
    return parsed.data;
  };
  const record = async (r: SQSRecord) => {
    let msg: T;
    try {
      msg = parse(r);
    } catch (e) {
      const reason = (e as Error).message;
      if (await deadLetter(storeFromEnv(), queue, r.body, reason, r.messageId)) {
        logger.warn("poison message dead-lettered", { queue, messageId: r.messageId, reason });
        metrics.addMetric("DeadLettered", MetricUnit.Count, 1);
        return;
      }
      throw e;
    }
    const counts = await handle(msg, r);
    // Handlers may return counts (accounts written, tier changes…) to publish as metrics.
    if (counts && typeof counts === "object")
      for (const [k, v] of Object.entries(counts)) if (typeof v === "number") metrics.addMetric(k, MetricUnit.Count, v);
  };
  return async (event: SQSEvent, context?: Context): Promise<SQSBatchResponse> => {
    // A processor per invocation: it keeps the batch's state, which concurrent calls must not share.
    const processor = new BatchProcessor(EventType.SQS);
    const res = await processPartialResponse(event, record, processor, {
      ...(context ? { context } : {}),
      throwOnFullBatchFailure: false,
    });
    res.batchItemFailures.forEach((f, i) => {
      logger.warn("message failed", { queue, messageId: f.itemIdentifier, error: String(processor.errors[i]) });
    });
    metrics.addDimension("queue", queue);
    metrics.addMetric("Handled", MetricUnit.Count, event.Records.length - res.batchItemFailures.length);
    metrics.addMetric("Failed", MetricUnit.Count, res.batchItemFailures.length);
    metrics.publishStoredMetrics();
    return res;
  };
}
