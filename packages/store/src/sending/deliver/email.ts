import { signTrackingToken, type TrackingPayload } from "@icp/core";
import { backoff, requireSettings, type Settings } from "../../infra/index.js";
import type { BegunSend } from "../begin-send.js";
import { RetryLaterError } from "../errors.js";
import type { SendDeps, SendJob } from "../job.js";
import type { Recipient } from "../load-recipient.js";
import { type MailTransport, type OutboundMail, provablyUnsent } from "../mail-transport.js";
import type { Delivery } from "./index.js";

/** In-process transport attempts for errors that prove nothing was sent. */
const TRANSPORT_ATTEMPTS = 3;

/** What an email needs besides its transport: the links' secret and base URL, the default From. */
export type EmailSettings = Pick<Settings, "trackingSecret" | "publicUrl" | "defaultFrom">;
const EMAIL_SETTINGS = ["trackingSecret", "publicUrl", "defaultFrom"] as const;

/** The deps' settings, else the linked ones (infra/config.ts); throws naming what is missing. */
export const emailSettings = (deps: SendDeps): EmailSettings => deps.settings?.() ?? requireSettings(EMAIL_SETTINGS);

/**
 * An email step's transport (and settings), ready before any cap slot or send record: a factory
 * that throws (misconfigured, unreachable secrets…) provably reached nobody, so the step comes
 * back later with nothing spent. Undefined for the other channels.
 */
export async function openTransport(job: SendJob): Promise<MailTransport | undefined> {
  if (job.step.channel !== "email") return undefined;
  try {
    emailSettings(job.deps);
    return await job.deps.transport();
  } catch (err) {
    throw new RetryLaterError(`mail transport unavailable: ${String((err as Error)?.message ?? err).slice(0, 300)}`);
  }
}

const escapeAttr = (s: string) => s.replace(/&/g, "&amp;").replace(/"/g, "&quot;").replace(/</g, "&lt;");

/**
 * The email as it goes out: unsubscribe link appended (text and HTML) plus List-Unsubscribe
 * and one-click List-Unsubscribe-Post headers (RFC 8058), links in the HTML rewritten to
 * signed click-tracking URLs, an open pixel, our deterministic Message-ID. From: the sender's
 * mailbox, else the configured default From.
 */
export function buildEmail(
  job: Pick<SendJob, "ws" | "enrollment" | "step">,
  to: Recipient,
  send: BegunSend,
  settings: EmailSettings,
): OutboundMail {
  const { ws, enrollment: e, step } = job;
  const { account } = to;
  const contact = to.contact;
  const { rendered: r, sender, record } = send;
  const { publicUrl: base, trackingSecret: secret } = settings;
  const p: Omit<TrackingPayload, "kind"> = {
    workspaceId: ws,
    accountId: account.id,
    ...(contact?.id ? { contactId: contact.id } : {}),
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
    from: sender?.email ? { name: sender.name, address: sender.email } : { address: settings.defaultFrom },
    to: contact?.email as string,
    subject: r.subject ?? "",
    text: `${r.text}\n\n--\nUnsubscribe: ${unsubscribe}\n`,
    html: `${html}\n<p style="font-size:12px;color:#888"><a href="${escapeAttr(unsubscribe)}">Unsubscribe</a></p>\n<img src="${escapeAttr(pixel)}" width="1" height="1" alt="" style="display:none">`,
    messageId: record.messageId,
    headers: {
      "List-Unsubscribe": `<${unsubscribe}>`,
      "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    },
  };
}

/**
 * Send the email, retrying in process only errors that prove nothing was accepted. Any other
 * error may mean the server took it: the step is `uncertain` and never resent (see send-records.ts).
 */
export async function deliverEmail(
  job: SendJob,
  to: Recipient,
  send: BegunSend,
  transport: MailTransport,
): Promise<Delivery> {
  const mail = buildEmail(job, to, send, emailSettings(job.deps));
  let providerMessageId: string;
  for (let attempt = 1; ; attempt++) {
    try {
      providerMessageId = (await transport.send(mail)).messageId;
      break;
    } catch (err) {
      const message = String((err as Error)?.message ?? err);
      if (!provablyUnsent(err)) return { kind: "uncertain", why: `uncertain: ${message.slice(0, 300)}` };
      if (attempt >= TRANSPORT_ATTEMPTS)
        return {
          kind: "retry",
          detail: message,
          why: `transport refused ${job.enrollment.id}/${job.step.id}: ${message}`,
        };
      await backoff(attempt, { baseMs: 100, capMs: Number.POSITIVE_INFINITY, jitter: "none" });
    }
  }
  job.deps.afterTransport?.(job.msg);
  return { kind: "sent", providerMessageId };
}
