import type { Step } from "../sequence.js";
import { compileTemplate, TemplateError } from "./compile.js";
import type { TemplateContext } from "./context.js";
import { decodeEntities, htmlToText } from "./html-text.js";
import { chooseContent, contentByVariant } from "./variants.js";

const HAS_TAG = /<\/?[a-z][a-z0-9-]*\b[^<>]*>/i;

export type RenderedStep = { subject?: string; html: string; text: string; variant: string };

/**
 * Render a step for one enrollment. `seed` is the enrollment id (A/B split); `variant` forces
 * a variant (previews); `now` is the clock for `timeAgo`. Bodies written as HTML are used as
 * they are; plain-text bodies get `<br>` line breaks in the HTML version. The subject is plain
 * text on one line. Throws TemplateError for a template that would not pass validateSequence.
 */
export function renderStep(
  step: Step,
  ctx: TemplateContext,
  seed: string,
  opts: { variant?: string; now?: number } = {},
): RenderedStep {
  const chosen =
    opts.variant !== undefined
      ? contentByVariant(step, opts.variant)
      : chooseContent(step, { segment: ctx.segment, persona: ctx.persona, seed });
  if (!chosen) throw new TemplateError(`step ${step.id} has no variant "${opts.variant}"`, []);
  // Prototype access stays off (Handlebars' default, set explicitly).
  const runtime = {
    data: { now: opts.now ?? Date.now() },
    allowProtoPropertiesByDefault: false,
    allowProtoMethodsByDefault: false,
  };
  const body = compileTemplate(chosen.content.body)(ctx, runtime);
  const isHtml = HAS_TAG.test(chosen.content.body);
  const html = isHtml ? body : body.replace(/\r?\n/g, "<br>\n");
  const text = isHtml ? htmlToText(body) : decodeEntities(body).trim();
  const out: RenderedStep = { html, text, variant: chosen.variant };
  if (chosen.content.subject !== undefined)
    out.subject = decodeEntities(compileTemplate(chosen.content.subject)(ctx, runtime)).replace(/\s+/g, " ").trim();
  return out;
}
