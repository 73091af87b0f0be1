// esbuild plugins for the Lambda bundles, used by scripts/build.ts and by SST on deploy
// (sst.config.ts: nodejs.plugins), so both ship the same code.
import { fileURLToPath } from "node:url";

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

export default [zodEnglishOnly];
