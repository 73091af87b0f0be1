import { type Sender, senderKindFor } from "@icp/core";
import { assignSender } from "../sequencing/index.js";
import type { SendJob } from "./job.js";
import { getSender, pickSender } from "./sender-pool.js";

/**
 * The step's sender: the enrollment's own, or (at its first capped step) the least used one of
 * the right kind, fixed for the enrollment with assignSender. When concurrent deliveries pick
 * differently, the one assignSender kept wins. Undefined for channels without senders, or when
 * the workspace has none.
 */
export async function chooseSender(job: SendJob): Promise<Sender | undefined> {
  const { store, ws, enrollment: e, step, now, senderReads } = job;
  if (!senderKindFor(step.channel)) return undefined;
  const known = senderReads.known ? await senderReads.known : undefined;
  if (known) return known;
  const pick = await (senderReads.picked ?? pickSender(store, ws, step.channel, now, e.id));
  if (!pick) return undefined;
  const id = await assignSender(store, ws, e.id, pick.id);
  return id === pick.id ? pick : id ? await getSender(store, ws, id) : undefined;
}
