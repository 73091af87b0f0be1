import { IngestChunkMessage } from "@icp/core";
import { ingestChunk, storeFromEnv } from "@icp/store";
import { sqsHandler } from "./lib/sqs-batch.js";

/** SQS: one import chunk -> accounts merged, scored, written; tier changes published. */
export const handler = sqsHandler("IngestQueue", IngestChunkMessage, (msg) => ingestChunk(storeFromEnv(), msg));
