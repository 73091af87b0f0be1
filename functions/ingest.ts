import { IngestChunkMessage } from "@icp/core";
import { ingestChunk, storeFromEnv } from "@icp/store";
import { logger, sqsHandler } from "./lib/sqs-batch.js";

/** SQS: one import chunk -> accounts merged, scored, written; tier changes published. */
export const handler = sqsHandler("IngestQueue", IngestChunkMessage, async (msg) => {
  const ids = { workspaceId: msg.workspaceId, importId: msg.importId, chunk: msg.chunk };
  const result = await ingestChunk(storeFromEnv(), msg);
  logger.info("chunk ingested", { ...ids, ...result });
  return { AccountsWritten: result.written, TierChanges: result.tierChanges };
});
