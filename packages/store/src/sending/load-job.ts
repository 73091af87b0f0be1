import { type SendStepMessage, senderKindFor } from "@icp/core";
import type { Store } from "../infra/index.js";
import { getEnrollment, getSequenceVersion, stopEnrollment } from "../sequencing/index.js";
import type { SendDeps, SendJob, SendStepResult } from "./job.js";
import { quiet } from "./job.js";
import { getSendRecord } from "./send-records.js";
import { getSender, pickSender } from "./sender-pool.js";

/**
 * The enrollment and the step's send record (read side by side), the claim check, then the step
 * from the enrollment's sequence version. The sender reads start here, as they only need the
 * enrollment. Ends the flow as `dropped` (no enrollment, stale claim) or `stopped` (the version
 * has no such step).
 */
export async function loadJob(store: Store, msg: SendStepMessage, deps: SendDeps): Promise<SendJob | SendStepResult> {
  const ws = msg.workspaceId;
  const now = deps.now?.() ?? new Date();
  const [e, record] = await Promise.all([
    getEnrollment(store, ws, msg.enrollmentId),
    getSendRecord(store, ws, msg.enrollmentId, msg.stepId),
  ]);
  if (!e) return { outcome: "dropped", detail: "no such enrollment" };
  if (e.status !== "active" || e.claim !== msg.claim || e.stepIndex !== msg.stepIndex)
    return { outcome: "dropped", detail: `stale claim (${e.status})` };
  const version = await getSequenceVersion(store, ws, e.sequenceId, e.sequenceVersion);
  const step = version?.steps[msg.stepIndex];
  if (!version || !step || step.id !== msg.stepId) {
    await stopEnrollment(store, ws, e.id, `sequence ${e.sequenceId} v${e.sequenceVersion} has no step ${msg.stepId}`);
    return { outcome: "stopped", detail: "step not in sequence version" };
  }
  const senderKind = senderKindFor(step.channel);
  return {
    store,
    msg,
    ws,
    now,
    deps,
    enrollment: e,
    version,
    step,
    ...(record ? { record } : {}),
    ...(record && record.status !== "retryable" ? { priorSend: record } : {}),
    senderReads: {
      ...(senderKind && e.senderId ? { known: quiet(getSender(store, ws, e.senderId)) } : {}),
      ...(senderKind && !e.senderId ? { picked: quiet(pickSender(store, ws, step.channel, now, e.id)) } : {}),
    },
  };
}
