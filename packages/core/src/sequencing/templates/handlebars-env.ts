import Handlebars from "handlebars";
import { HELPERS, TEMPLATE_HELPERS } from "./helpers.js";

/**
 * The Handlebars environment, created on first use: no top-level call into handlebars, so a
 * bundle that imports @icp/core but never renders (every worker except send) drops handlebars
 * and its compiler's source-map dependency (~110 KB; see scripts/lambda-bundle.mjs).
 * `lookup` and `log` are removed: every path a template reads is known at save time.
 */
let handlebarsEnv: typeof Handlebars | undefined;
export function hbsEnv(): typeof Handlebars {
  if (handlebarsEnv) return handlebarsEnv;
  const env = Handlebars.create();
  env.unregisterHelper("lookup");
  env.unregisterHelper("log");
  for (const [name, h] of Object.entries(HELPERS))
    env.registerHelper(name, (...a: unknown[]) => {
      try {
        return h.fn(...a);
      } catch {
        return "";
      }
    });
  handlebarsEnv = env;
  return env;
}

const KNOWN_HELPERS: Record<string, boolean> = {
  ...Object.fromEntries(TEMPLATE_HELPERS.map((h) => [h, true])),
  lookup: false,
  log: false,
};
/** `noEscape` stays off: every value is escaped. */
export const COMPILE_OPTIONS = {
  knownHelpers: KNOWN_HELPERS,
  knownHelpersOnly: true,
  noEscape: false,
  strict: false,
  preventIndent: true,
} as const;
