// How the Lambda bundles are built, shared by scripts/build.ts (what bench/bundles.ts measures)
// and sst.config.ts (what `sst deploy` ships; SST loads this file's default export as esbuild
// plugins through `nodejs.plugins`), so both produce the same code.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";

/**
 * Where the AWS SDK comes from. Workers use the copy in Lambda's Node.js runtime, which keeps
 * them small (ingest: 240 KB instead of 605 KB). The API bundles it: loading the runtime's
 * untrimmed SDK (~900 KB of CommonJS) costs ~150 ms more CPU at cold start than the tree-shaken
 * ~250 KB, which is the difference between missing and meeting the 300 ms cold-init target.
 */
export const externalFor = (kind) => (kind === "api" ? [] : ["@aws-sdk/*"]);

const ENGLISH_ONLY = fileURLToPath(new URL("./zod-locales-en.mjs", import.meta.url));

/**
 * zod 4 re-exports all of its ~60 locales as `z.locales`; a namespace re-export defeats tree
 * shaking, so every bundle carried ~260 KB of error messages in languages nobody configures.
 * Only zod's own `../locales/index.js` imports are redirected; `z.locales.en` keeps working.
 */
export const zodEnglishOnly = {
  name: "zod-english-only",
  setup(build) {
    build.onResolve({ filter: /^\.\.\/locales\/index\.js$/ }, (args) => {
      // SST's plugin bridge may hand over Go's field names (Importer) instead of esbuild's JS ones.
      const importer = args.importer ?? args.Importer ?? "";
      return /[\\/]zod[\\/]v4[\\/](classic|core|mini)[\\/]/.test(importer) ? { path: ENGLISH_ONLY } : undefined;
    });
  },
};

/**
 * The dashboard's static files (packages/api/src/dashboard/assets.ts) are read from disk under
 * Node; Lambda has neither that folder nor node_modules, so each `gzipped("<pkg or .>", "<file>")`
 * call is replaced with the file's gzipped bytes (base64), decoded on first request.
 */
export const inlineDashboardAssets = {
  name: "inline-dashboard-assets",
  setup(build) {
    build.onLoad({ filter: /[\\/]api[\\/]src[\\/]dashboard[\\/]assets\.ts$/ }, (args) => {
      const path = args.path ?? args.Path;
      const source = readFileSync(path, "utf8");
      const contents = source.replace(/\bgzipped\("([^"]+)", "([^"]+)"\)/g, (_, pkg, file) => {
        const dir = pkg === "." ? dirname(path) : dirname(createRequire(path).resolve(pkg));
        const b64 = gzipSync(readFileSync(join(dir, file)), { level: 9 }).toString("base64");
        return `(() => Buffer.from("${b64}", "base64"))`;
      });
      return { contents, loader: "ts" };
    });
  },
};

export default [zodEnglishOnly, inlineDashboardAssets];
