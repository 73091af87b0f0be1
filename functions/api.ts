import { createApp } from "@icp/api";
import { storeFromEnv } from "@icp/store";
import { handle } from "hono/aws-lambda";

/** API Gateway v2 -> the Hono app. */
export const app = createApp({ store: storeFromEnv });
export const handler = handle(app);
