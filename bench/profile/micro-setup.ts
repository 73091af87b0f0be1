import { compileIcp, DEMO_ICP, demoAccountsCsv, IcpDefinition, parseCsv } from "@icp/core";
import { startDynamoLocal } from "@icp/local";
import { createStore, createTable, type Store, type StoreConfig } from "@icp/store";
import { ingestItems } from "../ingest.js";

/** The micro-benchmarks' table (their own DynamoDB Local). */
export const MICRO_TABLE = "micro";

/**
 * Shared setup of the DynamoDB micro-benchmarks: their own DynamoDB Local and table, the demo
 * ICP, and `n` parsed demo rows; `items(type)` gives the ingest's items of that type for a fresh
 * workspace on every call.
 */
export async function microSetup(n: number, jvmOptions?: readonly string[]) {
  const dynamo = await startDynamoLocal(jvmOptions ? { jvmOptions } : {});
  const store: Store = createStore({
    tableName: MICRO_TABLE,
    region: "us-east-1",
    queues: {} as StoreConfig["queues"],
    dynamoEndpoint: dynamo.endpoint,
  });
  await createTable(store);
  const icps = [compileIcp({ ...IcpDefinition.parse(DEMO_ICP), id: "icp_BENCHBASELINE000000000000", version: 1 })];
  const at = new Date().toISOString();
  const rows = parseCsv(demoAccountsCsv(n, 11), new Date(at)).rows;
  let wsn = 0;
  const items = (type: "account" | "contact") =>
    ingestItems(`micro${wsn++}`, rows, icps, at).filter((i) => i.type === type);
  return { dynamo, store, items };
}
