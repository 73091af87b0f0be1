import { z } from "@hono/zod-openapi";
import { IcpDefinition, Tier } from "@icp/core";

export const ProblemSchema = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.number(),
    detail: z.string(),
    instance: z.string().optional(),
    errors: z.array(z.object({ field: z.string(), message: z.string(), line: z.number().optional() })).optional(),
  })
  .openapi("Problem");

export const problemResponses = (...codes: number[]) =>
  Object.fromEntries(
    codes.map((code) => [
      code,
      { description: "Problem", content: { "application/problem+json": { schema: ProblemSchema } } },
    ]),
  );

const CoverageSchema = z
  .object({
    accounts: z.number().int(),
    qualified: z.number().int(),
    share: z.number().nullable(),
    warning: z.enum(["too-broad", "too-narrow"]).nullable(),
    message: z.string(),
    at: z.string().optional(),
  })
  .openapi("Coverage");

const ChangeSchema = z.object({
  op: z.enum(["added", "removed", "changed"]),
  path: z.string().describe("e.g. criteria.size.points"),
  from: z.unknown().optional(),
  to: z.unknown().optional(),
});

export const IcpSchema = z
  .intersection(
    IcpDefinition,
    z.object({
      id: z.string(),
      version: z.number().int().describe("The active version: the one that scores accounts"),
      latestVersion: z.number().int().describe("The newest saved version (may be an inactive draft)"),
      createdAt: z.string(),
      updatedAt: z.string(),
      activatedAt: z.string(),
      activatedBy: z.string(),
      coverage: CoverageSchema.optional().describe(
        "Share of accounts the active version qualifies (after its re-scoring)",
      ),
      versionAgeDays: z.number().int(),
      reviewDue: z.boolean().describe("True when the active version is older than 90 days"),
      rescoreId: z.string().optional().describe("The background re-scoring this change started"),
      savedVersion: z.number().int().optional(),
      changes: z.array(ChangeSchema).optional(),
    }),
  )
  .openapi("Icp");

export const RescoreSchema = z
  .object({
    id: z.string(),
    status: z.enum(["running", "completed"]),
    dryRun: z.boolean(),
    reason: z.string(),
    icpId: z.string().optional(),
    icpVersion: z.number().optional(),
    at: z.string(),
    shards: z.number().int(),
    shardsDone: z.number().int(),
    processed: z.number().int().describe("Accounts re-scored so far"),
    changed: z.number().int().describe("Accounts whose score or explanation changed"),
    qualified: z.number().int(),
    transitions: z.record(z.string(), z.number()).describe('Counts per tier transition, e.g. "nurture->priority"'),
    samples: z.record(z.string(), z.array(z.record(z.string(), z.unknown()))),
    coverage: CoverageSchema.optional(),
    createdAt: z.string(),
    updatedAt: z.string(),
    completedAt: z.string().optional(),
  })
  .openapi("Rescore");

export const IcpVersionSchema = z
  .object({
    id: z.string(),
    version: z.number().int(),
    definition: IcpDefinition,
    createdAt: z.string(),
    createdBy: z.string(),
    changes: z.array(ChangeSchema).describe("What changed against the previous version"),
    coverage: CoverageSchema.optional(),
  })
  .openapi("IcpVersion");

export const RowErrorSchema = z
  .object({ line: z.number().int(), field: z.string(), message: z.string() })
  .openapi("RowError");

export const ImportSchema = z
  .object({
    id: z.string(),
    status: z.enum(["queued", "processing", "completed", "failed"]),
    format: z.enum(["csv", "json"]),
    filename: z.string().optional(),
    total: z.number().int().describe("Data rows in the upload"),
    accepted: z.number().int().describe("Rows ingested so far"),
    rejected: z.number().int().describe("Rows refused (see errors)"),
    accounts: z.number().int().describe("Distinct accounts (domains) in the accepted rows"),
    chunks: z.number().int(),
    chunksDone: z.number().int(),
    progress: z.number().describe("0..1"),
    accountsDone: z.number().int().optional(),
    qualified: z.number().int().optional().describe("Ingested accounts that qualify against an active ICP"),
    coverage: z
      .record(z.string(), z.unknown())
      .optional()
      .describe("Share of ingested accounts that qualify, with warning too-broad (>50%) or too-narrow (<5%)"),
    createdAt: z.string(),
    updatedAt: z.string(),
    completedAt: z.string().optional(),
    failure: z.string().optional(),
    errors: z.array(RowErrorSchema).optional(),
    errorsNextCursor: z.string().optional(),
  })
  .openapi("Import");

const BreakdownLineSchema = z.object({
  criterion: z.string(),
  label: z.string().optional(),
  kind: z.string(),
  mandatory: z.boolean(),
  matched: z.boolean(),
  value: z.unknown().optional(),
  points: z.number(),
});

const TierHistorySchema = z.object({
  eventId: z.string(),
  from: Tier.nullable(),
  to: Tier,
  score: z.number(),
  icpId: z.string().nullable(),
  icpVersion: z.number().nullable(),
  at: z.string(),
  source: z.string(),
});

export const AccountSummarySchema = z
  .object({
    id: z.string(),
    domain: z.string(),
    name: z.string().optional(),
    score: z.number(),
    tier: Tier,
    qualified: z.boolean(),
    icpId: z.string().nullable(),
    icpVersion: z.number().nullable(),
    segment: z.string(),
    updatedAt: z.string(),
  })
  .openapi("AccountSummary");

export const AccountSchema = AccountSummarySchema.extend({
  facts: z.record(z.string(), z.unknown()),
  breakdown: z.array(BreakdownLineSchema),
  disqualifiedBy: z.object({ id: z.string(), reason: z.string(), value: z.unknown().optional() }).optional(),
  tierHistory: z.array(TierHistorySchema),
  contacts: z.array(z.record(z.string(), z.unknown())),
  createdAt: z.string(),
}).openapi("Account");
