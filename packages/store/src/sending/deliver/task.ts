import type { TaskChannel } from "@icp/core";
import type { StoredContact } from "../../accounts/index.js";
import type { BegunSend } from "../begin-send.js";
import type { SendJob } from "../job.js";
import type { Recipient } from "../load-recipient.js";
import { createTask } from "../tasks.js";
import type { Delivery } from "./index.js";

/** The contact as a task or webhook payload shows it: name, email, title, LinkedIn URL. */
export function taskContact(c: StoredContact | undefined): {
  name?: string;
  email?: string;
  title?: string;
  linkedinUrl?: string;
} {
  if (!c) return {};
  const name = [c.firstName, c.lastName].filter(Boolean).join(" ");
  return {
    ...(name ? { name } : {}),
    ...(c.email ? { email: c.email } : {}),
    ...(c.title ? { title: c.title } : {}),
    ...(c.linkedinUrl ? { linkedinUrl: c.linkedinUrl } : {}),
  };
}

/** A call or manual step: a task in the workspace's queue, with the rendered text. */
export async function deliverTask(job: SendJob, to: Recipient, send: BegunSend): Promise<Delivery> {
  const { enrollment: e, step } = job;
  const { account, contact } = to;
  const { rendered, sender } = send;
  await createTask(job.store, job.ws, {
    channel: step.channel as TaskChannel, // deliver() routes only task channels here
    enrollmentId: e.id,
    accountId: account.id,
    ...(contact ? { contactId: contact.id } : {}),
    sequenceId: e.sequenceId,
    sequenceVersion: e.sequenceVersion,
    stepId: step.id,
    variant: rendered.variant,
    ...(sender ? { senderId: sender.id } : {}),
    contact: taskContact(contact),
    ...(account.facts.name ? { company: account.facts.name } : {}),
    domain: account.domain,
    ...(rendered.subject ? { subject: rendered.subject } : {}),
    body: rendered.text,
  });
  return { kind: "task" };
}
