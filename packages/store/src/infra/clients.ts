import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { SQSClient } from "@aws-sdk/client-sqs";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { configFromEnv, type StoreConfig } from "./config.js";

export type Store = { cfg: StoreConfig; ddb: DynamoDBDocumentClient; sqs: SQSClient };

const LOCAL_CREDENTIALS = { accessKeyId: "local", secretAccessKey: "local" };

export function createStore(cfg: StoreConfig): Store {
  const local = cfg.dynamoEndpoint !== undefined;
  const raw = new DynamoDBClient({
    region: cfg.region,
    ...(cfg.dynamoEndpoint ? { endpoint: cfg.dynamoEndpoint, credentials: LOCAL_CREDENTIALS } : {}),
    maxAttempts: local ? 3 : 5,
  });
  const ddb = DynamoDBDocumentClient.from(raw, {
    marshallOptions: { removeUndefinedValues: true, convertClassInstanceToMap: false },
  });
  const sqs = new SQSClient({
    region: cfg.region,
    ...(cfg.sqsEndpoint ? { endpoint: cfg.sqsEndpoint, credentials: LOCAL_CREDENTIALS } : {}),
  });
  return { cfg, ddb, sqs };
}

let fromEnv: { key: string; store: Store } | undefined;

/** The store a Lambda handler uses, built from its linked resources on first use. */
export function storeFromEnv(): Store {
  const cfg = configFromEnv();
  const key = JSON.stringify(cfg);
  if (fromEnv?.key !== key) fromEnv = { key, store: createStore(cfg) };
  return fromEnv.store;
}
