import { RouteMessage } from "@icp/core";
import { logger, sqsHandler } from "./lib/sqs-batch.js";

/**
 * SQS: tier-change events (batched per ingest chunk or rescore page). The sequences capability
 * (enroll / move / stop) plugs in here; until then each event is validated and acknowledged,
 * so nothing piles up or is lost.
 */
export const handler = sqsHandler("RouteQueue", RouteMessage, async (msg) => {
  const events = "events" in msg ? msg.events : [msg];
  for (const evt of events)
    logger.debug("tier changed", { accountId: evt.accountId, from: evt.from, to: evt.to, eventId: evt.eventId });
  return { TierChangesRouted: events.length };
});
