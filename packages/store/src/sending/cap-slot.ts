import { isCappedChannel, type Sender } from "@icp/core";
import { deferStep } from "../sequencing/index.js";
import type { SendJob, SendStepResult } from "./job.js";
import { reserveCapacity } from "./sender-pool.js";

/**
 * One slot of the sender's cap for this step, unless a `retryable` record shows the step already
 * holds one (or the channel is uncapped). Over the cap the step is deferred to when the cap
 * allows, never dropped; undefined when the step may go on.
 */
export async function reserveCapSlot(job: SendJob, sender: Sender | undefined): Promise<SendStepResult | undefined> {
  const { store, ws, enrollment: e, step, msg, now } = job;
  if (!sender || !isCappedChannel(step.channel) || job.record) return undefined;
  const r = await reserveCapacity(store, ws, sender, step.channel, now, `${e.id}#${step.id}`);
  if (r.ok) return undefined;
  const why = `${r.reason} cap of ${sender.id}`;
  const deferred = await deferStep(store, ws, e.id, msg.claim, r.waitUntil, why);
  return deferred
    ? { outcome: "deferred", detail: `${why} until ${r.waitUntil.toISOString()}`, senderId: sender.id }
    : { outcome: "dropped", detail: "claim lost while deferring" };
}
