import { runTick, storeFromEnv } from "@icp/store";
import { logger } from "./lib/sqs-batch.js";

/** Schedule (every minute; every 5 s locally): claim due sequence steps -> send queue; re-queue stale claims. */
export const handler = async () => {
  const result = await runTick(storeFromEnv());
  if (result.claimed || result.requeued) logger.info("sequence tick", result);
  return result;
};
