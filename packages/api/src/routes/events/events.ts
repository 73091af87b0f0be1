import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import type { EventInput } from "@icp/core";
import { eventAccountId, existingAccountIds, publishEvents, type Store } from "@icp/store";
import type { Context } from "hono";
import type { AppEnv } from "../../context.js";
import { type FieldError, Problem } from "../../problem.js";
import { problemResponses } from "../../schemas.js";
import { Accepted, parseEvents } from "./payload.js";

/**
 * Every event must name an account of this workspace: an unknown (or another workspace's)
 * account gets 404 naming each event, and nothing is accepted, like any other invalid event.
 */
async function requireKnownAccounts(store: Store, ws: string, events: readonly EventInput[]): Promise<void> {
  const ids = events.map((e) => eventAccountId(ws, e) as string);
  const known = await existingAccountIds(store, ws, ids);
  const missing: FieldError[] = [];
  ids.forEach((id, i) => {
    if (!known.has(id))
      missing.push({
        field:
          events.length === 1
            ? events[i]?.accountId
              ? "accountId"
              : "domain"
            : `${i}.${events[i]?.accountId ? "accountId" : "domain"}`,
        message: "no such account in this workspace",
      });
  });
  if (missing.length)
    throw new Problem(
      "not-found",
      `${missing.length} of ${events.length} event(s) name an account that does not exist here (${missing[0]?.field})`,
      missing.slice(0, 100),
    );
}

async function jsonBody(c: Context<AppEnv>): Promise<unknown> {
  try {
    return await c.req.json();
  } catch (e) {
    throw new Problem("validation", `body is not valid JSON: ${(e as Error).message}`, [
      { field: "body", message: "invalid JSON" },
    ]);
  }
}

/** Mounted at /v1/events, behind the API key. */
export const eventRoutes = new OpenAPIHono<AppEnv>().openapi(
  createRoute({
    method: "post",
    path: "/",
    tags: ["Engagement"],
    summary: "Record engagement events (one or an array of up to 1,000); processed in the background",
    description:
      "Idempotent by `id`: an event with an id already recorded counts once. Events name their account by `accountId` or `domain`; events for accounts that do not exist are dropped by the worker (and counted in its metrics). `at` defaults to now; late and out-of-order events are fine.",
    request: {
      body: {
        required: true,
        description:
          "One EventInput, an array of up to 1,000, or {events: [...]} (validated by the handler, so errors name index and field)",
        content: { "application/json": { schema: z.unknown() } },
      },
    },
    responses: {
      202: { description: "Accepted", content: { "application/json": { schema: Accepted } } },
      ...problemResponses(400, 401, 404, 413, 422),
    },
  }),
  async (c) => {
    const ws = c.get("workspaceId");
    const events = parseEvents(await jsonBody(c), ws);
    await requireKnownAccounts(c.get("store"), ws, events);
    return c.json(await publishEvents(c.get("store"), ws, events), 202);
  },
);
