import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";

const JS = "text/javascript; charset=utf-8";

/**
 * The files the dashboard serves: their name, content type and path in this repository.
 * They are not bundled into the API's code (chart.js alone would add 200 KB to every cold
 * start): the deployed function gets them as files in the `dashboard/` folder of its package
 * (sst.config.ts `copyFiles`, and `npm run build` next to dist/functions/api.mjs), read on
 * first request. Under Node (npm start, tests) they are read where they are in the repository.
 */
export const DASHBOARD_ASSETS = {
  "app.js": { source: "packages/api/src/dashboard/app.js", type: JS },
  "style.css": { source: "packages/api/src/dashboard/style.css", type: "text/css; charset=utf-8" },
  "chart.umd.min.js": { source: "node_modules/chart.js/dist/chart.umd.min.js", type: JS },
} as const;
export type DashboardAssetName = keyof typeof DASHBOARD_ASSETS;

/** Folder of the function package (next to `functions/`) that holds the assets in a deployment. */
export const DASHBOARD_ASSET_DIR = "dashboard";

/** What a deployment copies into the function package: SST's `copyFiles` entries (paths relative to the repository). */
export function dashboardCopyFiles(): { from: string; to: string }[] {
  return Object.entries(DASHBOARD_ASSETS).map(([name, a]) => ({
    from: a.source,
    to: `${DASHBOARD_ASSET_DIR}/${name}`,
  }));
}

/**
 * Where a file is looked for, first found wins:
 * 1. the function package: `$LAMBDA_TASK_ROOT/dashboard/` in Lambda; for a bundle run outside
 *    Lambda (dist/functions/api.mjs), `dashboard/` beside the bundle's folder, as in the package;
 * 2. the repository, from this module's place in it (npm start, tests);
 * 3. the working directory's repository (`sst dev`, which runs bundles without copyFiles).
 */
function candidates(name: DashboardAssetName): string[] {
  const here = import.meta.url;
  const packaged = process.env.LAMBDA_TASK_ROOT
    ? join(process.env.LAMBDA_TASK_ROOT, DASHBOARD_ASSET_DIR)
    : fileURLToPath(new URL(`../${DASHBOARD_ASSET_DIR}/`, here));
  const source = DASHBOARD_ASSETS[name].source;
  return [join(packaged, name), fileURLToPath(new URL(`../../../../${source}`, here)), join(process.cwd(), source)];
}

function load(name: DashboardAssetName): Buffer {
  const tried = candidates(name);
  const file = tried.find((f) => existsSync(f));
  if (!file) throw new Error(`dashboard asset ${name} not found (looked in ${tried.join(", ")})`);
  return gzipSync(readFileSync(file), { level: 9 });
}

export type Asset = { gz: Buffer; type: string; etag: string };
const loaded = new Map<string, Asset>();

/** The asset by file name (compressed, with its content type and ETag), or undefined. */
export function dashboardAsset(name: string): Asset | undefined {
  if (!Object.hasOwn(DASHBOARD_ASSETS, name)) return undefined;
  const key = name as DashboardAssetName;
  let a = loaded.get(key);
  if (!a) {
    const gz = load(key);
    a = {
      gz,
      type: DASHBOARD_ASSETS[key].type,
      etag: `"${createHash("sha256").update(gz).digest("base64url").slice(0, 22)}"`,
    };
    loaded.set(key, a);
  }
  return a;
}
