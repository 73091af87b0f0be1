import { API_SETTINGS, requireSettings, type Settings } from "@icp/store";

/**
 * The API's configuration. Linked settings (tracking secret, public URL) come from @icp/store's
 * config module like every other linked value; the two load-shedding knobs are the API's own.
 */
export type ApiSettings = Pick<Settings, (typeof API_SETTINGS)[number]>;

/** The tracking secret and public URL, or `missing settings: …` (fail closed). */
export const apiSettingsFromEnv = (): ApiSettings => requireSettings(API_SETTINGS);

export type ApiLimits = {
  /** Requests in flight per process before answering 503. */
  maxInFlight: number;
  /** Sustained event-loop lag (ms) before answering 503. */
  maxLagMs: number;
};

export function apiLimitsFromEnv(env: NodeJS.ProcessEnv = process.env): ApiLimits {
  return { maxInFlight: Number(env.ICP_MAX_IN_FLIGHT ?? 512), maxLagMs: Number(env.ICP_MAX_LAG_MS ?? 1000) };
}
