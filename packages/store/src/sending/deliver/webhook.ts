import { signWebhook } from "@icp/core";
import { allowPrivateWebhooks } from "../../infra/index.js";
import { ensureWebhookSecret } from "../../tenancy/index.js";
import type { BegunSend } from "../begin-send.js";
import type { SendJob } from "../job.js";
import type { Recipient } from "../load-recipient.js";
import type { Delivery } from "./index.js";
import { type PostFailure, safePost } from "./safe-post.js";
import { taskContact } from "./task.js";

/** Webhook deliveries tried (each an SQS receive) before the step is recorded as failed. */
export const WEBHOOK_MAX_ATTEMPTS = 5;

/** The signed JSON a webhook step posts. */
function webhookBody(job: SendJob, to: Recipient, send: BegunSend): string {
  const { enrollment: e, step } = job;
  const { account, contact } = to;
  const { rendered: r, record } = send;
  return JSON.stringify({
    id: record.messageId,
    type: "sequence.step",
    workspaceId: job.ws,
    enrollmentId: e.id,
    sequenceId: e.sequenceId,
    sequenceVersion: e.sequenceVersion,
    stepId: step.id,
    variant: r.variant,
    account: { id: account.id, domain: account.domain, name: account.facts.name ?? null },
    contact: contact ? { id: contact.id, ...taskContact(contact) } : null,
    content: { subject: r.subject ?? null, text: r.text, html: r.html },
    attempt: record.attempts,
  });
}

/** POST the rendered step as signed JSON to its checked, pinned address; "ok" on 2xx, else the failure class. */
async function postWebhook(job: SendJob, to: Recipient, send: BegunSend): Promise<"ok" | "no-url" | PostFailure> {
  const url = job.step.webhookUrl;
  if (!url) return "no-url";
  const secret = await ensureWebhookSecret(job.store, job.ws);
  const body = webhookBody(job, to, send);
  const headers = {
    "content-type": "application/json",
    "x-icp-signature": signWebhook(secret.secret, body),
    "x-icp-idempotency-key": send.record.messageId,
  };
  const policy = { allowPrivate: job.deps.allowPrivateWebhooks ?? allowPrivateWebhooks() };
  const r = await safePost(
    url,
    { headers, body },
    { policy, ...(job.deps.lookup ? { resolve: job.deps.lookup } : {}) },
  );
  return r.ok ? "ok" : r.failure;
}

/**
 * A webhook step: one signed POST per SQS receive. A failure is retried on the next receive
 * (the record turns `retryable`) until WEBHOOK_MAX_ATTEMPTS, then the step fails; a refused
 * target (unsafe address, or no URL) fails at once. Record and step name only the failure class.
 */
export async function deliverWebhook(job: SendJob, to: Recipient, send: BegunSend): Promise<Delivery> {
  const result = await postWebhook(job, to, send);
  if (result !== "ok") {
    if (result === "unsafe-address" || result === "no-url" || send.record.attempts >= WEBHOOK_MAX_ATTEMPTS)
      return { kind: "failed", detail: result, why: `webhook: ${result}` };
    return { kind: "retry", detail: result, why: `webhook ${job.step.id}: ${result}` };
  }
  job.deps.afterTransport?.(job.msg);
  return { kind: "webhook" };
}
