import { z } from "@hono/zod-openapi";
import { AccountInput, IcpDefinition } from "@icp/core";

export const IdParam = z.object({
  id: z
    .string()
    .regex(/^icp_[0-9A-Z]{26}$/, "not an ICP id")
    .openapi({ param: { name: "id", in: "path" } }),
});
export const VersionParam = IdParam.extend({
  version: z.coerce
    .number()
    .int()
    .min(1)
    .openapi({ param: { name: "version", in: "path" } }),
});
export const BacktestBody = z
  .object({
    version: z.number().int().min(1).optional().describe("Version to test (default: the active one)"),
    definition: IcpDefinition.optional().describe("An unsaved definition to test instead"),
    source: z
      .enum(["accounts", "history"])
      .default("accounts")
      .describe("history: the workspace's accounts with an outcome"),
    accounts: z
      .array(z.intersection(AccountInput, z.object({ outcome: z.enum(["won", "lost"]) })))
      .max(100_000)
      .optional(),
  })
  .refine((b) => b.source === "history" || (b.accounts?.length ?? 0) > 0, {
    message: "give accounts with outcomes, or source: history",
    path: ["accounts"],
  });
