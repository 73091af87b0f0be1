import { createHash } from "node:crypto";
import { z } from "zod";
import type { Channel } from "../sequencing/index.js";

/**
 * Per-sender sending limits. A sender is a mailbox (email) or a LinkedIn seat; its limits are
 * shared by every sequence that uses it. Counting windows are UTC days and ISO weeks (UTC),
 * so every worker agrees on which bucket a send falls into.
 */
export const SenderLimits = z.object({
  /** Emails per day on the mailbox's first day of warm-up. */
  emailStart: z.number().int().min(1).max(10_000).default(30),
  /** Extra emails per day for each day of mailbox age. */
  emailRampPerDay: z.number().int().min(0).max(1000).default(2),
  /** Ceiling once warmed up. */
  emailMax: z.number().int().min(1).max(10_000).default(100),
  /** Minimum gap between two emails of one mailbox, in seconds (default 9 minutes)… */
  emailGapSeconds: z.number().int().min(0).max(86_400).default(540),
  /** …plus a random (seeded) jitter of up to this many seconds, so sends do not look robotic. */
  emailGapJitterSeconds: z.number().int().min(0).max(86_400).default(120),
  linkedinInvitesPerDay: z.number().int().min(0).max(1000).default(20),
  linkedinInvitesPerWeek: z.number().int().min(0).max(5000).default(100),
  linkedinMessagesPerDay: z.number().int().min(0).max(5000).default(50),
});
export type SenderLimits = z.infer<typeof SenderLimits>;
export const DEFAULT_SENDER_LIMITS: SenderLimits = SenderLimits.parse({});

/** Channels that consume a sender's capacity; call and manual tasks are uncapped. */
export const CappedChannel = z.enum(["email", "linkedin_invite", "linkedin_message"]);
export type CappedChannel = z.infer<typeof CappedChannel>;
export const isCappedChannel = (c: Channel): c is CappedChannel => CappedChannel.safeParse(c).success;

/** Which kind of sender a channel needs: a mailbox for email, a LinkedIn seat for LinkedIn steps. */
export const senderKindFor = (c: Channel): "mailbox" | "linkedin" | undefined =>
  c === "email" ? "mailbox" : c === "linkedin_invite" || c === "linkedin_message" ? "linkedin" : undefined;

/** The limits in force for one channel of one sender at one moment. */
export type ChannelLimits = {
  perDay: number;
  /** Weekly ceiling (LinkedIn invites), else null. */
  perWeek: number | null;
  /** Minimum gap between sends and its maximum jitter, in ms. */
  gapMs: number;
  jitterMs: number;
};

const DAY_MS = 86_400_000;

/** Whole days since the mailbox started warming up (0 on the first day, never negative). */
export function mailboxAgeDays(warmupStart: string | Date, now: Date): number {
  const start = Date.parse(utcDay(new Date(warmupStart)));
  const today = Date.parse(utcDay(now));
  return Math.max(0, Math.floor((today - start) / DAY_MS));
}

/** Email cap for a mailbox of this age: start + ramp × age, at most max. */
export function emailDailyLimit(limits: SenderLimits, ageDays: number): number {
  return Math.min(limits.emailMax, limits.emailStart + limits.emailRampPerDay * Math.max(0, ageDays));
}

export function channelLimits(
  channel: CappedChannel,
  limits: SenderLimits,
  warmupStart: string | Date,
  now: Date,
): ChannelLimits {
  switch (channel) {
    case "email":
      return {
        perDay: emailDailyLimit(limits, mailboxAgeDays(warmupStart, now)),
        perWeek: null,
        gapMs: limits.emailGapSeconds * 1000,
        jitterMs: limits.emailGapJitterSeconds * 1000,
      };
    case "linkedin_invite":
      return { perDay: limits.linkedinInvitesPerDay, perWeek: limits.linkedinInvitesPerWeek, gapMs: 0, jitterMs: 0 };
    case "linkedin_message":
      return { perDay: limits.linkedinMessagesPerDay, perWeek: null, gapMs: 0, jitterMs: 0 };
  }
}

