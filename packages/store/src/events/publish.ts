/** Accepting events: publishEvents puts them on the EventQueue for the worker (record-events.ts). */
import {
  accountId as domainAccountId,
  type EngagementEventsMessage,
  type EventInput,
  isAccountId,
  newId,
  normalizeDomain,
  type StoredEvent,
} from "@icp/core";
import type { Store } from "../infra/index.js";
import { publish } from "../infra/index.js";

/** Events per queue message, and the byte budget of one message (SQS takes 256 KiB). */
const MAX_EVENTS_PER_MESSAGE = 1000;
const MAX_MESSAGE_BYTES = 200 * 1024;

/**
 * Accept events for a workspace: give each an id (when the caller did not) and a time (when it
 * has none: now), and put them on the EventQueue in messages of up to 1,000. Idempotency is
 * by id, so a caller retrying with the same ids is safe.
 */
export async function publishEvents(
  store: Store,
  ws: string,
  events: readonly EventInput[],
): Promise<{ accepted: number; ids: string[] }> {
  const now = new Date().toISOString();
  const resolved: StoredEvent[] = events.map((e) => ({
    ...e,
    id: e.id ?? newId("evt"),
    at: e.at ? new Date(e.at).toISOString() : now,
  }));
  const messages: EngagementEventsMessage[] = [];
  let batch: StoredEvent[] = [];
  let bytes = 0;
  for (const e of resolved) {
    const size = Buffer.byteLength(JSON.stringify(e)) + 1;
    if (batch.length && (batch.length >= MAX_EVENTS_PER_MESSAGE || bytes + size > MAX_MESSAGE_BYTES)) {
      messages.push({ kind: "engagement-events", workspaceId: ws, events: batch });
      batch = [];
      bytes = 0;
    }
    batch.push(e);
    bytes += size;
  }
  if (batch.length) messages.push({ kind: "engagement-events", workspaceId: ws, events: batch });
  await publish(store, "EventQueue", messages);
  return { accepted: resolved.length, ids: resolved.map((e) => e.id) };
}

/** The account an event names (by id, or by domain), or undefined when it names none validly. */
export function eventAccountId(ws: string, e: Pick<EventInput, "accountId" | "domain">): string | undefined {
  if (e.accountId) return isAccountId(e.accountId) ? e.accountId : undefined;
  const d = e.domain ? normalizeDomain(e.domain) : undefined;
  return d ? domainAccountId(ws, d) : undefined;
}
