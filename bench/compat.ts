/**
 * The store functions the benches use to build "the items the ingest writes", whichever shape
 * they have right now: @icp/store changed while these benches were written (nextAccountState
 * lost its `ws` parameter; contacts moved from their own items into the account item).
 */
import type { AccountInput, CompiledIcp, Contact } from "@icp/core";
import type { AccountRecord } from "@icp/store";
import * as store from "@icp/store";

type AnyFn = (...args: unknown[]) => unknown;
const fn = (name: string): AnyFn | undefined => {
  const f = (store as Record<string, unknown>)[name];
  return typeof f === "function" ? (f as AnyFn) : undefined;
};

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
  const f = store.nextAccountState as unknown as AnyFn;
  return (
    f.length >= 8 ? f(ws, id, prev, row, icps, now, source, at) : f(id, prev, row, icps, now, source, at)
  ) as AccountRecord;
}

/** Separate contact items, when the store still writes them (none when contacts live in the account item). */
export function contactItems(
  ws: string,
  id: string,
  contacts: readonly Contact[],
  persona: (c: Contact) => string | undefined,
): Record<string, unknown>[] {
  const f = fn("contactItem");
  return f ? contacts.map((c) => f(ws, id, c, persona(c)) as Record<string, unknown>) : [];
}
