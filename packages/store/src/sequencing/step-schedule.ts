/** When steps fall due: the steps of a sequence version (immutable, so cached), their delay, then the window. */
import { addDelay, type Delay, nextWindowOpening, type SendingWindow } from "@icp/core";
import type { Store } from "../infra/index.js";
import { getSequence, getSequenceVersion } from "./sequences.js";

export type SeqSteps = { version: number; steps: { id: string; delay: Delay }[] };
const versionCache = new Map<string, SeqSteps>();

export async function sequenceSteps(
  store: Store,
  ws: string,
  sequenceId: string,
  version?: number,
): Promise<SeqSteps | undefined> {
  const key = `${store.cfg.tableName}|${ws}|${sequenceId}|${version}`;
  if (version !== undefined) {
    const hit = versionCache.get(key);
    if (hit) return hit;
  }
  const seq =
    version === undefined
      ? await getSequence(store, ws, sequenceId)
      : await getSequenceVersion(store, ws, sequenceId, version);
  if (!seq) return undefined;
  const out: SeqSteps = {
    version: seq.version,
    steps: seq.steps.map((s) => ({ id: s.id, delay: s.delay ?? { amount: 0, unit: "minutes" } })),
  };
  if (versionCache.size > 5000) versionCache.clear();
  versionCache.set(`${store.cfg.tableName}|${ws}|${sequenceId}|${out.version}`, out);
  return out;
}

/** When step `index` is due if the previous one finished at `from`: its delay, then the window. */
export function dueAfter(from: Date, delay: Delay, window: SendingWindow, tz: string, seed: string): Date {
  return nextWindowOpening(addDelay(from, delay, window, tz), window, tz, seed);
}

export const windowIn = (settings: SendingWindow, tz: string): SendingWindow => ({ ...settings, timezone: tz });
