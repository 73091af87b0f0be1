import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import { Tier, toCsv } from "@icp/core";
import {
  countAccountsByTier,
  coverageWarnings,
  defaultRange,
  engagementReport,
  funnelReport,
  GROUP_BY,
  icpLiftReport,
  recentActivity,
  variantReport,
} from "@icp/store";
import type { AppEnv } from "../../context.js";
import { Problem } from "../../problem.js";
import { problemResponses } from "../../schemas.js";

const Day = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, "a date YYYY-MM-DD")
  .refine(
    (s) => !Number.isNaN(Date.parse(`${s}T00:00:00Z`)) && new Date(`${s}T00:00:00Z`).toISOString().startsWith(s),
    {
      message: "not a calendar date",
    },
  );

const Filters = z.object({
  from: Day.optional().describe("First day (UTC, inclusive); default 89 days before `to`"),
  to: Day.optional().describe("Last day (UTC, inclusive); default today"),
  icpId: z.string().min(1).max(40).optional(),
  segment: z.string().min(1).max(100).optional(),
});

function range(q: z.infer<typeof Filters>) {
  const d = defaultRange(q.to ? Date.parse(`${q.to}T00:00:00Z`) : Date.now());
  const from = q.from ?? d.from;
  const to = q.to ?? d.to;
  if (from > to)
    throw new Problem("validation", "from is after to", [{ field: "query.from", message: "must not be after `to`" }]);
  return {
    from,
    to,
    ...(q.icpId ? { icpId: q.icpId } : {}),
    ...(q.segment ? { segment: q.segment } : {}),
  };
}

const Row = z.record(z.string(), z.unknown());
const json = (description: string) => ({
  description,
  content: { "application/json": { schema: Row } },
});

export const ENGAGEMENT_CSV_COLUMNS = [
  "group",
  "accountsReached",
  "sent",
  "accountsSent",
  "opened",
  "clicked",
  "replied",
  "meetings",
  "opportunities",
  "won",
  "revenue",
  "events",
  "openRate",
  "clickRate",
  "replyRate",
  "meetingRate",
  "winRate",
] as const;

const TierCounts = z.object(
  Object.fromEntries(Tier.options.map((t) => [t, z.number().int()])) as Record<Tier, z.ZodNumber>,
);
const CoverageWarningSchema = z
  .object({
    source: z.enum(["icp", "import"]),
    id: z.string(),
    name: z.string(),
    version: z.number().int().optional(),
    at: z.string().optional(),
    accounts: z.number().int(),
    qualified: z.number().int(),
    share: z.number().nullable(),
    warning: z.enum(["too-broad", "too-narrow"]).nullable(),
    message: z.string(),
  })
  .openapi("CoverageWarning");

const ActivitySchema = z
  .object({
    id: z.string(),
    type: z.string(),
    at: z.string(),
    accountId: z.string(),
    account: z
      .object({ domain: z.string(), name: z.string().optional(), tier: Tier, segment: z.string() })
      .nullable()
      .describe("The account as it is now; null when it was deleted since"),
    contactId: z.string().optional(),
    sequenceId: z.string().optional(),
    stepId: z.string().optional(),
    channel: z.string().optional(),
    variant: z.string().optional(),
    amount: z.number().optional(),
  })
  .openapi("Activity");

