import { PutCommand } from "@aws-sdk/lib-dynamodb";
// nodemailer's parts, not its main entry: that one imports every transport (sendmail, stream,
// JSON, plain SMTP…) and would add ~20 KB to the send worker's bundle. `new Mail(new
// SMTPPool(o), o)` is exactly what `nodemailer.createTransport({ ...o, pool: true })` builds.
import Mail from "nodemailer/lib/mailer";
import SESTransport, { type SESTransportOptions } from "nodemailer/lib/ses-transport";
import SMTPPool from "nodemailer/lib/smtp-pool";
import type { MailSettings, Store } from "../infra/index.js";
import { keys, queryPage, requireSettings, withoutKeys } from "../infra/index.js";

/**
 * Email transports behind one interface: SMTP (nodemailer; locally the capture server of
 * packages/local) and Amazon SES v2 (in AWS, whenever the `Email` resource is linked). The Message-ID
 * is ours and deterministic per enrollment step, so a transport retry is the same email.
 */
export type OutboundMail = {
  workspaceId: string;
  from: { name?: string; address: string };
  to: string;
  subject: string;
  text: string;
  html?: string;
  /** `<enrollmentId.stepId@icp-sequencer>`. */
  messageId: string;
  /** Extra headers: List-Unsubscribe, List-Unsubscribe-Post… */
  headers: Record<string, string>;
};

export interface MailTransport {
  readonly name: string;
  send(msg: OutboundMail): Promise<{ messageId: string }>;
}

/** Header a local capture server reads to file captured mail under its workspace. */
export const WORKSPACE_HEADER = "X-ICP-Workspace";

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|localhost|::1|\[::1\])$/;

/** SMTP through nodemailer (pooled connections). To a loopback host it adds the workspace header for the capture. */
export function smtpTransport(url: string): MailTransport {
  const u = new URL(url);
  const capture = LOOPBACK.test(u.hostname);
  const options = {
    host: u.hostname,
    port: Number(u.port || (u.protocol === "smtps:" ? 465 : 587)),
    secure: u.protocol === "smtps:",
    ...(u.username ? { auth: { user: decodeURIComponent(u.username), pass: decodeURIComponent(u.password) } } : {}),
    ...(capture ? { ignoreTLS: true } : {}),
    pool: true,
    maxConnections: Number(u.searchParams.get("maxConnections") ?? 4),
    maxMessages: Number.POSITIVE_INFINITY,
  };
  return viaNodemailer(
    "smtp",
    new Mail(new SMTPPool(options), options),
    (m): Record<string, string> => (capture ? { [WORKSPACE_HEADER]: m.workspaceId } : {}),
  );
}

/** One OutboundMail through a nodemailer Mail (SMTP or SES): same fields, same Message-ID. */
function viaNodemailer(
  name: string,
  t: Mail,
  extraHeaders: (m: OutboundMail) => Record<string, string> = () => ({}),
  extraData: Record<string, unknown> = {},
): MailTransport {
  return {
    name,
    async send(m) {
      const info = await t.sendMail({
        from: m.from,
        to: m.to,
        subject: m.subject,
        text: m.text,
        ...(m.html ? { html: m.html } : {}),
        messageId: m.messageId,
        headers: { ...m.headers, ...extraHeaders(m) },
        ...extraData,
      });
      return { messageId: String(info.messageId ?? m.messageId) };
    },
  };
}

/**
 * Amazon SES v2 through nodemailer's SES transport (credentials from the Lambda role). With the
 * Email resource's configuration set, SES publishes its delivery events for this mail.
 */
export async function sesTransport(o: Omit<Extract<MailSettings, { kind: "ses" }>, "kind">): Promise<MailTransport> {
  const { SESv2Client, SendEmailCommand } = await import("@aws-sdk/client-sesv2");
  const sesClient = new SESv2Client({ region: o.region, ...(o.endpoint ? { endpoint: o.endpoint } : {}) });
  const options: SESTransportOptions = { SES: { sesClient, SendEmailCommand } };
  const data = o.configSet ? { ses: { ConfigurationSetName: o.configSet } } : {};
  return viaNodemailer("ses", new Mail(new SESTransport(options), options), undefined, data);
}

let cached: { key: string; transport: Promise<MailTransport> } | undefined;

/** The transport for these settings, built once per process (SMTP pools its connections). */
export function mailTransport(settings: MailSettings): Promise<MailTransport> {
  const key = JSON.stringify(settings);
  if (cached?.key === key) return cached.transport;
  const transport = settings.kind === "ses" ? sesTransport(settings) : Promise.resolve(smtpTransport(settings.url));
  cached = { key, transport };
  transport.catch(() => {
    if (cached?.transport === transport) cached = undefined;
  });
  return transport;
}

/** The transport the linked settings select (SES with `Email`, else SMTP at `ICP_SMTP_URL`); rejects naming what is missing. */
export function mailTransportFromEnv(env: NodeJS.ProcessEnv = process.env): Promise<MailTransport> {
  try {
    return mailTransport(requireSettings(["mail"], env).mail);
  } catch (e) {
    return Promise.reject(e);
  }
}

/**
 * True when a transport error proves the message was NOT accepted: the connection, greeting,
 * authentication or envelope failed before any content was handed over, or SES refused the
 * request. Anything else (a timeout or a dropped connection during or after DATA) is
 * ambiguous and must be treated as possibly sent.
 */
export function provablyUnsent(e: unknown): boolean {
  const err = e as { code?: string; command?: string; name?: string; $metadata?: { httpStatusCode?: number } };
  if (err.code && ["ECONNECTION", "EAUTH", "EDNS", "ETLS", "EENVELOPE", "ECONNREFUSED"].includes(err.code))
    return err.command !== "DATA";
  if (err.command && ["CONN", "EHLO", "HELO", "AUTH PLAIN", "AUTH LOGIN", "MAIL FROM", "RCPT TO"].includes(err.command))
    return true;
  const status = err.$metadata?.httpStatusCode;
  return status !== undefined && status >= 400 && status < 500;
}

// --- captured mail (local SMTP capture; empty in AWS) ---

export type CapturedMail = {
  id: string;
  receivedAt: string;
  from: string;
  to: string[];
  subject: string;
  messageId?: string;
  headers: Record<string, string>;
  text?: string;
  html?: string;
  size: number;
};

const MAX_PART = 100_000;

export async function putCapturedMail(store: Store, ws: string, m: CapturedMail): Promise<void> {
  await store.ddb.send(
    new PutCommand({
      TableName: store.cfg.tableName,
      Item: {
        ...keys.capturedMail(ws, m.receivedAt, m.id),
        type: "captured-mail",
        v: 1,
        ...m,
        ...(m.text ? { text: m.text.slice(0, MAX_PART) } : {}),
        ...(m.html ? { html: m.html.slice(0, MAX_PART) } : {}),
      },
    }),
  );
}

/** Captured mail of one workspace, newest first. */
export async function listCapturedMail(
  store: Store,
  ws: string,
  q: { limit: number; cursor?: string },
): Promise<{ items: CapturedMail[]; nextCursor?: string }> {
  const page = await queryPage(store, keys.capturedMailPrefix(ws), {
    limit: q.limit,
    newestFirst: true,
    ...(q.cursor ? { afterSk: Buffer.from(q.cursor, "base64url").toString("utf8") } : {}),
  });
  return {
    items: page.items.map((i) => withoutKeys(i) as CapturedMail),
    ...(page.lastSk ? { nextCursor: Buffer.from(page.lastSk).toString("base64url") } : {}),
  };
}
