import { createApp } from "@icp/api";
import { API_SETTINGS, requireSettings, storeFromEnv } from "@icp/store";
import { handle } from "hono/aws-lambda";

/** API Gateway v2 -> the Hono app. */
export const app = createApp({ store: storeFromEnv });
const toApp = handle(app);

/**
 * Fail closed: while a setting the API needs is missing (the tracking secret, the public URL),
 * every invocation throws `missing settings: …` naming them all, before any request is served.
 */
export const handler: typeof toApp = async (event, context) => {
  requireSettings(API_SETTINGS);
  return toApp(event, context);
};
