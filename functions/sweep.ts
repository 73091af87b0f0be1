import { storeFromEnv, sweepAgedAccounts } from "@icp/store";
import { logger } from "./lib/sqs-batch.js";

/** Schedule: re-score accounts whose intent signals aged out of their points. */
export const handler = async () => {
  const result = await sweepAgedAccounts(storeFromEnv());
  if (result.checked) logger.info("signal sweep", result);
  return result;
};
