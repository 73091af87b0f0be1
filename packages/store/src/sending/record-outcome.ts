import type { BegunSend } from "./begin-send.js";
import type { Delivery } from "./deliver/index.js";
import { RetryLaterError } from "./errors.js";
import { completeJobStep, publishSent, quiet, type SendJob, type SendStepResult } from "./job.js";
import { finishSend, type SendStatus } from "./send-records.js";

/**
 * Write down what the transport said: the send record's final state, the `sent` event, then the
 * step. A retryable delivery leaves the record `retryable` and throws RetryLaterError.
 */
export async function recordOutcome(job: SendJob, send: BegunSend, d: Delivery): Promise<SendStepResult> {
  const { store, ws, enrollment: e, step } = job;
  const finish = (status: Exclude<SendStatus, "sending">, extra?: { providerMessageId?: string; detail?: string }) =>
    finishSend(store, ws, e.id, step.id, status, extra);
  const base = {
    variant: send.rendered.variant,
    ...(send.sender ? { senderId: send.sender.id } : {}),
  };
  switch (d.kind) {
    case "task":
      await finish("sent", { detail: "task created" });
      await completeJobStep(job, "task");
      return { ...base, outcome: "task" };
    case "webhook":
      await finish("sent");
      await publishSent(job, send.rendered.variant);
      await completeJobStep(job, "webhook");
      return { ...base, outcome: "webhook" };
    case "sent": {
      // The record and the event before the step (the step's reads meanwhile): if the worker dies
      // before the step is completed, the redelivery publishes the event again under the same id
      // (counted once) and completes the step; the other order could lose it.
      const recorded = quiet(
        Promise.all([
          finish("sent", { providerMessageId: d.providerMessageId }),
          publishSent(job, send.rendered.variant),
        ]),
      );
      await completeJobStep(job, "sent", { after: recorded });
      return { ...base, outcome: "sent" };
    }
    case "failed":
      await finish("failed", { detail: d.detail });
      await completeJobStep(job, "failed", { detail: d.why });
      return { outcome: "failed", detail: d.why };
    case "uncertain":
      await finish("uncertain", { detail: d.why });
      await completeJobStep(job, "failed", { detail: d.why });
      return { outcome: "uncertain", detail: d.why };
    case "retry":
      await finish("retryable", { detail: d.detail });
      throw new RetryLaterError(d.why);
  }
}
