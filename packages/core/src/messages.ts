import { z } from "zod";
import { AccountInput, Tier } from "./accounts/index.js";

/** One slice of an import on the ingest queue; domains are unique within an import. */
export const IngestChunkMessage = z.object({
  kind: z.literal("ingest-chunk"),
  workspaceId: z.string().min(1),
  importId: z.string().min(1),
  chunk: z.number().int().nonnegative(),
  rows: z.array(z.object({ line: z.number().int().positive(), account: AccountInput })).min(1),
  /** Upload rows behind this chunk (duplicates merged into one account count each). */
  rowCount: z.number().int().positive().optional(),
  /** When the upload was accepted; scoring uses it as "now" so redelivery scores the same. */
  at: z.iso.datetime(),
});
export type IngestChunkMessage = z.infer<typeof IngestChunkMessage>;

/** Published on the route queue whenever an account's tier really changes. */
export const TierChangedEvent = z.object({
  kind: z.literal("tier-changed"),
  eventId: z.string().min(1),
  workspaceId: z.string().min(1),
  accountId: z.string().min(1),
  domain: z.string(),
  from: Tier.nullable(),
  to: Tier,
  score: z.number(),
  icpId: z.string().nullable(),
  icpVersion: z.number().int().nullable(),
  segment: z.string(),
  at: z.iso.datetime(),
  /** What caused it, e.g. `import:imp_…#3`. */
  source: z.string(),
});
export type TierChangedEvent = z.infer<typeof TierChangedEvent>;

/** Tier changes travel in batches (one message per ingest chunk or rescore page), not one message each. */
export const TierChangeBatch = z.object({
  kind: z.literal("tier-changes"),
  events: z.array(TierChangedEvent).min(1).max(500),
});
export type TierChangeBatch = z.infer<typeof TierChangeBatch>;

/** What the route queue carries: a batch, or a single event. */
export const RouteMessage = z.union([TierChangeBatch, TierChangedEvent]);
export type RouteMessage = z.infer<typeof RouteMessage>;

/** One page of one shard of a re-scoring job on the rescore queue; the next page follows as a new message. */
export const RescorePageMessage = z.object({
  kind: z.literal("rescore-page"),
  workspaceId: z.string().min(1),
  jobId: z.string().min(1),
  shard: z.number().int().nonnegative(),
  page: z.number().int().nonnegative(),
  /** Last account id of the previous page; absent on the first page. */
  after: z.string().optional(),
});
export type RescorePageMessage = z.infer<typeof RescorePageMessage>;