/** `YYYY-MM-DD` of the UTC day. */
export const utcDay = (d: Date) => d.toISOString().slice(0, 10);

/** Monday (UTC) of the ISO week, `YYYY-MM-DD`: the weekly counter's bucket. */
export function utcWeek(d: Date): string {
  const day = new Date(Date.parse(utcDay(d)));
  const iso = day.getUTCDay() || 7;
  return utcDay(new Date(day.getTime() - (iso - 1) * DAY_MS));
}

export const nextUtcDay = (d: Date) => new Date(Date.parse(utcDay(d)) + DAY_MS);
export const nextUtcWeek = (d: Date) => new Date(Date.parse(utcWeek(d)) + 7 * DAY_MS);

/** Deterministic jitter in [0, maxMs) from a seed (same seed, same jitter: retries agree). */
export function seededJitter(seed: string, maxMs: number): number {
  if (maxMs <= 0) return 0;
  const h = createHash("sha256").update(seed).digest();
  return h.readUInt32BE(0) % Math.floor(maxMs);
}

/** What a sender has used of one channel: today's count, this week's count, and the earliest time of the next send. */
export type CapUsage = {
  today: number;
  week: number;
  /** Earliest next send (last send + gap + jitter), ISO; null when nothing was sent yet. */
  nextAt: string | null;
};

export type CapDecision = { ok: true } | { ok: false; waitUntil: Date; reason: "daily" | "weekly" | "gap" };

/**
 * May one more step go out now? Otherwise when to try again: the next UTC day (daily cap),
 * the next ISO week (weekly cap) or the end of the gap. `waitUntil` is always after `now`.
 */
export function capDecision(usage: CapUsage, limits: ChannelLimits, now: Date): CapDecision {
  const t = now.getTime();
  if (limits.perWeek !== null && usage.week >= limits.perWeek)
    return { ok: false, waitUntil: nextUtcWeek(now), reason: "weekly" };
  if (usage.today >= limits.perDay) return { ok: false, waitUntil: nextUtcDay(now), reason: "daily" };
  const next = usage.nextAt ? Date.parse(usage.nextAt) : Number.NaN;
  if (Number.isFinite(next) && next > t) {
    const wait = new Date(next);
    // The gap may reach into the next day: that day's bucket is still fresh, so the gap decides.
    return { ok: false, waitUntil: wait, reason: "gap" };
  }
  return { ok: true };
}

/** When the send after one made at `now` may go out: gap plus the seeded jitter. */
export function nextSendAt(limits: ChannelLimits, now: Date, seed: string): Date {
  return new Date(now.getTime() + limits.gapMs + seededJitter(seed, limits.jitterMs));
}

/** A mailbox (email steps) or a LinkedIn seat (invites and messages), as created by `POST /v1/senders`. */
export const SenderInput = z
  .object({
    kind: z.enum(["mailbox", "linkedin"]),
    name: z.string().trim().min(1).max(200),
    /** Mailbox address (required for a mailbox); also the From of its emails. */
    email: z.email().max(320).toLowerCase().optional(),
    /** Plain-text signature appended to emails. */
    signature: z.string().max(2000).optional(),
    linkedinUrl: z.url().max(500).optional(),
    /** When the mailbox started warming up (ISO date or date-time; default: when it is created). */
    warmupStart: z.iso
      .date()
      .or(z.iso.datetime({ offset: true }))
      .optional(),
    /** Overrides of the default limits. */
    limits: SenderLimits.partial().optional(),
  })
  .refine((s) => s.kind !== "mailbox" || s.email !== undefined, {
    message: "a mailbox needs an email address",
    path: ["email"],
  });
export type SenderInput = z.infer<typeof SenderInput>;

export type Sender = {
  id: string;
  kind: "mailbox" | "linkedin";
  name: string;
  email?: string;
  signature?: string;
  linkedinUrl?: string;
  warmupStart: string;
  limits: SenderLimits;
  createdAt: string;
};
