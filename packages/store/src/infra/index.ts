export { batchDelete, batchGet, batchPut, chunks, inParallel, sleep, slots } from "./batch.js";
export { createStore, type Store, storeFromEnv } from "./clients.js";
export { coalesceOptions, coalesceStats, coalescing } from "./coalesce.js";
export { configFromEnv, configToEnv, type StoreConfig } from "./config.js";
export { cancelledBy, conditionFailed } from "./dynamo-errors.js";
export { accountShard, DUE_SHARDS, enrollmentShard, keys, SHARDS } from "./keys.js";
export {
  API,
  dlqName,
  QUEUES,
  type QueueName,
  type QueueSpec,
  SCHEDULES,
  type ScheduleSpec,
  TABLE,
  visibilityTimeout,
} from "./manifest.js";
export { queryAll, queryIndexAll, queryPage, withoutKeys } from "./query.js";
export { deadLetter, publish, publishTierChanges } from "./queue.js";
export { createTable } from "./setup.js";
export { type HeadWrite, writeVersion } from "./versioned.js";
