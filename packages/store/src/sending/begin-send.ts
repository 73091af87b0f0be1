import { type RenderedStep, renderStep, type Sender, templateContext } from "@icp/core";
import { completeJobStep, type SendJob, type SendStepResult } from "./job.js";
import type { Recipient } from "./load-recipient.js";
import { beginSend as putSendRecord, type SendRecord } from "./send-records.js";
import { settlePriorSend } from "./settle-prior-send.js";

/** A step this delivery owns: rendered, with its send record in status `sending`. */
export type BegunSend = { rendered: RenderedStep; record: SendRecord; sender?: Sender };

/**
 * Render the step for the recipient, then claim its one send with the conditional put of the
 * send record. Ends the flow as `failed` when the template does not render, or settles the
 * record another attempt won the race for (never sending).
 */
export async function beginSend(
  job: SendJob,
  to: Recipient,
  sender: Sender | undefined,
): Promise<BegunSend | SendStepResult> {
  const { enrollment: e, step, msg, now } = job;
  let rendered: RenderedStep;
  try {
    rendered = renderStep(step, templateContext(to.account, to.contact, sender), e.id, { now: now.getTime() });
  } catch (err) {
    const why = `render failed: ${(err as Error).message}`.slice(0, 500);
    await completeJobStep(job, "failed", { detail: why });
    return { outcome: "failed", detail: why };
  }
  const begun = await putSendRecord(
    job.store,
    job.ws,
    {
      enrollmentId: e.id,
      stepId: step.id,
      stepIndex: msg.stepIndex,
      channel: step.channel,
      claim: msg.claim,
      variant: rendered.variant,
      ...(sender ? { senderId: sender.id } : {}),
    },
    now,
  );
  if (!begun.fresh) return settlePriorSend(job, begun.record);
  return { rendered, record: begun.record, ...(sender ? { sender } : {}) };
}
