import { DEMO_ICP, demoAccountsCsv, IcpDefinition, parseCsv } from "@icp/core";
import { createIcp, ensureWorkspace, listIcps, listImports, putApiKey, type Store, submitImport } from "@icp/store";

export const DEMO_WORKSPACE = "demo";
export const DEMO_ACCOUNTS = 300;

/**
 * First start: the demo workspace, its API key, the seeds' example ICP and a demo account
 * list (imported through the same queue as any upload). Later starts with --persist find
 * them and add nothing.
 */
export async function seedDemo(store: Store, apiKey: string): Promise<{ icpCreated: boolean; importId?: string }> {
  await ensureWorkspace(store, DEMO_WORKSPACE, "Demo workspace");
  await putApiKey(store, DEMO_WORKSPACE, apiKey, "local demo key");
  const icpCreated = (await listIcps(store, DEMO_WORKSPACE)).length === 0;
  if (icpCreated) await createIcp(store, DEMO_WORKSPACE, IcpDefinition.parse(DEMO_ICP), "seed");
  if ((await listImports(store, DEMO_WORKSPACE, 1)).length > 0) return { icpCreated };
  const parsed = parseCsv(demoAccountsCsv(DEMO_ACCOUNTS), new Date());
  const { job } = await submitImport(store, DEMO_WORKSPACE, parsed, {
    format: "csv",
    filename: "demo-accounts.csv",
    idempotencyKey: "demo-seed",
  });
  return { icpCreated, importId: job.id };
}
