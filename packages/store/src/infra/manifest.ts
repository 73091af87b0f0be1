/**
 * The resource manifest: every table, index and queue the system runs on, declared once.
 * sst.config.ts builds AWS resources from it and packages/local builds the embedded stack
 * from it, so production and local cannot drift apart.
 */
export const TABLE = {
  /** Logical name; SST links it as `Resource.Table`. */
  name: "Table",
  partitionKey: "pk",
  sortKey: "sk",
  ttlAttribute: "expiresAt",
  indexes: [
    { name: "gsi1", partitionKey: "gsi1pk", sortKey: "gsi1sk" },
    { name: "gsi2", partitionKey: "gsi2pk", sortKey: "gsi2sk" },
    { name: "gsi3", partitionKey: "gsi3pk", sortKey: "gsi3sk" },
    { name: "gsi4", partitionKey: "gsi4pk", sortKey: "gsi4sk" },
    { name: "gsi5", partitionKey: "gsi5pk", sortKey: "gsi5sk" },
  ],
} as const;

export type QueueSpec = {
  /** Logical name; SST links it as `Resource.<name>`. */
  name: string;
  /** The functions/ module that consumes it. */
  handler: string;
  /** Handler timeout in seconds; the visibility timeout is 6x this, as AWS advises for Lambda. */
  timeout: number;
  batchSize: number;
  /** Receives before a message is moved to the queue's DLQ. */
  maxReceiveCount: number;
  /** Parallel pollers in the local stack (Lambda scales on its own in AWS). */
  localConcurrency: number;
};

export const QUEUES = [
  {
    name: "IngestQueue",
    handler: "functions/ingest.handler",
    timeout: 60,
    batchSize: 5,
    maxReceiveCount: 3,
    localConcurrency: 4,
  },
  {
    name: "RouteQueue",
    handler: "functions/route.handler",
    timeout: 30,
    batchSize: 10,
    maxReceiveCount: 5,
    localConcurrency: 2,
  },
  {
    name: "RescoreQueue",
    handler: "functions/rescore.handler",
    timeout: 60,
    batchSize: 2,
    maxReceiveCount: 5,
    localConcurrency: 2,
  },
  {
    name: "SendQueue",
    handler: "functions/send.handler",
    timeout: 30,
    batchSize: 10,
    maxReceiveCount: 5,
    localConcurrency: 4,
  },
  {
    name: "EventQueue",
    handler: "functions/events.handler",
    timeout: 30,
    batchSize: 10,
    maxReceiveCount: 5,
    localConcurrency: 4,
  },
] as const satisfies readonly QueueSpec[];
export type QueueName = (typeof QUEUES)[number]["name"];

export const dlqName = (q: string) => `${q}Dlq`;
export const visibilityTimeout = (q: QueueSpec) => q.timeout * 6;

export const API = { name: "Api", handler: "functions/api.handler", timeout: 29, memory: 1024 } as const;

export type ScheduleSpec = {
  name: string;
  handler: string;
  /** EventBridge expression in AWS, e.g. "rate(1 hour)". */
  schedule: string;
  timeout: number;
  /** How often the local stack fires it. */
  localEverySeconds: number;
};

/** Scheduled functions (EventBridge cron in AWS, a timer in the local stack). */
export const SCHEDULES: readonly ScheduleSpec[] = [
  {
    name: "SignalSweep",
    handler: "functions/sweep.handler",
    schedule: "rate(15 minutes)",
    timeout: 300,
    localEverySeconds: 30,
  },
  {
    name: "SequenceTick",
    handler: "functions/tick.handler",
    schedule: "rate(1 minute)",
    timeout: 60,
    localEverySeconds: 5,
  },
];
