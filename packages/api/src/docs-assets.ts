import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

/**
 * The files /docs serves, from the swagger-ui-dist package. Like the dashboard's, they are not
 * bundled into the API's code: the deployed function gets them as files in the `docs/` folder of
 * its package (sst.config.ts `copyFiles` and `npm run build` use docsCopyFiles), read on first
 * request; under Node (npm start, tests) they are read from node_modules.
 */
const JS = "text/javascript; charset=utf-8";
export const DOCS_ASSETS = {
  "swagger-ui.css": { source: "node_modules/swagger-ui-dist/swagger-ui.css", type: "text/css; charset=utf-8" },
  "swagger-ui-bundle.js": { source: "node_modules/swagger-ui-dist/swagger-ui-bundle.js", type: JS },
} as const;
export type DocsAssetName = keyof typeof DOCS_ASSETS;

/** Folder of the function package (next to `functions/`) that holds the assets in a deployment. */
export const DOCS_ASSET_DIR = "docs";

/** What a deployment copies into the function package: SST's `copyFiles` entries (paths relative to the repository). */
export function docsCopyFiles(): { from: string; to: string }[] {
  return Object.entries(DOCS_ASSETS).map(([name, a]) => ({ from: a.source, to: `${DOCS_ASSET_DIR}/${name}` }));
}

/**
 * Where a file is looked for, first found wins: the function package (`$LAMBDA_TASK_ROOT/docs/`,
 * or `docs/` beside a bundle's folder), the repository from this module's place in it (npm start,
 * tests), the working directory's repository (`sst dev`).
 */
function locate(name: DocsAssetName): string | undefined {
  const here = import.meta.url;
  const packaged = process.env.LAMBDA_TASK_ROOT
    ? join(process.env.LAMBDA_TASK_ROOT, DOCS_ASSET_DIR)
    : fileURLToPath(new URL(`../${DOCS_ASSET_DIR}/`, here));
  const source = DOCS_ASSETS[name].source;
  const tried = [join(packaged, name), fileURLToPath(new URL(`../../../${source}`, here)), join(process.cwd(), source)];
  return tried.find((f) => existsSync(f));
}

const loaded = new Map<DocsAssetName, Buffer>();

/** The file's bytes, or undefined when it is not deployed. */
export async function docsAsset(name: DocsAssetName): Promise<Buffer | undefined> {
  let body = loaded.get(name);
  if (!body) {
    const file = locate(name);
    if (!file) return undefined;
    body = await readFile(file);
    loaded.set(name, body);
  }
  return body;
}
