/**
 * Create a workspace and an API key for it in a deployed stage (the local stack seeds its own).
 * `sst shell` gives the command the stage's linked resources (SST_RESOURCE_*) and AWS creds:
 *
 *   npx sst shell --stage prod -- npx tsx scripts/create-workspace.ts acme "Acme Inc"
 *
 * Prints the key once; only its hash is stored. Running it again adds another key.
 */
import { randomBytes } from "node:crypto";
import { fileURLToPath } from "node:url";
import { ensureWorkspace, putApiKey, type Store, storeFromEnv } from "@icp/store";

/** Workspace ids become key prefixes (`W#<id>`), so they are kept to a safe alphabet. */
const ID = /^[a-z0-9][a-z0-9-]{1,39}$/;

export async function createWorkspace(store: Store, id: string, name: string): Promise<string> {
  if (!ID.test(id)) throw new Error(`workspace id "${id}" must match ${ID}`);
  await ensureWorkspace(store, id, name);
  const key = `icp_${randomBytes(24).toString("base64url")}`;
  await putApiKey(store, id, key, `created by scripts/create-workspace.ts on ${new Date().toISOString()}`);
  return key;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const [id, name] = process.argv.slice(2);
  if (!id) {
    console.error("usage: npx sst shell --stage <stage> -- npx tsx scripts/create-workspace.ts <id> [name]");
    process.exit(1);
  }
  try {
    const key = await createWorkspace(storeFromEnv(), id, name ?? id);
    console.log(`workspace ${id}\nAPI key   ${key}   (shown once; use it as --key or ICP_API_KEY)`);
  } catch (e) {
    console.error(`error: ${(e as Error).message}`);
    process.exit(1);
  }
}
