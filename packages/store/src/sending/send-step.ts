import {
  type Channel,
  type Enrollment,
  type EventInput,
  isCappedChannel,
  isTaskChannel,
  publicBaseUrl,
  type RenderedStep,
  renderStep,
  type Sender,
  type SendStepMessage,
  type Step,
  type StepOutcome,
  senderKindFor,
  signTrackingToken,
  signWebhook,
  type TrackingPayload,
  templateContext,
  trackingSecret,
} from "@icp/core";
import { type AccountRecord, getAccount, type StoredContact } from "../accounts/index.js";
import { engagementMarkers, publishEvents } from "../events/index.js";
import type { Store } from "../infra/index.js";
import { coalescing, QUEUES } from "../infra/index.js";
import {
  assignSender,
  completeStep,
  deferStep,
  getEnrollment,
  getSequenceVersion,
  stopEnrollment,
} from "../sequencing/index.js";
import { ensureWebhookSecret, isSuppressed } from "../tenancy/index.js";
import { type MailTransport, type OutboundMail, provablyUnsent } from "./mail-transport.js";
import { beginSend, finishSend, getSendRecord, type SendRecord } from "./send-records.js";
import { getSender, pickSender, reserveCapacity } from "./sender-pool.js";
import { createTask } from "./tasks.js";

/**
 * The send worker's logic for one claimed step (functions/send.ts is the SQS wrapper).
 *
 * Order of effects: every check (claim, condition, stop rules, suppression) first, then the
 * sender's cap slot (over the cap → the step is deferred to when the cap allows, never
 * dropped), then the send record (conditional put, the step's one send ever), then the
 * transport, then the record is marked sent, the step completed and a `sent` event published
 * (deterministic event id: a repeat counts once).
 */
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
  fetch?: typeof fetch;
  now?: () => Date;
  /**
   * Fault-injection seam for tests: called right after the transport (or webhook) accepted the
   * message and before anything is recorded — throwing here is a worker dying in the worst spot.
   */
  afterTransport?: (msg: SendStepMessage) => void;
  /** This delivery's SQS receive count and the queue's limit (the DLQ takes the message after it). */
  delivery?: { receiveCount: number; maxReceives: number };
};

/**
 * How long a `sending` record may belong to a worker that is still running: the send handler's
 * timeout (a Lambda cannot outlive it). A copy of the message that finds a younger record waits
 * for the next delivery instead of calling it uncertain; by then the owner has finished.
 */
const SEND_QUEUE = QUEUES.find((q) => q.name === "SendQueue");
export const SENDING_LIVE_MS = (SEND_QUEUE?.timeout ?? 30) * 1000;

/** Webhook deliveries tried (each an SQS receive) before the step is recorded as failed. */
export const WEBHOOK_MAX_ATTEMPTS = 5;
/** In-process transport attempts for errors that prove nothing was sent. */
const TRANSPORT_ATTEMPTS = 3;

export class RetryLaterError extends Error {}

/** A promise awaited later: its rejection must not count as unhandled meanwhile. */
function quiet<T>(p: Promise<T>): Promise<T> {
  p.catch(() => {});
  return p;
}

const sentEventId = (enrollmentId: string, stepId: string) => `sent:${enrollmentId}:${stepId}`;

