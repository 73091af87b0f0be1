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

export const IcpSchema = z
  .intersection(
    IcpDefinition,
    z.object({ id: z.string(), version: z.number().int(), createdAt: z.string(), updatedAt: z.string() }),
  )
  .openapi("Icp");

export const IcpVersionSchema = z
  .object({
    id: z.string(),
    version: z.number().int(),
    definition: IcpDefinition,
    createdAt: z.string(),
    createdBy: z.string(),
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
