// How the Lambda bundles are built, shared by scripts/build.ts (what bench/bundles.ts measures)
// and sst.config.ts (what `sst deploy` ships; SST loads this file's default export as esbuild
// plugins through `nodejs.plugins`), so both produce the same code.
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

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
 * esbuild tree-shakes zod only when it is imported as a namespace (`import * as z from "zod"`,
 * the form zod 4's docs use): through `import { z } from "zod"` (zod's index re-exports its
 * namespace as `z`) every bundle carried all of zod, 188 KB (JSON Schema conversion, `z.compile`,
 * …), against 83 KB for what the code calls. @icp/core's modules use the named form, so their
 * import line is read as the namespace form here; every `z.…` means the same thing in both.
 */
const ZOD_NAMED = /^import \{ z \} from "zod";$/m;
export const zodAsNamespace = {
  name: "zod-as-namespace",
  setup(build) {
    build.onLoad({ filter: /[\\/]packages[\\/][^\\/]+[\\/]src[\\/].*\.ts$/ }, (args) => {
      const source = readFileSync(arg(args, "path"), "utf8");
      if (!ZOD_NAMED.test(source)) return undefined;
      return { contents: source.replace(ZOD_NAMED, 'import * as z from "zod";'), loader: "ts" };
    });
  },
};

/** Where a plugin callback's arguments live: SST's bridge may hand over Go's field names. */
const arg = (args, name) => args[name] ?? args[name[0].toUpperCase() + name.slice(1)];

/**
 * Libraries whose modules' top-level code only defines things (functions, classes, lookup
 * tables built from module-local data), marked side-effect free so that esbuild drops whatever
 * a bundle imports without using:
 * - handlebars: @icp/core imports it for its templates, but only the API and the send worker ever
 *   render (sequencing/templates/handlebars-env.ts creates the environment on first use), so ingest, route,
 *   events, rescore, sweep and tick no longer carry it (81 KB + source-map 26 KB). Its entry's
 *   only other top-level act is a `require.extensions[".hbs"]` hook, which nothing here uses.
 * - nodemailer: @icp/store's mail.ts is only used by the send worker, yet well-known services,
 *   fetch and DKIM tables (~25 KB) stayed in every bundle because they are built at load time.
 * - mailparser, chrono-node, email-reply-parser: @icp/core's inbound/ parses and classifies
 *   received mail; a bundle that never calls it would otherwise carry mailparser's iconv-lite,
 *   libmime and encoding tables (~1 MB: the API bundle went from 0.96 to 1.99 MB).
 * Marks the package's entry points and every module they import. Needs esbuild's `build.resolve`
 * (to resolve exactly as esbuild would); without it the bundles are the same, only bigger.
 */
export const SIDE_EFFECT_FREE = ["handlebars", "nodemailer", "mailparser", "chrono-node", "email-reply-parser"];
const BARE = new RegExp(`^(${SIDE_EFFECT_FREE.join("|")})(/|$)`);
const INSIDE = new RegExp(`[\\\\/]node_modules[\\\\/](${SIDE_EFFECT_FREE.join("|")})[\\\\/]`);
export const sideEffectFree = {
  name: "side-effect-free",
  setup(build) {
    if (typeof build.resolve !== "function") return;
    const mark = async (args) => {
      if (arg(args, "pluginData")?.sideEffectFree) return undefined; // our own build.resolve below
      const path = arg(args, "path");
      if (!BARE.test(path) && !(path.startsWith(".") && INSIDE.test(arg(args, "importer") ?? ""))) return undefined;
      const r = await build.resolve(path, {
        kind: arg(args, "kind"),
        importer: arg(args, "importer"),
        resolveDir: arg(args, "resolveDir"),
        pluginData: { sideEffectFree: true },
      });
      if (r.errors.length || r.external) return undefined; // let esbuild report or externalize it
      return { path: r.path, namespace: r.namespace, suffix: r.suffix, sideEffects: false };
    };
    build.onResolve({ filter: BARE }, mark);
    build.onResolve({ filter: /^\.\.?\// }, mark);
  },
};

const NO_SOURCE_MAP = fileURLToPath(new URL("./no-source-map.cjs", import.meta.url));

/**
 * handlebars' compiler requires `source-map` inside a try/catch, only to build source maps of
 * compiled templates when given a `srcName` option (never here); without it, it uses its own
 * string builder and emits the same code. The send worker and the API (the two that render)
 * load an empty module instead: 26 KB less each. test/infra/bundle-trims.test.ts compares
 * compiled templates of the bundle with the source's.
 */
export const handlebarsWithoutSourceMap = {
  name: "handlebars-without-source-map",
  setup(build) {
    build.onResolve({ filter: /^source-map$/ }, (args) =>
      /[\\/]handlebars[\\/]/.test(arg(args, "importer") ?? "") ? { path: NO_SOURCE_MAP } : undefined,
    );
  },
};

const COMMON_MIME_TYPES = fileURLToPath(new URL("./nodemailer-mime-types.mjs", import.meta.url));

/**
 * nodemailer's MIME type table (mime-funcs/mime-types.js, 74 KB minified, a third of nodemailer
 * in the send worker) only guesses types of attachments given without one; the send worker's
 * mail has none. Bundles get the same functions over the ~20 common types (see that file).
 */
export const nodemailerCommonMimeTypes = {
  name: "nodemailer-common-mime-types",
  setup(build) {
    build.onResolve({ filter: /[\\/]mime-types\.js$/ }, (args) =>
      /[\\/]nodemailer[\\/]dist[\\/]esm[\\/]/.test(arg(args, "importer") ?? "")
        ? { path: COMMON_MIME_TYPES }
        : undefined,
    );
  },
};

export default [zodEnglishOnly, zodAsNamespace, handlebarsWithoutSourceMap, nodemailerCommonMimeTypes, sideEffectFree];
