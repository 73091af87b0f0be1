import { Tier } from "@icp/core";
import { intOption, type Values } from "../args.js";
import type { Client } from "../client.js";
import { formatTable } from "../table.js";

export const accountsOptions = {
  tier: { type: "string" },
  segment: { type: "string" },
  limit: { type: "string" },
} as const;

export type AccountSummary = {
  id: string;
  domain: string;
  name?: string;
  score: number;
  tier: string;
  qualified: boolean;
  segment: string;
};
type Page = { items: AccountSummary[]; nextCursor?: string };

/** The API pages at most 500 accounts; follow cursors until `limit` accounts (or the end). */
export async function listAccounts(client: Client, filter: { tier?: string; segment?: string }, limit: number) {
  const items: AccountSummary[] = [];
  let cursor: string | undefined;
  do {
    const page = await client.request<Page>("/v1/accounts", {
      query: { ...filter, limit: Math.min(500, limit - items.length), cursor },
      retry: true,
    });
    items.push(...page.items);
    cursor = page.nextCursor;
  } while (cursor && items.length < limit);
  return items.slice(0, limit);
}

/**
 * Accounts per tier, by listing each tier to the end. One request per 500 accounts: fine for the
 * list sizes a CLI user imports, and it needs no counting endpoint.
 */
export async function countByTier(client: Client): Promise<Map<Tier, { accounts: number; qualified: number }>> {
  const counts = new Map<Tier, { accounts: number; qualified: number }>();
  for (const tier of Tier.options) {
    const items = await listAccounts(client, { tier }, Number.POSITIVE_INFINITY);
    counts.set(tier, { accounts: items.length, qualified: items.filter((a) => a.qualified).length });
  }
  return counts;
}

export async function accountsCommand(client: Client, values: Values): Promise<number> {
  const tier = values.tier as string | undefined;
  const segment = values.segment as string | undefined;
  const limit = intOption(values, "limit", 50);
  const items = await listAccounts(client, { ...(tier ? { tier } : {}), ...(segment ? { segment } : {}) }, limit);
  if (items.length === 0) {
    process.stderr.write("no accounts match\n");
    return 0;
  }
  const rows = items.map((a) => [a.domain, a.name ?? "", a.score, a.tier, a.qualified ? "yes" : "no", a.segment]);
  process.stdout.write(formatTable(["domain", "name", "score", "tier", "qualified", "segment"], rows));
  return 0;
}
