import { TierChangedEvent } from "@icp/core";
import { logger, sqsHandler } from "./lib/sqs-batch.js";

/**
 * SQS: tier-change events. The sequences capability (enroll/move/stop) plugs in here;
 * until then each event is validated and acknowledged, so nothing piles up or is lost.
 */
export const handler = sqsHandler("RouteQueue", TierChangedEvent, async (evt) => {
  logger.debug("tier changed", { accountId: evt.accountId, from: evt.from, to: evt.to, eventId: evt.eventId });
});
