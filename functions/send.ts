import { SendStepMessage } from "@icp/core";
import { mailTransport, QUEUES, requireSettings, SEND_SETTINGS, sendStep, storeFromEnv } from "@icp/store";
import { logger, sqsHandler } from "./lib/sqs-batch.js";

/**
 * SQS: one claimed sequence step -> checks, transport opened, cap slot, send record, transport
 * (SMTP / SES), task or signed webhook (https to a public address unless ICP_WEBHOOK_ALLOW_PRIVATE)
 * -> `sent` event, step completed. Logs ids, never bodies or addresses.
 */
const MAX_RECEIVES = QUEUES.find((q) => q.name === "SendQueue")?.maxReceiveCount ?? 1;

const handleBatch = sqsHandler("SendQueue", SendStepMessage, async (msg, record) => {
  const settings = requireSettings(SEND_SETTINGS);
  const r = await sendStep(storeFromEnv(), msg, {
    transport: () => mailTransport(settings.mail),
    settings: () => settings,
    delivery: { receiveCount: Number(record.attributes.ApproximateReceiveCount ?? 1), maxReceives: MAX_RECEIVES },
  });
  const ids = { workspaceId: msg.workspaceId, enrollmentId: msg.enrollmentId, stepId: msg.stepId };
  if (r.outcome === "uncertain") logger.warn("send outcome uncertain: not resent (at-most-once)", { ...ids, ...r });
  else logger.info("step handled", { ...ids, outcome: r.outcome, detail: r.detail });
  return {
    Sent: r.outcome === "sent" || r.outcome === "task" || r.outcome === "webhook" ? 1 : 0,
    Deferred: r.outcome === "deferred" ? 1 : 0,
    Suppressed: r.outcome === "suppressed" ? 1 : 0,
    Skipped: r.outcome === "skipped" || r.outcome === "stopped" ? 1 : 0,
  };
});

/**
 * Fail closed: while a setting the worker needs is missing (tracking secret, public URL, mail
 * transport, default From), every invocation throws `missing settings: …` naming them all
 * before any record is touched; SQS retries the batch, then parks it in the DLQ.
 */
export const handler: typeof handleBatch = async (event, context) => {
  requireSettings(SEND_SETTINGS);
  return handleBatch(event, context);
};
