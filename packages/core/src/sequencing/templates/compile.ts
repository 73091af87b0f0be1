import type Handlebars from "handlebars";
import { checkTemplate, type TemplateProblem } from "./checker.js";
import type { TemplateContext } from "./context.js";
import { COMPILE_OPTIONS, hbsEnv } from "./handlebars-env.js";

function exceptionProblem(e: unknown): TemplateProblem {
  const err = e as { message?: string; lineNumber?: number; column?: number };
  const message = String(err.message ?? e);
  const line = err.lineNumber ?? Number(/on line (\d+)/.exec(message)?.[1] ?? 1);
  return {
    line,
    ...(typeof err.column === "number" ? { column: err.column + 1 } : {}),
    message: `template does not compile: ${message.replace(/\s+/g, " ").trim()}`,
  };
}

/** Problems of one template source: compile errors (with Handlebars' line) and unknown variables/helpers. */
export function templateProblems(source: string): TemplateProblem[] {
  let ast: hbs.AST.Program;
  try {
    ast = hbsEnv().parse(source);
  } catch (e) {
    return [exceptionProblem(e)];
  }
  const problems = checkTemplate(ast);
  if (problems.length) return problems;
  try {
    hbsEnv().precompile(source, COMPILE_OPTIONS);
  } catch (e) {
    return [exceptionProblem(e)];
  }
  return [];
}

export class TemplateError extends Error {
  constructor(
    message: string,
    readonly problems: TemplateProblem[],
  ) {
    super(message);
  }
}

const compiled = new Map<string, Handlebars.TemplateDelegate<TemplateContext>>();

/** Compile a template (checked like at save time; compiled forms cached by source). */
export function compileTemplate(source: string): Handlebars.TemplateDelegate<TemplateContext> {
  let t = compiled.get(source);
  if (!t) {
    const problems = templateProblems(source);
    if (problems.length) throw new TemplateError(`invalid template: ${problems[0]?.message}`, problems);
    if (compiled.size >= 1000) compiled.clear();
    t = hbsEnv().compile<TemplateContext>(source, COMPILE_OPTIONS);
    compiled.set(source, t);
  }
  return t;
}
