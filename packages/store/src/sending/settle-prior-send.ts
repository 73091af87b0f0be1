import { isTaskChannel, type StepOutcome } from "@icp/core";
import { QUEUES } from "../infra/index.js";
import { RetryLaterError } from "./errors.js";
import { completeJobStep, publishSent, type SendJob, type SendStepResult } from "./job.js";
import { finishSend, type SendRecord } from "./send-records.js";

/**
 * How long a `sending` record may belong to a worker that is still running: the send handler's
 * timeout (a Lambda cannot outlive it). A copy of the message that finds a younger record waits
 * for the next delivery instead of calling it uncertain; by then the owner has finished.
 */
const SEND_QUEUE = QUEUES.find((q) => q.name === "SendQueue");
export const SENDING_LIVE_MS = (SEND_QUEUE?.timeout ?? 30) * 1000;

/** What a delivery that finds the step's send record does: never send, only finish. */
export type Settlement =
  | { kind: "retry-later"; why: string }
  | {
      kind: "settle";
      /** Mark the record uncertain: its attempt died between the record and its outcome. */
      markUncertain?: string;
      publishSent: boolean;
      complete?: { outcome: StepOutcome; detail: string };
      result: SendStepResult;
    };

/** The settlement for `r`, from the record, the step's channel, the clock and this delivery's receive count. */
export function priorSendSettlement(job: Pick<SendJob, "enrollment" | "step" | "deps">, r: SendRecord): Settlement {
  const { enrollment: e, step, deps } = job;
  const who = r.senderId ? { senderId: r.senderId } : {};
  switch (r.status) {
    case "sent": {
      const outcome: StepOutcome = isTaskChannel(step.channel)
        ? "task"
        : step.channel === "webhook"
          ? "webhook"
          : "sent";
      return {
        kind: "settle",
        publishSent: outcome !== "task",
        complete: { outcome, detail: "completed after redelivery" },
        result: { outcome: "dropped", detail: "already sent; step completed", ...who },
      };
    }
    case "sending": {
      // Another delivery of this message may still be sending (a duplicate SQS delivery, an
      // overlapping tick): come back later, unless this is the last receive before the DLQ.
      const now = (deps.now?.() ?? new Date()).getTime();
      const d = deps.delivery;
      const lastTry = d !== undefined && d.receiveCount >= d.maxReceives - 1;
      if (now - Date.parse(r.updatedAt) < SENDING_LIVE_MS && !lastTry)
        return { kind: "retry-later", why: `step ${e.id}/${step.id} is being sent by another delivery` };
      const why = "uncertain: a previous attempt stopped between send and acknowledgement; not resent";
      return {
        kind: "settle",
        markUncertain: why,
        publishSent: false,
        complete: { outcome: "failed", detail: why },
        result: { outcome: "uncertain", detail: why, ...who },
      };
    }
    case "uncertain":
    case "failed":
      return {
        kind: "settle",
        publishSent: false,
        complete: { outcome: "failed", detail: r.detail ?? r.status },
        result: { outcome: "dropped", detail: `record ${r.status}; step completed`, ...who },
      };
    case "retryable":
      return {
        kind: "settle",
        publishSent: false,
        result: { outcome: "dropped", detail: "retryable record owned by another attempt", ...who },
      };
  }
}

/** A delivery that finds the step's send record: finish what the earlier attempt started, without sending. */
export async function settlePriorSend(job: SendJob, r: SendRecord): Promise<SendStepResult> {
  const s = priorSendSettlement(job, r);
  if (s.kind === "retry-later") throw new RetryLaterError(s.why);
  if (s.markUncertain)
    await finishSend(job.store, job.ws, job.enrollment.id, job.step.id, "uncertain", { detail: s.markUncertain });
  if (s.publishSent) await publishSent(job, r.variant);
  if (s.complete) await completeJobStep(job, s.complete.outcome, { detail: s.complete.detail });
  return s.result;
}
