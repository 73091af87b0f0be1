import type { AccountInput, CompiledIcp } from "@icp/core";
import { type AccountRecord, nextAccountState } from "@icp/store";

/**
 * `nextAccountState` of @icp/store, whichever signature it has right now: it lost its
 * leading `ws` parameter while these benches were written (other files change concurrently).
 */
export function nextState(
  ws: string,
  id: string,
  prev: AccountRecord | undefined,
  row: AccountInput,
  icps: readonly CompiledIcp[],
  now: number,
  source: string,
  at: string,
): AccountRecord {
  const f = nextAccountState as unknown as (...args: unknown[]) => AccountRecord;
  return f.length >= 8 ? f(ws, id, prev, row, icps, now, source, at) : f(id, prev, row, icps, now, source, at);
}