/** Mounted at /v1/reports. */
export const reportRoutes = new OpenAPIHono<AppEnv>()
  .openapi(
    createRoute({
      method: "get",
      path: "/engagement",
      tags: ["Reports"],
      summary: "Engagement by segment, tier, ICP, sequence, step, channel or A/B variant (JSON or CSV)",
      description:
        "Read from pre-aggregated counters (never from the events). Rates are per account reached: an account counts once per group. The totals row is the sum of the groups.",
      request: {
        query: Filters.extend({
          groupBy: z.enum(GROUP_BY).default("segment"),
          format: z.enum(["json", "csv"]).default("json"),
        }),
      },
      responses: {
        200: {
          description: "Report",
          content: { "application/json": { schema: Row }, "text/csv": { schema: z.string() } },
        },
        ...problemResponses(400, 401),
      },
    }),
    async (c) => {
      const q = c.req.valid("query");
      const r = await engagementReport(c.get("store"), c.get("workspaceId"), { ...range(q), groupBy: q.groupBy });
      if (q.format === "csv")
        return c.body(toCsv(ENGAGEMENT_CSV_COLUMNS, [...r.groups, r.totals]), 200, {
          "content-type": "text/csv; charset=utf-8",
          "content-disposition": `attachment; filename="engagement-by-${q.groupBy}-${r.from}-${r.to}.csv"`,
        });
      return c.json(r, 200);
    },
  )
  .openapi(
    createRoute({
      method: "get",
      path: "/icp-lift",
      tags: ["Reports"],
      summary: "ICP vs non-ICP conversion, its band (below 2x / 2x / 3-4x / 5x+), cycle and deal size by tier",
      request: { query: Filters },
      responses: { 200: json("Report"), ...problemResponses(400, 401) },
    }),
    async (c) => c.json(await icpLiftReport(c.get("store"), c.get("workspaceId"), range(c.req.valid("query"))), 200),
  )
  .openapi(
    createRoute({
      method: "get",
      path: "/variants",
      tags: ["Reports"],
      summary: "A/B variants per sequence step with a two-proportion z-test (winner when p < 0.05)",
      request: { query: Filters },
      responses: { 200: json("Report"), ...problemResponses(400, 401) },
    }),
    async (c) =>
      c.json({ items: await variantReport(c.get("store"), c.get("workspaceId"), range(c.req.valid("query"))) }, 200),
  )
  .openapi(
    createRoute({
      method: "get",
      path: "/funnel",
      tags: ["Reports"],
      summary: "Step funnel per sequence: accounts sent → opened → clicked → replied",
      request: { query: Filters.extend({ sequenceId: z.string().min(1).max(100).optional() }) },
      responses: { 200: json("Report"), ...problemResponses(400, 401) },
    }),
    async (c) => {
      const q = c.req.valid("query");
      const items = await funnelReport(c.get("store"), c.get("workspaceId"), {
        ...range(q),
        ...(q.sequenceId ? { sequenceId: q.sequenceId } : {}),
      });
      return c.json({ items }, 200);
    },
  )
  .openapi(
    createRoute({
      method: "get",
      path: "/tiers",
      tags: ["Reports"],
      summary: "Accounts per tier (counted by the tier index) and the ICP coverage warnings",
      description:
        "Coverage is the share of accounts that qualify: a warning above 50% (too broad: a good ICP excludes 70-80%) or under 5% (too narrow). Listed per active ICP version (from its last full re-scoring) and for the latest completed import.",
      request: {
        query: z.object({
          icpId: z.string().max(40).optional(),
          segment: z.string().max(63).optional(),
        }),
      },
      responses: {
        200: {
          description: "Tier counts and coverage",
          content: {
            "application/json": {
              schema: z.object({
                tiers: TierCounts,
                total: z.number().int(),
                coverage: z.array(CoverageWarningSchema),
              }),
            },
          },
        },
        ...problemResponses(400, 401),
      },
    }),
    async (c) => {
      const q = c.req.valid("query");
      const store = c.get("store");
      const ws = c.get("workspaceId");
      const [tiers, warnings] = await Promise.all([
        countAccountsByTier(store, ws, {
          ...(q.icpId ? { icpId: q.icpId } : {}),
          ...(q.segment ? { segment: q.segment } : {}),
        }),
        coverageWarnings(store, ws),
      ]);
      const total = Object.values(tiers).reduce((a, b) => a + b, 0);
      return c.json({ tiers, total, coverage: warnings }, 200);
    },
  )
  .openapi(
    createRoute({
      method: "get",
      path: "/activity",
      tags: ["Reports"],
      summary:
        "The workspace's latest engagement events across accounts, newest first, with each account's name and tier",
      request: {
        query: z.object({
          limit: z.coerce.number().int().min(1).max(200).default(30),
          days: z.coerce.number().int().min(1).max(90).default(14).describe("How many days back to look"),
        }),
      },
      responses: {
        200: {
          description: "Recent activity",
          content: { "application/json": { schema: z.object({ items: z.array(ActivitySchema) }) } },
        },
        ...problemResponses(400, 401),
      },
    }),
    async (c) => {
      const q = c.req.valid("query");
      return c.json({ items: await recentActivity(c.get("store"), c.get("workspaceId"), q) }, 200);
    },
  );
