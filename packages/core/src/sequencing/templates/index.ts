/**
 * Sequence step templates: Handlebars, validated at save time against the variables the render
 * context really has, rendered as HTML (every value escaped) plus a plain-text version.
 *
 * Safety rules (tested in test/unit/templates.test.ts):
 * - a prospect's data is only ever a context value, never compiled;
 * - `noEscape` is never enabled, and `{{{ }}}` / `{{& }}` are refused, so values are always escaped;
 * - helpers return plain strings (never SafeString), so their output is escaped too;
 * - prototype access stays disabled (Handlebars' default, set explicitly);
 * - partials, decorators, `lookup` and `log` are refused: every path a template reads is known.
 *
 * Files: context (what a template reads), helpers, handlebars-env (created lazily, so bundles
 * that never render drop handlebars), checker (one template at save time), compile,
 * validate-sequence (a whole definition), variants (which content an enrollment gets),
 * html-text and render.
 */
export type { TemplateProblem } from "./checker.js";
export { TemplateError, templateProblems } from "./compile.js";
export {
  TEMPLATE_VARIABLES,
  type TemplateAccount,
  type TemplateContact,
  type TemplateContext,
  type TemplateSender,
  type TemplateSignal,
  templateContext,
} from "./context.js";
export { formatMoney, monthYear, TEMPLATE_HELPERS, timeAgo } from "./helpers.js";
export { decodeEntities, htmlToText } from "./html-text.js";
export { type RenderedStep, renderStep } from "./render.js";
export { type SequenceProblem, validateSequence } from "./validate-sequence.js";
export { abBucket, type ChosenContent, chooseContent, contentByVariant, stepVariants } from "./variants.js";
