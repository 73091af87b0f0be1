import type { Channel, Enrollment, EventInput, Sender, SendStepMessage, Step, StepOutcome } from "@icp/core";
import { publishEvents } from "../events/index.js";
import type { Store } from "../infra/index.js";
import { completeStep, type SequenceVersionRecord } from "../sequencing/index.js";
import type { EmailSettings } from "./deliver/email.js";
import type { Resolver } from "./deliver/safe-post.js";
import type { MailTransport } from "./mail-transport.js";
import type { SendRecord } from "./send-records.js";

/** How one claimed step ended (functions/send.ts turns it into a log line and counts). */
export type SendOutcome =
  | "sent"
  | "task"
  | "webhook"
  | "deferred"
  | "suppressed"
  | "skipped"
  | "stopped"
  | "dropped"
  | "failed"
  | "uncertain";

export type SendStepResult = { outcome: SendOutcome; detail?: string; senderId?: string; variant?: string };

export type SendDeps = {
  transport: () => Promise<MailTransport>;
  /** Tracking secret, public URL of the links and default From (default: the linked settings, infra/config.ts). */
  settings?: () => EmailSettings;
  /** Resolves webhook hosts (default: the system resolver); every address it returns is checked. */
  lookup?: Resolver;
  /** Webhooks may use http and private targets (default: ICP_WEBHOOK_ALLOW_PRIVATE via infra/config.ts). */
  allowPrivateWebhooks?: boolean;
  now?: () => Date;
  /**
   * Fault-injection seam for tests: called right after the transport (or webhook) accepted the
   * message and before anything is recorded — throwing here is a worker dying in the worst spot.
   */
  afterTransport?: (msg: SendStepMessage) => void;
  /** This delivery's SQS receive count and the queue's limit (the DLQ takes the message after it). */
  delivery?: { receiveCount: number; maxReceives: number };
};

/** One claimed step as every stage sees it, loaded once by loadJob. */
export type SendJob = {
  store: Store;
  msg: SendStepMessage;
  ws: string;
  now: Date;
  deps: SendDeps;
  enrollment: Enrollment;
  version: SequenceVersionRecord;
  step: Step;
  /** The step's send record as this delivery found it (a `retryable` one already holds a cap slot). */
  record?: SendRecord;
  /** A found record that is not `retryable`: an earlier attempt got as far as the send. */
  priorSend?: SendRecord;
  /** The sender reads, started with the job so they overlap the recipient's. */
  senderReads: { known?: Promise<Sender | undefined>; picked?: Promise<Sender | undefined> };
};

/** A stage's answer that ends the flow (stage data never carries `outcome`). */
export const ended = (x: object): x is SendStepResult => "outcome" in x;

/** A promise awaited later: its rejection must not count as unhandled meanwhile. */
export function quiet<T>(p: Promise<T>): Promise<T> {
  p.catch(() => {});
  return p;
}

/** Complete the claimed step with `outcome`; `after` is awaited before the step's write (see completeStep). */
export async function completeJobStep(
  job: SendJob,
  outcome: StepOutcome,
  opts: { detail?: string | undefined; nextStepIndex?: number | undefined; after?: Promise<unknown> } = {},
): Promise<boolean> {
  const r = await completeStep(
    job.store,
    job.ws,
    job.enrollment.id,
    job.msg.claim,
    {
      stepId: job.step.id,
      outcome,
      at: job.deps.now?.() ?? new Date(),
      ...(opts.detail ? { detail: opts.detail } : {}),
      ...(opts.nextStepIndex !== undefined ? { nextStepIndex: opts.nextStepIndex } : {}),
    },
    opts.after ? { after: opts.after } : {},
  );
  return r.ok;
}

const sentEventId = (enrollmentId: string, stepId: string) => `sent:${enrollmentId}:${stepId}`;

/** The step's `sent` event, under a deterministic id: publishing it again counts once. */
export async function publishSent(job: SendJob, variant: string | undefined): Promise<void> {
  const { enrollment: e, step } = job;
  const ev: EventInput = {
    id: sentEventId(e.id, step.id),
    type: "sent",
    accountId: e.accountId,
    ...(e.contactId ? { contactId: e.contactId } : {}),
    enrollmentId: e.id,
    sequenceId: e.sequenceId,
    sequenceVersion: e.sequenceVersion,
    stepId: step.id,
    channel: step.channel as Channel,
    ...(variant ? { variant: variant.slice(0, 40) } : {}),
  };
  await publishEvents(job.store, e.workspaceId, [ev]);
}
