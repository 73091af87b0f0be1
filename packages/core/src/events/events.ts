import { z } from "zod";
import { Channel } from "../sequencing/index.js";
import { amount } from "../shared/index.js";

/** Engagement event types, from sends to revenue. */
export const EventType = z.enum([
  "sent",
  "delivered",
  "opened",
  "clicked",
  "replied",
  "bounced",
  "unsubscribed",
  "connection_accepted",
  "meeting_booked",
  "opportunity_created",
  "won",
  "lost",
]);
export type EventType = z.infer<typeof EventType>;

/** One engagement event as posted to `POST /v1/events` or produced by the sender / tracking endpoints. */
export const EventInput = z
  .object({
    /** Provider or client event id: the idempotency key (a retried webhook counts once). */
    id: z.string().min(1).max(200).optional(),
    type: EventType,
    accountId: z.string().min(1).max(100).optional(),
    domain: z.string().min(1).max(253).optional(),
    contactId: z.string().min(1).max(100).optional(),
    contactEmail: z.email().max(320).toLowerCase().optional(),
    enrollmentId: z.string().min(1).max(100).optional(),
    sequenceId: z.string().min(1).max(100).optional(),
    sequenceVersion: z.number().int().positive().optional(),
    stepId: z.string().min(1).max(40).optional(),
    channel: Channel.optional(),
    variant: z.string().min(1).max(40).optional(),
    /** Deal amount for `won` (and optionally `opportunity_created`). */
    amount: amount().optional(),
    url: z.url().max(2000).optional(),
    /** When it happened (defaults to when it was received); late and out-of-order events are fine. */
    at: z.iso.datetime({ offset: true }).optional(),
  })
  .refine((e) => e.accountId !== undefined || e.domain !== undefined, {
    message: "accountId or domain is required",
    path: ["accountId"],
  });
export type EventInput = z.infer<typeof EventInput>;

/** What the event queue carries: events accepted for one workspace, ids and times resolved. */
export const EngagementEventsMessage = z.object({
  kind: z.literal("engagement-events"),
  workspaceId: z.string().min(1),
  events: z
    .array(z.intersection(EventInput, z.object({ id: z.string().min(1), at: z.iso.datetime({ offset: true }) })))
    .min(1)
    .max(1000),
});
export type EngagementEventsMessage = z.infer<typeof EngagementEventsMessage>;

/** First time each event type happened (ISO), per account, contact and enrollment. */
export type FirstSeen = Partial<Record<EventType, string>>;
export type EngagementMarkers = {
  account: FirstSeen;
  byContact: Record<string, FirstSeen>;
  byEnrollment: Record<string, FirstSeen>;
};
