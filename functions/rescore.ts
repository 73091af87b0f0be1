import { RescorePageMessage } from "@icp/core";
import { processRescorePage, storeFromEnv } from "@icp/store";
import { sqsHandler } from "./lib/sqs-batch.js";

/** SQS: one page of a re-scoring job -> accounts re-scored, tier changes published, next page queued. */
export const handler = sqsHandler("RescoreQueue", RescorePageMessage, (msg) => processRescorePage(storeFromEnv(), msg));
