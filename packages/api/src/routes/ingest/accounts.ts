import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import { amount, mergeSignals, newId, Signal, Tier } from "@icp/core";
import {
  type AccountRecord,
  accountTimeline,
  activeIcps,
  decodeCursor,
  eraseAccount,
  getAccount,
  listAccounts,
  publishTierChanges,
  rescoreAccount,
  resolveAccountRef,
  setAccountOutcome,
} from "@icp/store";
import type { Context } from "hono";
import type { AppEnv } from "../../context.js";
import { Problem } from "../../problem.js";
import { AccountSchema, AccountSummarySchema, problemResponses } from "../../schemas.js";

const summary = (a: AccountRecord) => ({
  id: a.id,
  domain: a.domain,
  ...(a.facts.name ? { name: a.facts.name } : {}),
  score: a.score,
  tier: a.tier,
  qualified: a.qualified,
  icpId: a.icpId,
  icpVersion: a.icpVersion,
  segment: a.segment,
  updatedAt: a.updatedAt,
});

const RefParam = z.object({
  ref: z
    .string()
    .min(1)
    .max(300)
    .openapi({ param: { name: "ref", in: "path" }, description: "Account id (acc_…) or domain", example: "acme.com" }),
});

async function load(c: Context<AppEnv>, ref: string): Promise<AccountRecord> {
  const ws = c.get("workspaceId");
  const id = resolveAccountRef(ws, ref);
  const a = id ? await getAccount(c.get("store"), ws, id) : undefined;
  if (!a)
    throw new Problem(
      "not-found",
      id ? `no account ${ref} in this workspace` : `"${ref}" is neither an account id nor a domain`,
    );
  return a;
}

