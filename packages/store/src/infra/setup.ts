import {
  CreateTableCommand,
  DescribeTimeToLiveCommand,
  ResourceInUseException,
  UpdateTimeToLiveCommand,
} from "@aws-sdk/client-dynamodb";
import type { Store } from "./clients.js";
import { TABLE } from "./manifest.js";

/** Create the single table as the manifest declares it (local stack and tests; SST does it in AWS). */
export async function createTable(store: Store): Promise<void> {
  const attrs = new Set<string>([TABLE.partitionKey, TABLE.sortKey]);
  for (const ix of TABLE.indexes) {
    attrs.add(ix.partitionKey);
    attrs.add(ix.sortKey);
  }
  try {
    await store.ddb.send(
      new CreateTableCommand({
        TableName: store.cfg.tableName,
        BillingMode: "PAY_PER_REQUEST",
        AttributeDefinitions: [...attrs].map((AttributeName) => ({ AttributeName, AttributeType: "S" })),
        KeySchema: [
          { AttributeName: TABLE.partitionKey, KeyType: "HASH" },
          { AttributeName: TABLE.sortKey, KeyType: "RANGE" },
        ],
        GlobalSecondaryIndexes: TABLE.indexes.map((ix) => ({
          IndexName: ix.name,
          KeySchema: [
            { AttributeName: ix.partitionKey, KeyType: "HASH" },
            { AttributeName: ix.sortKey, KeyType: "RANGE" },
          ],
          Projection: { ProjectionType: "ALL" },
        })),
      }),
    );
  } catch (e) {
    if (!(e instanceof ResourceInUseException)) throw e;
  }
  const ttl = await store.ddb.send(new DescribeTimeToLiveCommand({ TableName: store.cfg.tableName }));
  if (ttl.TimeToLiveDescription?.TimeToLiveStatus !== "ENABLED")
    await store.ddb.send(
      new UpdateTimeToLiveCommand({
        TableName: store.cfg.tableName,
        TimeToLiveSpecification: { AttributeName: TABLE.ttlAttribute, Enabled: true },
      }),
    );
}
