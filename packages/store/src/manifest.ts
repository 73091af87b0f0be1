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
  ],
} as const;

export type QueueSpec = {
  /** Logical name; SST links it as `Resource.<name>`. */
  name: "IngestQueue" | "RouteQueue";
  /** The functions/ module that consumes it. */
  handler: string;
  /** Handler timeout in seconds; the visibility timeout is 6x this, as AWS advises for Lambda. */
  timeout: number;
  batchSize: number;
  /** Receives before a message is moved to the queue's DLQ. */
  maxReceiveCount: number;
};

export const QUEUES: readonly QueueSpec[] = [
  { name: "IngestQueue", handler: "functions/ingest.handler", timeout: 60, batchSize: 5, maxReceiveCount: 3 },
  { name: "RouteQueue", handler: "functions/route.handler", timeout: 30, batchSize: 10, maxReceiveCount: 5 },
];

export const dlqName = (q: QueueSpec["name"]) => `${q}Dlq` as const;
export const visibilityTimeout = (q: QueueSpec) => q.timeout * 6;

export const API = { name: "Api", handler: "functions/api.handler", timeout: 29, memory: 1024 } as const;
