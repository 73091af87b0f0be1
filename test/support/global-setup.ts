import { type DynamoLocal, startDynamoLocal } from "@icp/local";
import type { TestProject } from "vitest/node";

let dynamo: DynamoLocal | undefined;

/** One DynamoDB Local for the whole run; each test file makes its own table on it. */
export async function setup(project: TestProject) {
  dynamo = await startDynamoLocal();
  project.provide("dynamoEndpoint", dynamo.endpoint);
}

export async function teardown() {
  await dynamo?.stop();
}

declare module "vitest" {
  export interface ProvidedContext {
    dynamoEndpoint: string;
  }
}
