import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import { z } from "zod";
import type { EventType } from "../events/index.js";
import type { Channel } from "../sequencing/index.js";

/** Channels whose steps become tasks for a person (or an automation tool) instead of being sent. */
export const TASK_CHANNELS = ["linkedin_invite", "linkedin_message", "call_task", "manual_task"] as const;
export type TaskChannel = (typeof TASK_CHANNELS)[number];
export const isTaskChannel = (c: Channel): c is TaskChannel => (TASK_CHANNELS as readonly string[]).includes(c);

/** How a task ended. */
export const TaskOutcome = z.enum([
  "done",
  "skipped",
  "connection_accepted",
  "replied",
  "meeting_booked",
  "no_answer",
  "voicemail",
  "wrong_contact",
]);
export type TaskOutcome = z.infer<typeof TaskOutcome>;

/**
 * The engagement events a completed task records: doing the step counts as `sent` on its
 * channel; an accepted invite, a reply or a booked meeting also record that event.
 */
export function taskOutcomeEvents(outcome: TaskOutcome): EventType[] {
  switch (outcome) {
    case "done":
    case "no_answer":
    case "voicemail":
      return ["sent"];
    case "connection_accepted":
      return ["sent", "connection_accepted"];
    case "replied":
      return ["sent", "replied"];
    case "meeting_booked":
      return ["sent", "meeting_booked"];
    case "skipped":
    case "wrong_contact":
      return [];
  }
}

/** A fresh outbound-webhook signing secret. */
export const newWebhookSecret = () => `whsec_${randomBytes(32).toString("base64url")}`;

/** `X-ICP-Signature` value: `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">`. */
export function signWebhook(secret: string, body: string, at: Date = new Date()): string {
  const t = Math.floor(at.getTime() / 1000);
  const v1 = createHmac("sha256", secret).update(`${t}.${body}`).digest("hex");
  return `t=${t},v1=${v1}`;
}

/**
 * Check an `X-ICP-Signature` header against the raw body (what receivers do). Rejects a
 * timestamp more than `toleranceSeconds` away from now, which stops replays.
 */
export function verifyWebhook(
  secret: string,
  header: string,
  body: string,
  now: Date = new Date(),
  toleranceSeconds = 300,
): boolean {
  const parts = Object.fromEntries(
    header.split(",").map((p) => {
      const i = p.indexOf("=");
      return [p.slice(0, i).trim(), p.slice(i + 1).trim()];
    }),
  );
  const t = Number(parts.t);
  const v1 = parts.v1;
  if (!Number.isInteger(t) || !v1 || !/^[0-9a-f]{64}$/.test(v1)) return false;
  if (Math.abs(now.getTime() / 1000 - t) > toleranceSeconds) return false;
  const want = Buffer.from(createHmac("sha256", secret).update(`${t}.${body}`).digest("hex"));
  return timingSafeEqual(want, Buffer.from(v1));
}

/** Shortened address for logs: `j***@acme.com`, never the full address. */
export const maskEmail = (email: string | undefined) => {
  if (!email) return undefined;
  const at = email.indexOf("@");
  return at <= 0 ? "***" : `${email[0]}***${email.slice(at)}`;
};
