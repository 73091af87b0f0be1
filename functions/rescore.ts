import { RescorePageMessage } from "@icp/core";
import { processRescorePage, storeFromEnv } from "@icp/store";
import { logger, sqsHandler } from "./lib/sqs-batch.js";

/** SQS: one page of a re-scoring job -> accounts re-scored, tier changes published, next page queued. */
export const handler = sqsHandler("RescoreQueue", RescorePageMessage, async (msg) => {
  await processRescorePage(storeFromEnv(), msg);
  logger.info("rescore page", { workspaceId: msg.workspaceId, jobId: msg.jobId, shard: msg.shard, page: msg.page });
});
