import { randomUUID } from "node:crypto";
import type { AddressInfo } from "node:net";
import { type CapturedMail, putCapturedMail, type Store, WORKSPACE_HEADER } from "@icp/store";
import { SMTPServer } from "smtp-server";

/**
 * Local SMTP capture: accepts every message on a free loopback port, parses it minimally
 * (headers, subject, addresses, text and HTML parts) and files it in DynamoDB under the
 * workspace named by the `X-ICP-Workspace` header the sender adds, for `GET /v1/mail`.
 * Nothing is relayed anywhere.
 */
export type SmtpCapture = {
  url: string;
  port: number;
  /** Messages received so far (all workspaces), for tests and the banner. */
  received(): number;
  stop(): Promise<void>;
};

const MAX_MESSAGE = 5 * 1024 * 1024;

export async function startSmtpCapture(store: Store, o: { port?: number; onError?: (e: unknown) => void } = {}) {
  let count = 0;
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ["AUTH", "STARTTLS"],
    disableReverseLookup: true,
    size: MAX_MESSAGE,
    logger: false,
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on("data", (c: Buffer) => chunks.push(c));
      stream.on("end", () => {
        const raw = Buffer.concat(chunks);
        const to = session.envelope.rcptTo.map((r) => r.address);
        const from = session.envelope.mailFrom ? session.envelope.mailFrom.address : "";
        const parsed = parseMessage(raw.toString("utf8"));
        const ws = parsed.headers[WORKSPACE_HEADER.toLowerCase()];
        count++;
        if (!ws || ws.includes("#")) return callback(); // no workspace: accepted, not filed
        const mail: CapturedMail = {
          id: randomUUID(),
          receivedAt: new Date().toISOString(),
          from,
          to,
          subject: parsed.headers.subject ?? "",
          ...(parsed.headers["message-id"] ? { messageId: parsed.headers["message-id"] } : {}),
          headers: parsed.headers,
          ...(parsed.text !== undefined ? { text: parsed.text } : {}),
          ...(parsed.html !== undefined ? { html: parsed.html } : {}),
          size: raw.length,
        };
        putCapturedMail(store, ws, mail).then(
          () => callback(),
          (e) => {
            o.onError?.(e);
            const err = new Error("451 capture store unavailable") as Error & { responseCode: number };
            err.responseCode = 451;
            callback(err);
          },
        );
      });
    },
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(o.port ?? 0, "127.0.0.1", () => resolve());
  });
  server.on("error", (e) => o.onError?.(e));
  const port = (server.server.address() as AddressInfo).port;
  return {
    url: `smtp://127.0.0.1:${port}`,
    port,
    received: () => count,
    stop: () => new Promise<void>((r) => server.close(() => r())),
  } satisfies SmtpCapture;
}

// --- a minimal MIME reader (enough for what nodemailer and SES produce) ---

type Part = { headers: Record<string, string>; body: string };

function splitHead(raw: string): Part {
  const i = raw.search(/\r?\n\r?\n/);
  const head = i < 0 ? raw : raw.slice(0, i);
  const body = i < 0 ? "" : raw.slice(i).replace(/^\r?\n\r?\n/, "");
  const headers: Record<string, string> = {};
  for (const line of head.replace(/\r?\n[ \t]+/g, " ").split(/\r?\n/)) {
    const c = line.indexOf(":");
    if (c <= 0) continue;
    const name = line.slice(0, c).trim().toLowerCase();
    const value = decodeWords(line.slice(c + 1).trim());
    headers[name] = headers[name] ? `${headers[name]}, ${value}` : value;
  }
  return { headers, body };
}

/** RFC 2047 encoded words (`=?UTF-8?Q?…?=`, `=?UTF-8?B?…?=`). */
function decodeWords(s: string): string {
  return s
    .replace(/\?=\s+=\?/g, "?==?")
    .replace(/=\?([^?]+)\?([QqBb])\?([^?]*)\?=/g, (_, _charset: string, enc: string, text: string) =>
      enc.toUpperCase() === "B"
        ? Buffer.from(text, "base64").toString("utf8")
        : qp(text.replace(/_/g, " ")).toString("utf8"),
    );
}

function qp(s: string): Buffer {
  const bytes: number[] = [];
  const src = s.replace(/=\r?\n/g, "");
  for (let i = 0; i < src.length; i++) {
    const ch = src[i] as string;
    const hex = src.slice(i + 1, i + 3);
    if (ch === "=" && /^[0-9A-Fa-f]{2}$/.test(hex)) {
      bytes.push(Number.parseInt(hex, 16));
      i += 2;
    } else for (const b of Buffer.from(ch, "utf8")) bytes.push(b);
  }
  return Buffer.from(bytes);
}

function decodeBody(p: Part): string {
  const enc = (p.headers["content-transfer-encoding"] ?? "7bit").toLowerCase();
  if (enc === "base64") return Buffer.from(p.body.replace(/\s+/g, ""), "base64").toString("utf8");
  if (enc === "quoted-printable") return qp(p.body).toString("utf8");
  return p.body;
}

function walk(p: Part, out: { text?: string; html?: string }, depth = 0): void {
  const type = (p.headers["content-type"] ?? "text/plain").toLowerCase();
  if (type.startsWith("multipart/") && depth < 5) {
    const boundary = /boundary="?([^";]+)"?/i.exec(p.headers["content-type"] ?? "")?.[1];
    if (!boundary) return;
    const pieces = p.body.split(`--${boundary}`);
    for (const piece of pieces.slice(1)) {
      if (piece.startsWith("--")) break;
      walk(splitHead(piece.replace(/^\r?\n/, "")), out, depth + 1);
    }
    return;
  }
  if (type.startsWith("text/html") && out.html === undefined) out.html = decodeBody(p).replace(/\r?\n$/, "");
  else if (type.startsWith("text/plain") && out.text === undefined) out.text = decodeBody(p).replace(/\r?\n$/, "");
}

/** Headers (lower-case names, encoded words decoded) and the first text and HTML parts. */
export function parseMessage(raw: string): { headers: Record<string, string>; text?: string; html?: string } {
  const top = splitHead(raw);
  const out: { text?: string; html?: string } = {};
  walk(top, out);
  return { headers: top.headers, ...out };
}