export async function sendStep(raw: Store, msg: SendStepMessage, deps: SendDeps): Promise<SendStepResult> {
  // The messages of a batch (and of concurrent batches) run side by side: their reads and
  // writes are merged into batch requests and transactions, item by item (see coalesce.ts).
  const store = coalescing(raw);
  const ws = msg.workspaceId;
  const now = deps.now?.() ?? new Date();
  const [e, existing] = await Promise.all([
    getEnrollment(store, ws, msg.enrollmentId),
    getSendRecord(store, ws, msg.enrollmentId, msg.stepId),
  ]);
  if (!e) return { outcome: "dropped", detail: "no such enrollment" };
  if (e.status !== "active" || e.claim !== msg.claim || e.stepIndex !== msg.stepIndex)
    return { outcome: "dropped", detail: `stale claim (${e.status})` };
  const def = await getSequenceVersion(store, ws, e.sequenceId, e.sequenceVersion);
  const step = def?.steps[msg.stepIndex];
  if (!def || !step || step.id !== msg.stepId) {
    await stopEnrollment(store, ws, e.id, `sequence ${e.sequenceId} v${e.sequenceVersion} has no step ${msg.stepId}`);
    return { outcome: "stopped", detail: "step not in sequence version" };
  }

  const complete = async (outcome: StepOutcome, detail?: string, nextStepIndex?: number, after?: Promise<unknown>) => {
    const r = await completeStep(
      store,
      ws,
      e.id,
      msg.claim,
      {
        stepId: step.id,
        outcome,
        at: deps.now?.() ?? new Date(),
        ...(detail ? { detail } : {}),
        ...(nextStepIndex !== undefined ? { nextStepIndex } : {}),
      },
      after ? { after } : {},
    );
    return r.ok;
  };
  // The sender's reads start now, alongside the account's (they only need the enrollment).
  const senderKind = senderKindFor(step.channel);
  const known = senderKind && e.senderId ? quiet(getSender(store, ws, e.senderId)) : undefined;
  const picked = senderKind && !e.senderId ? quiet(pickSender(store, ws, step.channel, now, e.id)) : undefined;

  // A previous delivery got as far as the send record: never send again (see sends.ts).
  if (existing && existing.status !== "retryable") return settleExisting(store, e, step, msg, existing, complete, deps);

  const account = await getAccount(store, ws, e.accountId);
  if (!account) {
    await stopEnrollment(store, ws, e.id, "account deleted");
    return { outcome: "stopped", detail: "account deleted" };
  }
  const contact = e.contactId ? account.contacts.find((c) => c.id === e.contactId) : undefined;
  const [markers, suppression] = await Promise.all([
    engagementMarkers(store, ws, account.id),
    // isSuppressed checks an email's own domain too; naming that domain twice would repeat a key in its BatchGet.
    isSuppressed(store, ws, {
      ...(contact?.email ? { email: contact.email } : {}),
      ...(contact?.email?.endsWith(`@${account.domain}`) ? {} : { domain: account.domain }),
    }),
  ]);

  // Account-level stop: a reply or a meeting from any contact of the account.
  if (def.stopOnAccountReply && (markers.account.replied || markers.account.meeting_booked)) {
    const why = markers.account.meeting_booked ? "meeting booked" : "account replied";
    await stopEnrollment(store, ws, e.id, why);
    return { outcome: "stopped", detail: why };
  }
  const contactMarks = contact ? markers.byContact[contact.id] : undefined;
  if (suppression.suppressed || contactMarks?.unsubscribed || contactMarks?.bounced) {
    const why = suppression.reason ?? (contactMarks?.unsubscribed ? "unsubscribed" : "bounced");
    // Every later step would be suppressed too: the enrollment stops here (stopReason says why).
    await stopEnrollment(store, ws, e.id, `suppressed: ${why}`);
    return { outcome: "suppressed", detail: why };
  }

  // Yes/no branch on what happened earlier in this enrollment.
  if (step.condition) {
    const happened = markers.byEnrollment[e.id]?.[step.condition.event] !== undefined;
    if (happened !== step.condition.happened) {
      const o = step.condition.otherwise;
      const why = `condition: ${step.condition.event} ${happened ? "happened" : "did not happen"}`;
      if (o === "stop") {
        await stopEnrollment(store, ws, e.id, why);
        return { outcome: "stopped", detail: why };
      }
      if (o === "skip") {
        await complete("skipped", why);
        return { outcome: "skipped", detail: why };
      }
      const target = def.steps.findIndex((s) => s.id === o.goto);
      await complete("skipped", `${why}; goto ${o.goto}`, target < 0 ? undefined : target);
      return { outcome: "skipped", detail: `${why}; goto ${o.goto}` };
    }
  }
  if (step.channel === "email" && !contact?.email) {
    await complete("skipped", "no contact email");
    return { outcome: "skipped", detail: "no contact email" };
  }

  // The sender, fixed for the enrollment at its first capped step.
  let sender: Sender | undefined;
  if (senderKind) {
    if (known) sender = await known;
    if (!sender) {
      const pick = await (picked ?? pickSender(store, ws, step.channel, now, e.id));
      if (pick) {
        const id = await assignSender(store, ws, e.id, pick.id);
        sender = id === pick.id ? pick : id ? await getSender(store, ws, id) : undefined;
      }
    }
  }
  // Cap slot, unless a retryable record shows this step already holds one.
  if (sender && isCappedChannel(step.channel) && !existing) {
    const r = await reserveCapacity(store, ws, sender, step.channel, now, `${e.id}#${step.id}`);
    if (!r.ok) {
      const why = `${r.reason} cap of ${sender.id}`;
      const d = await deferStep(store, ws, e.id, msg.claim, r.waitUntil, why);
      return d
        ? { outcome: "deferred", detail: `${why} until ${r.waitUntil.toISOString()}`, senderId: sender.id }
        : { outcome: "dropped", detail: "claim lost while deferring" };
    }
  }

  let rendered: RenderedStep;
  try {
    rendered = renderStep(step, templateContext(account, contact, sender), e.id, { now: now.getTime() });
  } catch (err) {
    const why = `render failed: ${(err as Error).message}`.slice(0, 500);
    await complete("failed", why);
    return { outcome: "failed", detail: why };
  }

  const begun = await beginSend(
    store,
    ws,
    {
      enrollmentId: e.id,
      stepId: step.id,
      stepIndex: msg.stepIndex,
      channel: step.channel,
      claim: msg.claim,
      variant: rendered.variant,
      ...(sender ? { senderId: sender.id } : {}),
    },
    now,
  );
  if (!begun.fresh) return settleExisting(store, e, step, msg, begun.record, complete, deps);
  const record = begun.record;
  const base = {
    outcome: "sent" as SendOutcome,
    variant: rendered.variant,
    ...(sender ? { senderId: sender.id } : {}),
  };

  if (isTaskChannel(step.channel)) {
    await createTask(store, ws, {
      channel: step.channel,
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
    await finishSend(store, ws, e.id, step.id, "sent", { detail: "task created" });
    await complete("task");
    return { ...base, outcome: "task" };
  }

  if (step.channel === "webhook") {
    const result = await postWebhook(store, ws, e, step, account, contact, rendered, record, deps);
    if (result !== "ok") {
      if (record.attempts >= WEBHOOK_MAX_ATTEMPTS) {
        await finishSend(store, ws, e.id, step.id, "failed", { detail: result });
        await complete("failed", `webhook: ${result}`);
        return { outcome: "failed", detail: `webhook: ${result}` };
      }
      await finishSend(store, ws, e.id, step.id, "retryable", { detail: result });
      throw new RetryLaterError(`webhook ${step.id}: ${result}`);
    }
    deps.afterTransport?.(msg);
    await finishSend(store, ws, e.id, step.id, "sent");
    await publishSent(store, e, step, rendered.variant);
    await complete("webhook");
    return { ...base, outcome: "webhook" };
  }

  // Email.
  const mail = buildEmail(ws, e, step, account, contact as StoredContact, sender, rendered, record.messageId);
  const transport = await deps.transport();
  let providerMessageId: string;
  for (let attempt = 1; ; attempt++) {
    try {
      providerMessageId = (await transport.send(mail)).messageId;
      break;
    } catch (err) {
      if (!provablyUnsent(err)) {
        // Possibly accepted: at-most-once wins (see sends.ts).
        const why = `uncertain: ${String((err as Error).message ?? err).slice(0, 300)}`;
        await finishSend(store, ws, e.id, step.id, "uncertain", { detail: why });
        await complete("failed", why);
        return { outcome: "uncertain", detail: why };
      }
      if (attempt >= TRANSPORT_ATTEMPTS) {
        await finishSend(store, ws, e.id, step.id, "retryable", { detail: String((err as Error).message) });
        throw new RetryLaterError(`transport refused ${e.id}/${step.id}: ${(err as Error).message}`);
      }
      await new Promise((r) => setTimeout(r, 100 * 2 ** attempt));
    }
  }
  deps.afterTransport?.(msg);
  // The record and the event before the step (the step's reads meanwhile): if the worker dies
  // before the step is completed, the redelivery publishes the event again under the same id
  // (counted once) and completes the step; the other order could lose it.
  const recorded = quiet(
    Promise.all([
      finishSend(store, ws, e.id, step.id, "sent", { providerMessageId }),
      publishSent(store, e, step, rendered.variant),
    ]),
  );
  await complete("sent", undefined, undefined, recorded);
  return base;
}

/** A delivery that finds the step's send record: finish what the earlier attempt started, without sending. */
async function settleExisting(
  store: Store,
  e: Enrollment,
  step: Step,
  msg: SendStepMessage,
  r: SendRecord,
  complete: (o: StepOutcome, detail?: string) => Promise<boolean>,
  deps: SendDeps,
): Promise<SendStepResult> {
  const ws = msg.workspaceId;
  const who = r.senderId ? { senderId: r.senderId } : {};
  switch (r.status) {
    case "sent": {
      const outcome: StepOutcome = isTaskChannel(step.channel)
        ? "task"
        : step.channel === "webhook"
          ? "webhook"
          : "sent";
      if (outcome !== "task") await publishSent(store, e, step, r.variant);
      await complete(outcome, "completed after redelivery");
      return { outcome: "dropped", detail: "already sent; step completed", ...who };
    }
    case "sending": {
      // Another delivery of this message may still be sending (a duplicate SQS delivery, an
      // overlapping tick): come back later, unless this is the last receive before the DLQ.
      const now = (deps.now?.() ?? new Date()).getTime();
      const d = deps.delivery;
      const lastTry = d !== undefined && d.receiveCount >= d.maxReceives - 1;
      if (now - Date.parse(r.updatedAt) < SENDING_LIVE_MS && !lastTry)
        throw new RetryLaterError(`step ${e.id}/${step.id} is being sent by another delivery`);
      // The attempt that wrote it died between the record and its outcome.
      const why = "uncertain: a previous attempt stopped between send and acknowledgement; not resent";
      await finishSend(store, ws, e.id, step.id, "uncertain", { detail: why });
      await complete("failed", why);
      return { outcome: "uncertain", detail: why, ...who };
    }
    case "uncertain":
    case "failed":
      await complete("failed", r.detail ?? r.status);
      return { outcome: "dropped", detail: `record ${r.status}; step completed`, ...who };
    case "retryable":
      return { outcome: "dropped", detail: "retryable record owned by another attempt", ...who };
  }
}

async function publishSent(store: Store, e: Enrollment, step: Step, variant: string | undefined) {
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
  await publishEvents(store, e.workspaceId, [ev]);
}

function taskContact(c: StoredContact | undefined): {
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

const escapeAttr = (s: string) => s.replace(/&/g, "&amp;").replace(/"/g, "&quot;").replace(/</g, "&lt;");

/** Default From when a workspace has no mailbox configured (local dev and demos). */
export const defaultFrom = () => process.env.ICP_MAIL_FROM ?? "sequencer@icp-sequencer.local";

/**
 * The email as it goes out: unsubscribe link appended (text and HTML) plus List-Unsubscribe
 * and one-click List-Unsubscribe-Post headers (RFC 8058), links in the HTML rewritten to
 * signed click-tracking URLs, an open pixel, our deterministic Message-ID.
 */
export function buildEmail(
  ws: string,
  e: Enrollment,
  step: Step,
  account: AccountRecord,
  contact: StoredContact,
  sender: Sender | undefined,
  r: RenderedStep,
  messageId: string,
): OutboundMail {
  const base = publicBaseUrl();
  const secret = trackingSecret();
  const p: Omit<TrackingPayload, "kind"> = {
    workspaceId: ws,
    accountId: account.id,
    ...(contact.id ? { contactId: contact.id } : {}),
    enrollmentId: e.id,
    sequenceId: e.sequenceId,
    sequenceVersion: e.sequenceVersion,
    stepId: step.id,
    variant: r.variant,
  };
  const unsubscribe = `${base}/u/${signTrackingToken(secret, { ...p, kind: "unsubscribe" })}`;
  const pixel = `${base}/t/o/${signTrackingToken(secret, { ...p, kind: "open" })}`;
  const html = r.html.replace(
    /(<a\b[^>]*?\bhref\s*=\s*)(["'])(https?:\/\/[^"']+)\2/gi,
    (_m, pre: string, q: string, url: string) => {
      const decoded = url.replace(/&amp;/g, "&");
      const click = `${base}/t/c/${signTrackingToken(secret, { ...p, kind: "click", url: decoded })}`;
      return `${pre}${q}${escapeAttr(click)}${q}`;
    },
  );
  return {
    workspaceId: ws,
    from: sender?.email ? { name: sender.name, address: sender.email } : { address: defaultFrom() },
    to: contact.email as string,
    subject: r.subject ?? "",
    text: `${r.text}\n\n--\nUnsubscribe: ${unsubscribe}\n`,
    html: `${html}\n<p style="font-size:12px;color:#888"><a href="${escapeAttr(unsubscribe)}">Unsubscribe</a></p>\n<img src="${escapeAttr(pixel)}" width="1" height="1" alt="" style="display:none">`,
    messageId,
    headers: {
      "List-Unsubscribe": `<${unsubscribe}>`,
      "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    },
  };
}

/** POST the rendered step as signed JSON; "ok" on 2xx, else why not. */
async function postWebhook(
  store: Store,
  ws: string,
  e: Enrollment,
  step: Step,
  account: AccountRecord,
  contact: StoredContact | undefined,
  r: RenderedStep,
  record: SendRecord,
  deps: SendDeps,
): Promise<string> {
  if (!step.webhookUrl) return "step has no webhookUrl";
  const secret = await ensureWebhookSecret(store, ws);
  const body = JSON.stringify({
    id: record.messageId,
    type: "sequence.step",
    workspaceId: ws,
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
  try {
    const res = await (deps.fetch ?? fetch)(step.webhookUrl, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "x-icp-signature": signWebhook(secret.secret, body),
        "x-icp-idempotency-key": record.messageId,
      },
      body,
      signal: AbortSignal.timeout(10_000),
    });
    await res.body?.cancel().catch(() => {});
    return res.ok ? "ok" : `HTTP ${res.status}`;
  } catch (err) {
    return `request failed: ${(err as Error).message}`.slice(0, 300);
  }
}
