export { batchDelete, batchGet, batchPut, chunks, inParallel, slots } from "./batch.js";
export { createStore, type Store, storeFromEnv } from "./clients.js";
export { coalesceOptions, coalesceStats, coalescing } from "./coalesce.js";
export {
  API_SETTINGS,
  allowPrivateWebhooks,
  configFromEnv,
  configToEnv,
  type MailSettings,
  MissingSettingsError,
  requireSettings,
  SEND_SETTINGS,
  SETTING_NAMES,
  type Settings,
  type StoreConfig,
  settingsFromEnv,
  settingsToEnv,
} from "./config.js";
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
export { type Backoff, backoff, backoffDelay, type RetryOptions, retry, sleep } from "./retry.js";
export { createTable } from "./setup.js";
export { type HeadWrite, writeVersion } from "./versioned.js";
