import { type Enrollment, nextWindowOpening, type StepOutcome } from "@icp/core";
import type { Store } from "../infra/index.js";
import { getStored, publicView } from "./enrollment-record.js";
import { getSendingSettings } from "./settings.js";
import { dueAfter, sequenceSteps, windowIn } from "./step-schedule.js";
import { transition, unclaimed } from "./transition.js";

export type CompleteStepInput = {
  stepId: string;
  outcome: StepOutcome;
  /** When the step finished; the next step's delay counts from here. */
  at: Date;
  detail?: string;
  /** The step to run next (a condition's `goto`); default the following one. Past the end completes. */
  nextStepIndex?: number;
};

export type CompleteStepResult =
  | { ok: true; duplicate: boolean; enrollment: Enrollment }
  | { ok: false; reason: "not-found" | "stale-claim" | "wrong-step" };

/**
 * Record the outcome of the claimed step and schedule the next one (its delay, then the window),
 * or complete the enrollment after the last step. Conditioned on the claim: a second call with
 * the same claim is a no-op reported as `duplicate`; a call with a claim that is no longer
 * current (stopped, paused, re-claimed) changes nothing. `opts.after` is awaited (and its
 * failure thrown) before anything is written.
 */
export async function completeStep(
  store: Store,
  ws: string,
  enrollmentId: string,
  claim: string,
  input: CompleteStepInput,
  opts: { after?: Promise<unknown> } = {},
): Promise<CompleteStepResult> {
  const [cur, settings] = await Promise.all([getStored(store, ws, enrollmentId), getSendingSettings(store, ws)]);
  if (!cur) {
    await opts.after;
    return { ok: false, reason: "not-found" };
  }
  const seq = await sequenceSteps(store, ws, cur.sequenceId, cur.sequenceVersion);
  // What must be done before the step counts as completed (the send record, the event): its
  // writes go out alongside the reads above, the completion only after them.
  await opts.after;
  let verdict: CompleteStepResult | undefined;
  const out = await transition(
    store,
    ws,
    enrollmentId,
    (e) => {
      if (e.lastClaim === claim) {
        verdict = { ok: true, duplicate: true, enrollment: publicView(e) };
        return { result: e };
      }
      if (e.claim !== claim || e.status !== "active") {
        verdict = { ok: false, reason: "stale-claim" };
        return { result: e };
      }
      if (e.stepId !== undefined && e.stepId !== input.stepId) {
        verdict = { ok: false, reason: "wrong-step" };
        return { result: e };
      }
      verdict = undefined;
      const at = input.at.toISOString();
      const history = [
        ...e.history,
        {
          stepId: input.stepId,
          at,
          outcome: input.outcome,
          ...(input.detail ? { detail: input.detail.slice(0, 1000) } : {}),
        },
      ];
      const nextIndex = input.nextStepIndex ?? e.stepIndex + 1;
      const nextStep = seq?.steps[nextIndex];
      const base = { ...unclaimed(e), history, lastClaim: claim, updatedAt: new Date().toISOString() };
      delete base.deferReason;
      if (!nextStep) {
        const { stepId: _s, ...done } = base;
        return { next: { ...done, status: "completed", stepIndex: nextIndex, dueAt: null }, deletePointer: true };
      }
      const tz = e.timezone ?? settings.timezone;
      const due = dueAfter(input.at, nextStep.delay, windowIn(settings, tz), tz, `${e.id}#${nextIndex}`);
      return { next: { ...base, stepIndex: nextIndex, stepId: nextStep.id, dueAt: due.toISOString() } };
    },
    cur,
  );
  if (!out) return { ok: false, reason: "not-found" };
  return verdict ?? { ok: true, duplicate: false, enrollment: publicView(out) };
}

/**
 * Give the claimed step back, due again at the first opening of the recipient's window at or
 * after `notBefore` (over a cap, outside the window…). False when the claim is no longer current.
 */
export async function deferStep(
  store: Store,
  ws: string,
  enrollmentId: string,
  claim: string,
  notBefore: Date,
  reason: string,
): Promise<Enrollment | undefined> {
  const settings = await getSendingSettings(store, ws);
  let ok = false;
  const out = await transition(store, ws, enrollmentId, (e) => {
    if (e.claim !== claim || e.status !== "active") return { result: undefined };
    ok = true;
    const tz = e.timezone ?? settings.timezone;
    const due = nextWindowOpening(
      notBefore,
      windowIn(settings, tz),
      tz,
      `${e.id}#${e.stepIndex}#${notBefore.toISOString()}`,
    );
    return {
      next: {
        ...unclaimed(e),
        dueAt: due.toISOString(),
        deferReason: reason.slice(0, 500),
        updatedAt: new Date().toISOString(),
      },
    };
  });
  return ok && out ? publicView(out) : undefined;
}
