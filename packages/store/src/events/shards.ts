/** How event keys are spread over shards: the per-day event index and the counters. */
import { createHash } from "node:crypto";

/** Shards of the per-day event index and of the counters (spreads hot keys). */
export const EVENT_DAY_SHARDS = 4;
export const COUNTER_SHARDS = 4;

export const hash = (s: string) => createHash("sha256").update(s).digest("hex");
export const shardOf = (s: string, n: number) => Number.parseInt(hash(s).slice(0, 8), 16) % n;