/** Mounted at /v1/accounts. */
export const accountRoutes = new OpenAPIHono<AppEnv>()
  .openapi(
    createRoute({
      method: "get",
      path: "/",
      tags: ["Accounts"],
      summary: "Accounts best first, filtered by tier, ICP and segment",
      request: {
        query: z.object({
          tier: Tier.optional(),
          icp: z.string().max(40).optional(),
          icpVersion: z.coerce.number().int().min(1).optional().describe("With icp: accounts scored by this version"),
          segment: z.string().max(63).optional(),
          limit: z.coerce.number().int().min(1).max(500).default(50),
          cursor: z.string().max(2000).optional(),
        }),
      },
      responses: {
        200: {
          description: "A page",
          content: {
            "application/json": {
              schema: z.object({ items: z.array(AccountSummarySchema), nextCursor: z.string().optional() }),
            },
          },
        },
        ...problemResponses(400, 401),
      },
    }),
    async (c) => {
      const q = c.req.valid("query");
      if (q.cursor && !decodeCursor(q.cursor))
        throw new Problem("validation", "cursor is not one this API returned", [
          { field: "cursor", message: "invalid cursor" },
        ]);
      const page = await listAccounts(
        c.get("store"),
        c.get("workspaceId"),
        {
          ...(q.tier ? { tier: q.tier } : {}),
          ...(q.segment ? { segment: q.segment } : {}),
          ...(q.icp ? { icpId: q.icp } : {}),
          ...(q.icpVersion ? { icpVersion: q.icpVersion } : {}),
        },
        q.limit,
        q.cursor,
      );
      return c.json(
        { items: page.items.map(summary), ...(page.nextCursor ? { nextCursor: page.nextCursor } : {}) },
        200,
      );
    },
  )
  .openapi(
    createRoute({
      method: "get",
      path: "/{ref}",
      tags: ["Accounts"],
      summary: "One account by id or domain: score, tier, breakdown, tier history, contacts",
      request: { params: RefParam },
      responses: {
        200: { description: "Account", content: { "application/json": { schema: AccountSchema } } },
        ...problemResponses(401, 404),
      },
    }),
    async (c) => {
      const a = await load(c, c.req.valid("param").ref);
      const { lastSource: _l, rev: _r, ...rest } = a;
      return c.json({ ...rest, ...summary(a), contacts: a.contacts ?? [] }, 200);
    },
  )
  .openapi(
    createRoute({
      method: "get",
      path: "/{ref}/timeline",
      tags: ["Accounts"],
      summary: "Tier changes and engagement, newest first",
      request: { params: RefParam, query: z.object({ limit: z.coerce.number().int().min(1).max(500).default(100) }) },
      responses: {
        200: {
          description: "Timeline",
          content: { "application/json": { schema: z.object({ items: z.array(z.record(z.string(), z.unknown())) }) } },
        },
        ...problemResponses(401, 404),
      },
    }),
    async (c) => {
      const a = await load(c, c.req.valid("param").ref);
      return c.json(
        { items: await accountTimeline(c.get("store"), c.get("workspaceId"), a, c.req.valid("query").limit) },
        200,
      );
    },
  )
  .openapi(
    createRoute({
      method: "post",
      path: "/{ref}/signals",
      tags: ["Accounts"],
      summary: "Add intent signals (funding, hiring, new sales leader…) and re-score the account now",
      request: {
        params: RefParam,
        body: {
          required: true,
          content: { "application/json": { schema: z.object({ signals: z.array(Signal).min(1).max(50) }) } },
        },
      },
      responses: {
        200: {
          description: "Re-scored",
          content: {
            "application/json": {
              schema: AccountSummarySchema.extend({
                tierChange: z.object({ from: Tier.nullable(), to: Tier }).nullable(),
              }),
            },
          },
        },
        ...problemResponses(400, 401, 404),
      },
    }),
    async (c) => {
      const a = await load(c, c.req.valid("param").ref);
      const { signals } = c.req.valid("json");
      const store = c.get("store");
      const ws = c.get("workspaceId");
      const at = new Date().toISOString();
      const r = await rescoreAccount(store, ws, a, await activeIcps(store, ws), {
        source: `signal:${newId("evt")}`,
        now: Date.parse(at),
        at,
        write: true,
        mutate: (f) => ({ ...f, signals: mergeSignals(f.signals, signals) }),
      });
      if (r.event) await publishTierChanges(store, [r.event]);
      return c.json(
        { ...summary(r.account), tierChange: r.event ? { from: r.event.from, to: r.event.to } : null },
        200,
      );
    },
  )
  .openapi(
    createRoute({
      method: "put",
      path: "/{ref}/outcome",
      tags: ["Accounts"],
      summary: "Record the deal outcome (won/lost) used by backtests and quarterly reviews; null clears it",
      request: {
        params: RefParam,
        body: {
          required: true,
          content: {
            "application/json": {
              schema: z.object({
                outcome: z.enum(["won", "lost"]).nullable(),
                amount: amount().optional(),
                at: z.iso.datetime({ offset: true }).optional().describe("When it was decided (default: now)"),
              }),
            },
          },
        },
      },
      responses: { 204: { description: "Recorded" }, ...problemResponses(400, 401, 404) },
    }),
    async (c) => {
      const a = await load(c, c.req.valid("param").ref);
      const b = c.req.valid("json");
      const outcome = b.outcome
        ? {
            outcome: b.outcome,
            at: b.at ? new Date(b.at).toISOString() : new Date().toISOString(),
            ...(b.amount !== undefined ? { amount: b.amount } : {}),
          }
        : null;
      await setAccountOutcome(c.get("store"), c.get("workspaceId"), a.id, outcome);
      return c.body(null, 204);
    },
  )
  .openapi(
    createRoute({
      method: "delete",
      path: "/{ref}",
      tags: ["Accounts"],
      summary: "Erase an account with its contacts and timeline (data-deletion requests)",
      request: { params: RefParam },
      responses: { 204: { description: "Erased" }, ...problemResponses(401, 403, 404) },
    }),
    async (c) => {
      const a = await load(c, c.req.valid("param").ref);
      await eraseAccount(c.get("store"), c.get("workspaceId"), a.id);
      return c.body(null, 204);
    },
  );
