import { isTaskChannel } from "@icp/core";
import type { BegunSend } from "../begin-send.js";
import type { SendJob } from "../job.js";
import type { Recipient } from "../load-recipient.js";
import type { MailTransport } from "../mail-transport.js";
import { deliverEmail } from "./email.js";
import { deliverTask } from "./task.js";
import { deliverWebhook } from "./webhook.js";

/** What the transport said, for recordOutcome to write down. */
export type Delivery =
  | { kind: "task" }
  | { kind: "webhook" }
  | { kind: "sent"; providerMessageId: string }
  /** Final: the step fails (`detail` for the record, `why` for the step). */
  | { kind: "failed"; detail: string; why: string }
  /** Possibly accepted: at-most-once wins, never resent. */
  | { kind: "uncertain"; why: string }
  /** Provably not sent: the record turns `retryable` and SQS brings the step back. */
  | { kind: "retry"; detail: string; why: string };

/** Hand the begun send to its channel's transport: a task, a signed webhook, or an email. */
export function deliver(
  job: SendJob,
  to: Recipient,
  send: BegunSend,
  transport: MailTransport | undefined,
): Promise<Delivery> {
  if (isTaskChannel(job.step.channel)) return deliverTask(job, to, send);
  if (job.step.channel === "webhook") return deliverWebhook(job, to, send);
  if (!transport) throw new Error(`no mail transport opened for ${job.step.channel} step ${job.step.id}`);
  return deliverEmail(job, to, send, transport);
}
