import { apiSettingsFromEnv, createApp } from "@icp/api";
import { storeFromEnv } from "@icp/store";
import { handle } from "hono/aws-lambda";

/** API Gateway v2 -> the Hono app; its store and settings come from the linked resources. */
export const app = createApp({ store: storeFromEnv, settings: apiSettingsFromEnv });
const toApp = handle(app);

/**
 * Fail closed: while a setting the API needs is missing (the tracking secret, the public URL),
 * every invocation throws `missing settings: …` naming them all, before any request is served.
 */
export const handler: typeof toApp = async (event, context) => {
  apiSettingsFromEnv();
  return toApp(event, context);
};
