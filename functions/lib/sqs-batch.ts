import { BatchProcessor, EventType, processPartialResponse } from "@aws-lambda-powertools/batch";
import { Logger } from "@aws-lambda-powertools/logger";
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from "aws-lambda";
import type { z } from "zod";

export const logger = new Logger({ serviceName: "icp-sequencer" });

/** A message that can never succeed (bad JSON, wrong shape): it fails, and after the queue's
 * maxReceiveCount SQS moves it to the DLQ; the log line carries the reason. */
export class PoisonMessageError extends Error {}

/**
 * SQS handler with partial batch failures: each record is parsed with its zod schema and
 * handled on its own; failed ones are reported back so only they are retried, and one bad
 * message never fails the batch or the worker.
 */
export function sqsHandler<T>(
  name: string,
  schema: z.ZodType<T>,
  handle: (msg: T, record: SQSRecord) => Promise<unknown>,
) {
  const processor = new BatchProcessor(EventType.SQS);
  const record = async (r: SQSRecord) => {
    let body: unknown;
    try {
      body = JSON.parse(r.body);
    } catch {
      throw new PoisonMessageError(`${name}: message ${r.messageId} is not JSON`);
    }
    const parsed = schema.safeParse(body);
    if (!parsed.success)
      throw new PoisonMessageError(
        `${name}: message ${r.messageId} does not match its schema: ${parsed.error.issues[0]?.path.join(".")} ${parsed.error.issues[0]?.message}`,
      );
    await handle(parsed.data, r);
  };
  return async (event: SQSEvent, context?: Context): Promise<SQSBatchResponse> => {
    const res = await processPartialResponse(event, record, processor, {
      ...(context ? { context } : {}),
      throwOnFullBatchFailure: false,
    });
    res.batchItemFailures.forEach((f, i) => {
      logger.warn("message failed", { queue: name, messageId: f.itemIdentifier, error: String(processor.errors[i]) });
    });
    return res;
  };
}
