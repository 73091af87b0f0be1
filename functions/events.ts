import { EngagementEventsMessage } from "@icp/core";
import { recordEvents, storeFromEnv } from "@icp/store";
import { logger, sqsHandler } from "./lib/sqs-batch.js";

/**
 * SQS: engagement events of one workspace -> timeline, markers, score, effects, counters.
 * Exactly once per event id (see recordEvents). An event naming no existing account is
 * dropped with a warning and counted (EventsUnknownAccount): it cannot be attributed, and
 * retrying would not change that.
 */
export const handler = sqsHandler("EventQueue", EngagementEventsMessage, async (msg) => {
  const r = await recordEvents(storeFromEnv(), msg);
  if (r.unknownAccount)
    logger.warn("events for unknown accounts dropped", {
      workspaceId: msg.workspaceId,
      dropped: r.unknownAccount,
      accountIds: r.unknownAccountIds.slice(0, 20),
    });
  return {
    EventsRecorded: r.recorded,
    EventsDuplicate: r.duplicates,
    EventsUnknownAccount: r.unknownAccount,
    CounterUpdates: r.counterUpdates,
  };
});
