import { randomBytes } from "node:crypto";
import { z } from "zod";
import type { EventType } from "../events/index.js";
import type { Channel } from "../sequencing/index.js";
import { checkSignature, signatureHeader } from "../shared/index.js";

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
  return signatureHeader(secret, body, Math.floor(at.getTime() / 1000));
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
  return checkSignature(secret, header, body, now.getTime() / 1000, toleranceSeconds).ok;
}
