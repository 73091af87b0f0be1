import type { Store } from "@icp/store";
import type { ApiSettings } from "./config.js";

export type AppDeps = {
  /** The store for this request; a function so Lambda builds it lazily from linked resources. */
  store: () => Store;
  /** Tracking secret and public URL, read when a tracking link is served (default: the linked settings). */
  settings?: () => ApiSettings;
  /** Requests in flight per process before answering 503 (default ICP_MAX_IN_FLIGHT or 512). */
  maxInFlight?: number;
  /** Sustained event-loop lag (ms) before answering 503 (default ICP_MAX_LAG_MS or 1000). */
  maxLagMs?: number;
};

export type AppEnv = {
  Variables: {
    workspaceId: string;
    /** Who is acting, for version history: `key:<label of the API key>`. */
    actor: string;
    apiKeyId: string;
    requestId: string;
    store: Store;
    settings: () => ApiSettings;
  };
};
