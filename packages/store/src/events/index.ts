export {
  CLAIM_RENEW_MS,
  CLAIM_TTL_MS,
  claimBatch,
  doneBatches,
  EventBatchBusyError,
  expiresAt,
  markDone,
  recording,
  rememberDone,
  renewClaim,
} from "./claims.js";
export { applyCounters } from "./counters.js";
export {
  type EngagementItem,
  type EngagementSummary,
  engagementItem,
  engagementMarkers,
  engagementSummary,
  getEngagement,
  type Pending,
  toEngagement,
} from "./engagement-item.js";
export { timelineItem } from "./owed.js";
export { dimsOfAccount, MAX_IDS_PER_ACCOUNT } from "./prepare.js";
export { eventAccountId, publishEvents } from "./publish.js";
export { eventsBetween, recentEvents } from "./reads.js";
export { recordEvents } from "./record-events.js";
export { COUNTER_SHARDS, EVENT_DAY_SHARDS, hash, shardOf } from "./shards.js";
export type { EventEffects, RecordResult } from "./work.js";
