import { createHmac, timingSafeEqual } from "node:crypto";
import { z } from "zod";

/**
 * Signed tokens for open pixels, click redirects and unsubscribe links. The token carries
 * what the event needs and an HMAC over it, so a click can only redirect to the URL the
 * sender recorded (no open redirect) and nobody can forge opens or unsubscribes.
 */
export const TrackingPayload = z.object({
  kind: z.enum(["open", "click", "unsubscribe"]),
  workspaceId: z.string(),
  accountId: z.string(),
  contactId: z.string().optional(),
  enrollmentId: z.string().optional(),
  sequenceId: z.string().optional(),
  sequenceVersion: z.number().int().optional(),
  stepId: z.string().optional(),
  variant: z.string().optional(),
  /** click: the recorded destination. */
  url: z.string().optional(),
});
export type TrackingPayload = z.infer<typeof TrackingPayload>;

const mac = (secret: string, body: string) => createHmac("sha256", secret).update(body).digest("base64url");

export function signTrackingToken(secret: string, p: TrackingPayload): string {
  const body = Buffer.from(JSON.stringify(p)).toString("base64url");
  return `${body}.${mac(secret, body)}`;
}

/** The payload, or undefined when the token is malformed or its signature does not match. */
export function verifyTrackingToken(secret: string, token: string): TrackingPayload | undefined {
  const [body, sig, extra] = token.split(".");
  if (!body || !sig || extra !== undefined) return undefined;
  const want = Buffer.from(mac(secret, body));
  const got = Buffer.from(sig);
  if (want.length !== got.length || !timingSafeEqual(want, got)) return undefined;
  try {
    const parsed = TrackingPayload.safeParse(JSON.parse(Buffer.from(body, "base64url").toString("utf8")));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}
