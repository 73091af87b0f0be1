/** An account's engagement item (markers, score, recent ids, pending shares): its type, stored form and reads. */
import { deflateRawSync, inflateRawSync } from "node:zlib";
import { GetCommand } from "@aws-sdk/lib-dynamodb";
import {
  type Deltas,
  decayedScore,
  type EngagementMarkers,
  type EngagementState,
  type EventDims,
  emptyEngagement,
} from "@icp/core";
import type { Store } from "../infra/index.js";
import { keys } from "../infra/index.js";

/** One batch's share of an account's engagement, kept on the engagement item until the batch is done. */
export type Pending = {
  at: string;
  /** Counter increments this batch caused on the account (applied once with the batch's counters). */
  deltas: Deltas;
  /** Events of the batch recorded on the account: their timeline entries and effects are still owed. */
  ids?: string[];
  /** The account's dimensions the batch counted them in (the timeline entries carry the same). */
  d?: EventDims;
};

/** The engagement state item of an account, as stored. */
export type EngagementItem = EngagementState & {
  accountId: string;
  rev: number;
  /** Ids of the most recent events recorded (idempotency), oldest first, at most MAX_IDS_PER_ACCOUNT. */
  ids: string[];
  /**
   * Every event recorded with a time after `floor` has its id in `ids` (older ids were dropped
   * when `lastAt` was at most `floor`). An event at or before it is a duplicate when its timeline
   * entry exists: those are written only after the event is recorded here.
   */
  floor?: string | null;
  /** Batches not yet done that recorded events here: batch → its share. */
  pending: Record<string, Pending>;
  updatedAt: string;
};

/**
 * Stored form (v 2): the scalars as attributes, and the nested parts (markers, unique marks, recent
 * ids, pending shares) as one deflated JSON binary `z`. DynamoDB (Local above all) spends far more
 * on a large nested map than on a few KB of binary: a conditional put of a 30 KB map took ~280 ms
 * under load. Items of v 1 (all attributes) are still read.
 */
const NESTED = ["first", "byContact", "byEnrollment", "u", "ids", "pending"] as const;

export const toEngagement = (item: Record<string, unknown> | undefined, accountId: string): EngagementItem => {
  if (!item) return { ...emptyEngagement(), accountId, rev: 0, ids: [], floor: null, pending: {}, updatedAt: "" };
  const { pk: _1, sk: _2, type: _3, v: _4, z, ...rest } = item;
  const nested = z ? JSON.parse(inflateRawSync(z as Uint8Array).toString("utf8")) : {};
  return { ...rest, ...nested } as EngagementItem;
};

export const engagementItem = (ws: string, e: EngagementItem): Record<string, unknown> => {
  const flat: Record<string, unknown> = { ...e };
  const nested: Record<string, unknown> = {};
  for (const k of NESTED) {
    nested[k] = e[k];
    delete flat[k];
  }
  const z = deflateRawSync(Buffer.from(JSON.stringify(nested)), { level: 1 });
  return { ...keys.engagement(ws, e.accountId), type: "engagement", v: 2, ...flat, z };
};

/** First open/click/reply/meeting/won… per account, per contact and per enrollment. */
export async function engagementMarkers(store: Store, ws: string, accountId: string): Promise<EngagementMarkers> {
  const e = await getEngagement(store, ws, accountId);
  return { account: e.first, byContact: e.byContact, byEnrollment: e.byEnrollment };
}

export type EngagementSummary = {
  accountId: string;
  /** Decayed engagement score now (half-life 14 days). */
  score: number;
  events: number;
  lastEventAt: string | null;
  first: EngagementMarkers["account"];
};

/** What an account's page shows about its engagement. */
export async function engagementSummary(
  store: Store,
  ws: string,
  accountId: string,
  now = Date.now(),
): Promise<EngagementSummary> {
  const e = await getEngagement(store, ws, accountId);
  return {
    accountId,
    score: decayedScore(e.score, e.scoreAt, now),
    events: e.events,
    lastEventAt: e.lastAt,
    first: e.first,
  };
}

export async function getEngagement(store: Store, ws: string, accountId: string): Promise<EngagementItem> {
  const res = await store.ddb.send(
    new GetCommand({ TableName: store.cfg.tableName, Key: keys.engagement(ws, accountId), ConsistentRead: true }),
  );
  return toEngagement(res.Item, accountId);
}
