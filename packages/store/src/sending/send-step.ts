import type { SendStepMessage } from "@icp/core";
import type { Store } from "../infra/index.js";
import { coalescing } from "../infra/index.js";
import { beginSend } from "./begin-send.js";
import { reserveCapSlot } from "./cap-slot.js";
import { chooseSender } from "./choose-sender.js";
import { openTransport } from "./deliver/email.js";
import { deliver } from "./deliver/index.js";
import { applyGates } from "./gates.js";
import { ended, type SendDeps, type SendStepResult } from "./job.js";
import { loadJob } from "./load-job.js";
import { loadRecipient } from "./load-recipient.js";
import { recordOutcome } from "./record-outcome.js";
import { settlePriorSend } from "./settle-prior-send.js";

/**
 * The send worker's logic for one claimed step (functions/send.ts is the SQS wrapper). The
 * messages of a batch (and of concurrent batches) run side by side: their reads are merged into
 * batch requests and their SQS sends into batches (writes stay separate requests unless
 * `coalesceOptions.writes` is switched on; see coalesce.ts).
 *
 * Ordering contract:
 * 1. Every check first (claim, step in its version, account, stop rules, suppression, condition).
 *    A send record found that is not `retryable` is only settled, never sent again.
 * 2. The transport is opened: one that cannot be created provably reached nobody, so the step
 *    comes back later (RetryLaterError) holding no cap slot and no record.
 * 3. The sender's cap slot: over the cap the step is deferred to when the cap allows, never dropped.
 * 4. The send record (conditional put: the step's one send, ever), then the transport.
 * 5. The record is marked sent and the `sent` event published (deterministic id: a repeat
 *    counts once), then the step is completed.
 * The only control-flow throw is RetryLaterError; SQS redelivers the message.
 */
export async function sendStep(raw: Store, msg: SendStepMessage, deps: SendDeps): Promise<SendStepResult> {
  const job = await loadJob(coalescing(raw), msg, deps); // enrollment ∥ send record, claim check, step; sender reads start
  if (ended(job)) return job; // dropped (gone / stale claim) | stopped (step not in version)
  if (job.priorSend) return settlePriorSend(job, job.priorSend); // non-retryable record: finish it, never resend
  const to = await loadRecipient(job); // account, contact, engagement markers ∥ suppression
  if (ended(to)) return to; // stopped: account deleted
  const gate = await applyGates(job, to); // account reply/meeting → suppression → condition → email?
  if (gate) return gate; // stopped | suppressed | skipped (incl. goto)
  const transport = await openTransport(job); // email: ready before any slot or record, else RetryLaterError
  const sender = await chooseSender(job); // known, or picked + assigned once per enrollment
  const deferred = await reserveCapSlot(job, sender); // skipped when a retryable record already holds one
  if (deferred) return deferred; // deferred (or dropped: claim lost while deferring)
  const send = await beginSend(job, to, sender); // render, then conditional put of the send record
  if (ended(send)) return send; // failed: render | lost the race → settlePriorSend
  const result = await deliver(job, to, send, transport); // task | webhook | email
  return recordOutcome(job, send, result); // finishSend + `sent` event before completeStep; retryable → RetryLaterError
}
