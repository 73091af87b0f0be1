import { dlqName, QUEUES, type QueueName, TABLE } from "./manifest.js";

/**
 * Where the table and queues are. In AWS the names come from SST links (`SST_RESOURCE_<Name>`
 * env vars, exactly what `Resource` from "sst" reads); locally packages/local sets the same
 * variables plus endpoints. This module is the only reader of those variables.
 */
export type StoreConfig = {
  tableName: string;
  queues: Record<QueueName, string>;
  /** Each queue's dead-letter queue, where handlers put poison messages with their reason. */
  dlqs?: Partial<Record<QueueName, string>>;
  region: string;
  dynamoEndpoint?: string;
  sqsEndpoint?: string;
};

function resource(name: string, env: NodeJS.ProcessEnv): Record<string, string> {
  const raw = env[`SST_RESOURCE_${name}`];
  if (!raw) throw new Error(`SST_RESOURCE_${name} is not set: the ${name} resource is not linked to this function`);
  return JSON.parse(raw) as Record<string, string>;
}

export function configFromEnv(env: NodeJS.ProcessEnv = process.env): StoreConfig {
  const queues = {} as StoreConfig["queues"];
  const dlqs: StoreConfig["dlqs"] = {};
  for (const q of QUEUES) {
    queues[q.name] = resource(q.name, env).url ?? "";
    const dlq = env[`SST_RESOURCE_${dlqName(q.name)}`];
    if (dlq) dlqs[q.name] = (JSON.parse(dlq) as { url?: string }).url ?? "";
  }
  const cfg: StoreConfig = {
    tableName: resource(TABLE.name, env).name ?? "",
    queues,
    dlqs,
    region: env.AWS_REGION ?? "us-east-1",
  };
  if (env.ICP_DYNAMODB_ENDPOINT) cfg.dynamoEndpoint = env.ICP_DYNAMODB_ENDPOINT;
  if (env.ICP_SQS_ENDPOINT) cfg.sqsEndpoint = env.ICP_SQS_ENDPOINT;
  return cfg;
}

/** The env vars a Lambda would get for this config (used by the local runtime and tests). */
export function configToEnv(cfg: StoreConfig): Record<string, string> {
  const env: Record<string, string> = {
    [`SST_RESOURCE_${TABLE.name}`]: JSON.stringify({ name: cfg.tableName }),
    AWS_REGION: cfg.region,
  };
  for (const q of QUEUES) {
    env[`SST_RESOURCE_${q.name}`] = JSON.stringify({ url: cfg.queues[q.name] });
    const dlq = cfg.dlqs?.[q.name];
    if (dlq) env[`SST_RESOURCE_${dlqName(q.name)}`] = JSON.stringify({ url: dlq });
  }
  if (cfg.dynamoEndpoint) env.ICP_DYNAMODB_ENDPOINT = cfg.dynamoEndpoint;
  if (cfg.sqsEndpoint) env.ICP_SQS_ENDPOINT = cfg.sqsEndpoint;
  return env;
}
