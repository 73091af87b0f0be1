import { RouteMessage } from "@icp/core";
import { routeTierChanges, storeFromEnv } from "@icp/store";
import { logger, sqsHandler } from "./lib/sqs-batch.js";

/**
 * SQS: tier-change events (batched per ingest chunk or rescore page) -> routing rules: enroll,
 * move between tracks, stop. Idempotent under redelivery (dedupe by event id per account).
 */
export const handler = sqsHandler("RouteQueue", RouteMessage, async (msg) => {
  const events = "events" in msg ? msg.events : [msg];
  const r = await routeTierChanges(storeFromEnv(), events);
  if (r.enrolled || r.stopped)
    logger.info("tier changes routed", { routed: r.routed, enrolled: r.enrolled, stopped: r.stopped });
  return { TierChangesRouted: r.routed, Enrolled: r.enrolled, EnrollmentsStopped: r.stopped };
});
