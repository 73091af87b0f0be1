import { z } from "@hono/zod-openapi";
import { EventInput } from "@icp/core";
import { eventAccountId } from "@icp/store";
import { type FieldError, Problem } from "../../problem.js";

export const MAX_EVENTS_PER_REQUEST = 1000;

/** What POST /v1/events and the signed webhook answer. */
export const Accepted = z.object({ accepted: z.number().int(), ids: z.array(z.string()) });

/**
 * Validate one event or an array of them (also `{events: [...]}`). Shape errors are 400 and
 * semantic ones (an account reference that can name no account) 422, each naming the event's
 * index and field (`3.type`); nothing is accepted unless every event is valid.
 */
export function parseEvents(body: unknown, ws: string): EventInput[] {
  const wrapped = body !== null && typeof body === "object" && !Array.isArray(body) && "events" in body;
  const list = wrapped ? (body as { events: unknown }).events : body;
  const many = Array.isArray(list);
  const arr: unknown[] = many ? (list as unknown[]) : [list];
  const prefix = (i: number) => (wrapped ? `events.${i}` : many ? `${i}` : "");
  const name = (i: number, path: readonly PropertyKey[]) =>
    [prefix(i), ...path.map(String)].filter(Boolean).join(".") || "body";
  if (!arr.length)
    throw new Problem("validation", "no events", [{ field: wrapped ? "events" : "body", message: "empty" }]);
  if (arr.length > MAX_EVENTS_PER_REQUEST)
    throw new Problem("validation", `at most ${MAX_EVENTS_PER_REQUEST} events per request, got ${arr.length}`, [
      { field: wrapped ? "events" : "body", message: `more than ${MAX_EVENTS_PER_REQUEST} events` },
    ]);
  const errors: FieldError[] = [];
  const out: EventInput[] = [];
  arr.forEach((raw, i) => {
    const r = EventInput.safeParse(raw);
    if (!r.success) {
      for (const issue of r.error.issues) errors.push({ field: name(i, issue.path), message: issue.message });
      return;
    }
    out.push(r.data);
  });
  if (errors.length)
    throw new Problem("validation", `${errors[0]?.field}: ${errors[0]?.message}`, errors.slice(0, 100));
  const semantic: FieldError[] = [];
  out.forEach((e, i) => {
    if (!eventAccountId(ws, e))
      semantic.push({
        field: name(i, [e.accountId ? "accountId" : "domain"]),
        message: e.accountId ? "not an account id (acc_…)" : "not a valid domain",
      });
  });
  if (semantic.length)
    throw new Problem("unprocessable", `${semantic[0]?.field}: ${semantic[0]?.message}`, semantic.slice(0, 100));
  return out;
}
