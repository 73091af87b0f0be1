import { stopEnrollment } from "../sequencing/index.js";
import { completeJobStep, type SendJob, type SendStepResult } from "./job.js";
import type { Recipient } from "./load-recipient.js";

/** A gate that closed: the flow's result and what it does to the enrollment. */
export type Gate = {
  result: SendStepResult;
  effect: { stop: string } | { skip: string; nextStepIndex?: number };
};

/**
 * The checks between a claimed step and its send, in order: an account-level stop (reply or
 * meeting from any contact), suppression (list, unsubscribe, bounce), the step's yes/no
 * condition, and an email step without an address. Undefined when the step may go out.
 */
export function closedGate(job: Pick<SendJob, "enrollment" | "version" | "step">, to: Recipient): Gate | undefined {
  const { enrollment: e, version, step } = job;
  const { markers, suppression, contact } = to;
  if (version.stopOnAccountReply && (markers.account.replied || markers.account.meeting_booked)) {
    const why = markers.account.meeting_booked ? "meeting booked" : "account replied";
    return { result: { outcome: "stopped", detail: why }, effect: { stop: why } };
  }
  const contactMarks = contact ? markers.byContact[contact.id] : undefined;
  if (suppression.suppressed || contactMarks?.unsubscribed || contactMarks?.bounced) {
    const why = suppression.reason ?? (contactMarks?.unsubscribed ? "unsubscribed" : "bounced");
    // Every later step would be suppressed too: the enrollment stops here (stopReason says why).
    return { result: { outcome: "suppressed", detail: why }, effect: { stop: `suppressed: ${why}` } };
  }
  if (step.condition) {
    const happened = markers.byEnrollment[e.id]?.[step.condition.event] !== undefined;
    if (happened !== step.condition.happened) {
      const o = step.condition.otherwise;
      const why = `condition: ${step.condition.event} ${happened ? "happened" : "did not happen"}`;
      if (o === "stop") return { result: { outcome: "stopped", detail: why }, effect: { stop: why } };
      if (o === "skip") return { result: { outcome: "skipped", detail: why }, effect: { skip: why } };
      const target = version.steps.findIndex((s) => s.id === o.goto);
      const detail = `${why}; goto ${o.goto}`;
      return {
        result: { outcome: "skipped", detail },
        effect: { skip: detail, ...(target < 0 ? {} : { nextStepIndex: target }) },
      };
    }
  }
  if (step.channel === "email" && !contact?.email)
    return { result: { outcome: "skipped", detail: "no contact email" }, effect: { skip: "no contact email" } };
  return undefined;
}

/** Apply the first closed gate (stop the enrollment, or complete the step as skipped); undefined when all are open. */
export async function applyGates(job: SendJob, to: Recipient): Promise<SendStepResult | undefined> {
  const gate = closedGate(job, to);
  if (!gate) return undefined;
  if ("stop" in gate.effect) await stopEnrollment(job.store, job.ws, job.enrollment.id, gate.effect.stop);
  else await completeJobStep(job, "skipped", { detail: gate.effect.skip, nextStepIndex: gate.effect.nextStepIndex });
  return gate.result;
}
