import { createHash } from "node:crypto";
import Handlebars from "handlebars";
import { type AccountFacts, type Contact, SignalType } from "../accounts/index.js";
import type { Content, SequenceDefinition, Step } from "./sequence.js";

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
 */

// ---------------------------------------------------------------------------------------------
// Render context

export type TemplateAccount = {
  domain: string;
  facts: AccountFacts;
  segment?: string;
  tier?: string;
  score?: number;
};
export type TemplateContact = Contact & { persona?: string };
export type TemplateSender = { name?: string; email?: string; signature?: string };
export type TemplateSignal = { type: SignalType; at: string; amount?: number; detail?: string };

export type TemplateContext = {
  company: string;
  domain: string;
  industry?: string;
  employees?: number;
  revenue?: number;
  country?: string;
  growthStage?: string;
  segment?: string;
  tier?: string;
  score?: number;
  technologies: string[];
  firstName?: string;
  lastName?: string;
  fullName?: string;
  title?: string;
  email?: string;
  persona?: string;
  sender: TemplateSender;
  /** The most recent signal of each type, e.g. `signals.funding.amount`. */
  signals: Partial<Record<SignalType, TemplateSignal>>;
};

const defined = <T extends Record<string, unknown>>(o: T): T =>
  Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined && v !== "")) as T;

const time = (at: string) => {
  const t = Date.parse(at);
  return Number.isNaN(t) ? Number.NEGATIVE_INFINITY : t;
};

/**
 * What a template can read for one account / contact / sender. Pure: `AccountRecord` and
 * `StoredContact` of @icp/store fit the parameter types as they are.
 */
export function templateContext(
  account: TemplateAccount,
  contact?: TemplateContact,
  sender?: TemplateSender,
): TemplateContext {
  const f = account.facts;
  const signals: Partial<Record<SignalType, TemplateSignal>> = {};
  for (const s of f.signals ?? []) {
    if (!SignalType.safeParse(s.type).success) continue;
    const prev = signals[s.type];
    if (!prev || time(s.at) > time(prev.at))
      signals[s.type] = defined({ type: s.type, at: s.at, amount: s.amount, detail: s.detail });
  }
  const fullName = [contact?.firstName, contact?.lastName].filter((x) => x?.trim()).join(" ");
  return defined({
    company: f.name?.trim() || account.domain,
    domain: account.domain,
    industry: f.industry,
    employees: f.employees,
    revenue: f.revenue,
    country: f.country,
    growthStage: f.growthStage,
    segment: account.segment,
    tier: account.tier,
    score: account.score,
    technologies: [...(f.technologies ?? [])],
    firstName: contact?.firstName,
    lastName: contact?.lastName,
    fullName: fullName || undefined,
    title: contact?.title,
    email: contact?.email,
    persona: contact?.persona,
    sender: defined({ name: sender?.name, email: sender?.email, signature: sender?.signature }),
    signals,
  });
}

// Shape of the context, for save-time validation of the paths a template reads.
type Shape = { kind: "leaf" } | { kind: "list"; of: Shape } | { kind: "object"; fields: Record<string, Shape> };
const LEAF: Shape = { kind: "leaf" };
const obj = (names: string[], of: Shape = LEAF): Shape => ({
  kind: "object",
  fields: Object.fromEntries(names.map((n) => [n, of])),
});
const SIGNAL_SHAPE = obj(["type", "at", "amount", "detail"]);
const CONTEXT_SHAPE: Shape = {
  kind: "object",
  fields: {
    ...(
      obj([
        "company",
        "domain",
        "industry",
        "employees",
        "revenue",
        "country",
        "growthStage",
        "segment",
        "tier",
        "score",
        "firstName",
        "lastName",
        "fullName",
        "title",
        "email",
        "persona",
      ]) as { fields: Record<string, Shape> }
    ).fields,
    technologies: { kind: "list", of: LEAF },
    sender: obj(["name", "email", "signature"]),
    signals: obj([...SignalType.options], SIGNAL_SHAPE),
  },
};

/** Top-level variable names a template can use (for docs and error hints). */
export const TEMPLATE_VARIABLES = Object.keys((CONTEXT_SHAPE as { fields: Record<string, Shape> }).fields);

// ---------------------------------------------------------------------------------------------
// Helpers

const MONTHS = [
  "January",
  "February",
  "March",
  "April",
  "May",
  "June",
  "July",
  "August",
  "September",
  "October",
  "November",
  "December",
];

/** Any value as display text; objects render as nothing rather than "[object Object]". */
function text(v: unknown): string {
  if (v === null || v === undefined) return "";
  if (typeof v === "string") return v;
  if (typeof v === "number") return Number.isFinite(v) ? String(v) : "";
  if (typeof v === "boolean") return String(v);
  if (Array.isArray(v)) return v.map(text).filter(Boolean).join(", ");
  return "";
}

const num = (v: unknown) => (typeof v === "number" ? v : typeof v === "string" && v.trim() ? Number(v) : Number.NaN);

/** 12000000 -> "$12M", 1500000 -> "$1.5M", 250000 -> "$250K", 950 -> "$950". */
export function formatMoney(v: unknown, currency = "$"): string {
  const n = num(v);
  if (!Number.isFinite(n)) return "";
  const units: [number, string][] = [
    [1e12, "T"],
    [1e9, "B"],
    [1e6, "M"],
    [1e3, "K"],
    [1, ""],
  ];
  const a = Math.abs(n);
  let i = units.findIndex(([d]) => a >= d);
  if (i < 0) i = units.length - 1;
  let [d, suffix] = units[i] as [number, string];
  let x = Math.round((a / d) * 10) / 10;
  // 999_950 rounds to 1000K: say 1M.
  if (x >= 1000 && i > 0) {
    [d, suffix] = units[i - 1] as [number, string];
    x = Math.round((a / d) * 10) / 10;
  }
  return `${n < 0 ? "-" : ""}${currency}${x}${suffix}`;
}

const DAY = 86_400_000;
const plural = (n: number, unit: string) => `${n} ${unit}${n === 1 ? "" : "s"}`;

/** "today", "yesterday", "3 days ago", "2 weeks ago", "5 months ago", "1 year ago" (relative to `now`). */
export function timeAgo(v: unknown, now: number): string {
  const t = typeof v === "string" ? Date.parse(v) : typeof v === "number" ? v : Number.NaN;
  if (!Number.isFinite(t) || !Number.isFinite(now)) return "";
  const days = Math.floor((now - t) / DAY);
  if (days <= 0) return "today";
  if (days === 1) return "yesterday";
  if (days < 14) return `${plural(days, "day")} ago`;
  if (days < 60) return `${plural(Math.floor(days / 7), "week")} ago`;
  if (days < 365) return `${plural(Math.floor(days / 30), "month")} ago`;
  return `${plural(Math.floor(days / 365), "year")} ago`;
}

/** "March 2026" (UTC). */
export function monthYear(v: unknown): string {
  const t = typeof v === "string" ? Date.parse(v) : typeof v === "number" ? v : Number.NaN;
  if (!Number.isFinite(t)) return "";
  const d = new Date(t);
  if (Number.isNaN(d.getTime())) return "";
  return `${MONTHS[d.getUTCMonth()]} ${d.getUTCFullYear()}`;
}

type HelperOptions = { data?: { now?: unknown } };
/** Handlebars passes its options object last; the real arguments are the ones before it. */
const args = (a: unknown[]) => a.slice(0, -1);

/** Inline helpers, each with the number of arguments it takes [min, max]. */
const HELPERS: Record<string, { arity: [number, number]; fn: (...a: unknown[]) => string }> = {
  default: {
    arity: [2, 2],
    fn: (...a) => {
      const [v, fallback] = args(a);
      const s = text(v);
      return s.trim() ? s : text(fallback);
    },
  },
  money: { arity: [1, 2], fn: (...a) => formatMoney(args(a)[0], args(a).length > 1 ? text(args(a)[1]) : "$") },
  lower: { arity: [1, 1], fn: (...a) => text(args(a)[0]).toLowerCase() },
  upper: { arity: [1, 1], fn: (...a) => text(args(a)[0]).toUpperCase() },
  capitalize: {
    arity: [1, 1],
    fn: (...a) => {
      const s = text(args(a)[0]);
      return s.charAt(0).toUpperCase() + s.slice(1);
    },
  },
  join: {
    arity: [1, 2],
    fn: (...a) => {
      const [list, sep] = args(a);
      const items = Array.isArray(list) ? list.map(text).filter(Boolean) : [text(list)].filter(Boolean);
      return items.join(sep === undefined ? ", " : text(sep));
    },
  },
  timeAgo: {
    arity: [1, 1],
    fn: (...a) => timeAgo(args(a)[0], Number((a[a.length - 1] as HelperOptions)?.data?.now ?? Number.NaN)),
  },
  monthYear: { arity: [1, 1], fn: (...a) => monthYear(args(a)[0]) },
};
const BLOCK_HELPERS = new Set(["if", "unless", "with", "each"]);

/** Helper names a template can call. */
export const TEMPLATE_HELPERS = [...BLOCK_HELPERS, ...Object.keys(HELPERS)];

/**
 * The Handlebars environment, created on first use: no top-level call into handlebars, so a
 * bundle that imports @icp/core but never renders (every worker except send) drops handlebars
 * and its compiler's source-map dependency (~110 KB; see scripts/lambda-bundle.mjs).
 */
let handlebarsEnv: typeof Handlebars | undefined;
function hbsEnv(): typeof Handlebars {
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
const COMPILE_OPTIONS = {
  knownHelpers: KNOWN_HELPERS,
  knownHelpersOnly: true,
  noEscape: false,
  strict: false,
  preventIndent: true,
} as const;

// ---------------------------------------------------------------------------------------------
// Save-time validation of one template

export type TemplateProblem = { line: number; column?: number; variable?: string; message: string };

type AstNode = hbs.AST.Node;
type Frame = { shape: Shape; params: Map<string, Shape>; inEach: boolean };

function distance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) (d[0] as number[])[j] = j;
  for (let i = 1; i <= a.length; i++)
    for (let j = 1; j <= b.length; j++) {
      const row = d[i] as number[];
      const prev = d[i - 1] as number[];
      row[j] = Math.min(
        (prev[j] as number) + 1,
        (row[j - 1] as number) + 1,
        (prev[j - 1] as number) + (a[i - 1]?.toLowerCase() === b[j - 1]?.toLowerCase() ? 0 : 1),
      );
    }
  return (d[a.length] as number[])[b.length] as number;
}

function suggest(name: string, known: string[]): string {
  const best = known
    .map((k) => ({ k, d: distance(name, k) }))
    .sort((x, y) => x.d - y.d)
    .find((x) => x.d <= Math.max(1, Math.floor(name.length / 3)));
  return best ? `; did you mean "${best.k}"?` : `; known here: ${known.join(", ")}`;
}

const shapeName = (s: Shape) => (s.kind === "leaf" ? "a value" : s.kind === "list" ? "a list" : "an object");

/** What `#each` iterates over: a list's items, or an object's values when they all have one shape. */
function elementShape(s: Shape): Shape | undefined {
  if (s.kind === "list") return s.of;
  if (s.kind === "object") {
    const values = Object.values(s.fields);
    const first = values[0];
    if (first && values.every((v) => v === first || (v.kind === "leaf" && first.kind === "leaf"))) return first;
  }
  return undefined;
}

class TemplateChecker {
  readonly problems: TemplateProblem[] = [];

  private add(node: AstNode, message: string, variable?: string) {
    this.problems.push({
      line: node.loc?.start.line ?? 1,
      column: (node.loc?.start.column ?? 0) + 1,
      ...(variable !== undefined ? { variable } : {}),
      message,
    });
  }

  program(p: hbs.AST.Program, frames: Frame[]) {
    for (const s of p.body) this.statement(s, frames);
  }

  /** The shape a path points to, or undefined after reporting why it is not known. */
  private path(p: hbs.AST.PathExpression, frames: Frame[]): Shape | undefined {
    const name = p.original;
    if (p.data) {
      const [head, ...rest] = p.parts;
      if (head === "root") return this.walk(p, CONTEXT_SHAPE, rest, name);
      if (rest.length === 0 && head && ["index", "first", "last", "key"].includes(head)) {
        if (frames.some((f) => f.inEach)) return LEAF;
        this.add(p, `@${head} is only available inside {{#each}}`, name);
        return undefined;
      }
      this.add(p, `unknown data variable "${name}"; available inside {{#each}}: @index, @first, @last, @key`, name);
      return undefined;
    }
    const explicitScope = /^(this\b|\.\.?\/|\.$)/.test(name);
    const [head, ...rest] = p.parts;
    if (p.depth === 0 && !explicitScope && head !== undefined)
      for (let i = frames.length - 1; i >= 0; i--) {
        const bp = frames[i]?.params.get(head);
        if (bp) return this.walk(p, bp, rest, name);
      }
    const frame = frames[frames.length - 1 - p.depth];
    if (!frame) {
      this.add(p, `"${name}" goes above the template's top level`, name);
      return undefined;
    }
    return this.walk(p, frame.shape, p.parts, name);
  }

  private walk(p: AstNode, start: Shape, parts: string[], name: string): Shape | undefined {
    let s = start;
    for (const part of parts) {
      if (s.kind !== "object" || !Object.hasOwn(s.fields, part)) {
        const known = s.kind === "object" ? Object.keys(s.fields) : [];
        this.add(
          p,
          known.length
            ? `unknown variable "${name}"${suggest(part, known)}`
            : `unknown variable "${name}": ${shapeName(s)} has no field "${part}"`,
          name,
        );
        return undefined;
      }
      s = s.fields[part] as Shape;
    }
    return s;
  }

  private expression(e: AstNode, frames: Frame[]): Shape | undefined {
    switch (e.type) {
      case "PathExpression":
        return this.path(e as hbs.AST.PathExpression, frames);
      case "SubExpression": {
        const sub = e as hbs.AST.SubExpression;
        this.call(sub, sub.path, sub.params, sub.hash, frames);
        return LEAF;
      }
      default:
        return LEAF; // string, number, boolean, null, undefined literals
    }
  }

  private args(node: AstNode, params: hbs.AST.Expression[], hash: hbs.AST.Hash | undefined, frames: Frame[]) {
    for (const p of params) this.expression(p, frames);
    for (const pair of hash?.pairs ?? []) this.expression(pair.value, frames);
    if (hash?.pairs.length) this.add(node, "helpers here take no hash arguments (name=value)");
  }

  /** A helper call with arguments: `{{default firstName "there"}}` or `(upper company)`. */
  private call(
    node: AstNode,
    path: AstNode,
    params: hbs.AST.Expression[],
    hash: hbs.AST.Hash | undefined,
    frames: Frame[],
  ) {
    const name = path.type === "PathExpression" ? (path as hbs.AST.PathExpression).original : String(path.type);
    const helper = HELPERS[name];
    if (!helper) {
      if (BLOCK_HELPERS.has(name)) this.add(node, `"${name}" is a block helper: write {{#${name} …}}…{{/${name}}}`);
      else this.add(node, `unknown helper "${name}"${suggest(name, Object.keys(HELPERS))}`, name);
      this.args(node, params, hash, frames);
      return;
    }
    const [min, max] = helper.arity;
    if (params.length < min || params.length > max)
      this.add(
        node,
        `helper "${name}" takes ${min === max ? min : `${min} to ${max}`} argument${max === 1 ? "" : "s"}, got ${params.length}`,
      );
    this.args(node, params, hash, frames);
  }

  private statement(s: AstNode, frames: Frame[]) {
    switch (s.type) {
      case "ContentStatement":
      case "CommentStatement":
        return;
      case "MustacheStatement": {
        const m = s as hbs.AST.MustacheStatement;
        if (!m.escaped) {
          this.add(m, "{{{ }}} and {{& }} output raw HTML and are not allowed; use {{ }} (values are escaped)");
          return;
        }
        if (m.path.type !== "PathExpression") {
          this.add(m, "a literal cannot be output or called");
          return;
        }
        const path = m.path as hbs.AST.PathExpression;
        if (m.params.length || m.hash?.pairs.length || (!path.data && path.parts.length === 1 && isHelper(path))) {
          this.call(m, path, m.params, m.hash, frames);
          return;
        }
        const shape = this.path(path, frames);
        if (shape && shape.kind !== "leaf")
          this.add(
            m,
            shape.kind === "list"
              ? `"${path.original}" is a list: write {{join ${path.original} ", "}} or {{#each ${path.original}}}…{{/each}}`
              : `"${path.original}" is an object; output one of its fields (${Object.keys(shape.fields).join(", ")})`,
            path.original,
          );
        return;
      }
      case "BlockStatement": {
        const b = s as hbs.AST.BlockStatement;
        const name = b.path.original;
        if (b.path.data || !BLOCK_HELPERS.has(name)) {
          this.add(
            b,
            HELPERS[name]
              ? `"${name}" is not a block helper: write {{${name} …}}`
              : `unknown block "{{#${name}}}": use {{#if}}, {{#unless}}, {{#with}} or {{#each}}`,
            HELPERS[name] ? undefined : name,
          );
          return;
        }
        if (b.params.length !== 1) this.add(b, `{{#${name}}} takes exactly one argument, got ${b.params.length}`);
        if (b.hash?.pairs.length) this.add(b, `{{#${name}}} takes no hash arguments`);
        const first = b.params[0];
        const target = first ? this.expression(first, frames) : undefined;
        for (const extra of b.params.slice(1)) this.expression(extra, frames);
        let inner = frames;
        if ((name === "with" || name === "each") && first) {
          let shape: Shape | undefined;
          if (first.type !== "PathExpression") this.add(b, `{{#${name}}} needs a variable, not a literal`);
          else if (target && name === "with") {
            shape = target.kind === "object" ? target : undefined;
            if (!shape) this.add(b, `{{#with}} needs an object (e.g. signals.funding), not ${shapeName(target)}`);
          } else if (target) {
            shape = elementShape(target);
            if (!shape) this.add(b, `{{#each}} needs a list or object, not ${shapeName(target)}`);
          }
          const blockParams = b.program?.blockParams ?? [];
          if (blockParams.length > (name === "each" ? 2 : 1))
            this.add(b, `{{#${name}}} takes at most ${name === "each" ? 2 : 1} block parameters`);
          if (shape) {
            const params = new Map<string, Shape>();
            if (blockParams[0]) params.set(blockParams[0], shape);
            if (blockParams[1]) params.set(blockParams[1], LEAF);
            inner = [...frames, { shape, params, inEach: name === "each" }];
          } else inner = [];
        }
        if (b.program) {
          if (inner.length) this.program(b.program, inner);
          // else: the block's target is unknown (already reported); its body cannot be checked
        }
        if (b.inverse) this.program(b.inverse, frames);
        return;
      }
      case "PartialStatement":
      case "PartialBlockStatement":
        this.add(s, "partials ({{> …}}) are not supported");
        return;
      case "Decorator":
      case "DecoratorBlock":
        this.add(s, "decorators ({{* …}}) are not supported");
        return;
      default:
        this.add(s, `unsupported template construct ${s.type}`);
    }
  }
}

const isHelper = (p: hbs.AST.PathExpression) => {
  const n = p.parts[0] ?? "";
  return p.original === n && (Object.hasOwn(HELPERS, n) || BLOCK_HELPERS.has(n));
};

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
  const checker = new TemplateChecker();
  checker.program(ast, [{ shape: CONTEXT_SHAPE, params: new Map(), inEach: false }]);
  if (checker.problems.length) return checker.problems;
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
function compileTemplate(source: string): Handlebars.TemplateDelegate<TemplateContext> {
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

// ---------------------------------------------------------------------------------------------
// Save-time validation of a sequence

export type SequenceProblem = {
  stepId: string;
  stepIndex: number;
  field: "subject" | "body" | "id" | "condition" | "webhookUrl" | "abVariants" | "targeted";
  /** Dotted path in the definition, e.g. `steps.1.abVariants.0.body`. */
  path: string;
  variantId?: string;
  segment?: string;
  persona?: string;
  line?: number;
  column?: number;
  variable?: string;
  message: string;
};

const eq = (a: string | undefined, b: string | undefined) =>
  a !== undefined && b !== undefined && a.trim().toLowerCase() === b.trim().toLowerCase();

/**
 * Everything that makes a definition unsavable: templates that do not compile or read unknown
 * variables, gotos to unknown (or earlier) steps, duplicate step / A/B ids, email steps without
 * subject, webhook steps without URL. Empty when the definition can be saved.
 */
export function validateSequence(def: SequenceDefinition): SequenceProblem[] {
  const out: SequenceProblem[] = [];
  const ids = def.steps.map((s) => s.id);
  def.steps.forEach((step, i) => {
    const at = { stepId: step.id, stepIndex: i };
    if (ids.indexOf(step.id) !== i)
      out.push({ ...at, field: "id", path: `steps.${i}.id`, message: `duplicate step id "${step.id}"` });
    const goto = step.condition && typeof step.condition.otherwise === "object" ? step.condition.otherwise.goto : null;
    if (goto !== null) {
      const target = ids.indexOf(goto);
      const path = `steps.${i}.condition.otherwise.goto`;
      if (target < 0) out.push({ ...at, field: "condition", path, message: `goto "${goto}": no step has this id` });
      else if (target <= i)
        out.push({
          ...at,
          field: "condition",
          path,
          message: `goto "${goto}" jumps back to step ${target + 1}: only forward jumps are allowed (no loops)`,
        });
    }
    if (step.channel === "email" && !step.content.subject?.trim())
      out.push({
        ...at,
        field: "subject",
        path: `steps.${i}.content.subject`,
        message: "an email step needs a subject",
      });
    if (step.channel === "webhook" && !step.webhookUrl)
      out.push({
        ...at,
        field: "webhookUrl",
        path: `steps.${i}.webhookUrl`,
        message: "a webhook step needs webhookUrl",
      });

    const check = (content: Content, base: string, extra: Partial<SequenceProblem>) => {
      for (const field of ["subject", "body"] as const) {
        const source = content[field];
        if (source === undefined) continue;
        for (const p of templateProblems(source)) out.push({ ...at, field, path: `${base}.${field}`, ...extra, ...p });
      }
    };
    check(step.content, `steps.${i}.content`, {});
    const seen = new Set<string>();
    step.targeted.forEach((t, j) => {
      const key = `${t.segment?.trim().toLowerCase() ?? ""}|${t.persona?.trim().toLowerCase() ?? ""}`;
      const extra = { ...(t.segment ? { segment: t.segment } : {}), ...(t.persona ? { persona: t.persona } : {}) };
      if (seen.has(key))
        out.push({
          ...at,
          ...extra,
          field: "targeted",
          path: `steps.${i}.targeted.${j}`,
          message: "duplicate targeted content for the same segment and persona",
        });
      seen.add(key);
      check(t, `steps.${i}.targeted.${j}`, extra);
    });
    const abIds = step.abVariants.map((v) => v.id);
    if (step.abVariants.length === 1)
      out.push({
        ...at,
        field: "abVariants",
        path: `steps.${i}.abVariants`,
        variantId: abIds[0] as string,
        message: "an A/B test needs at least 2 variants (enrollments are split between the variants only)",
      });
    step.abVariants.forEach((v, j) => {
      if (abIds.indexOf(v.id) !== j || v.id === "default")
        out.push({
          ...at,
          field: "abVariants",
          path: `steps.${i}.abVariants.${j}.id`,
          variantId: v.id,
          message: v.id === "default" ? `"default" is reserved` : `duplicate A/B variant id "${v.id}"`,
        });
      check(v, `steps.${i}.abVariants.${j}`, { variantId: v.id });
    });
  });
  return out;
}

// ---------------------------------------------------------------------------------------------
// Variant selection and rendering

export type ChosenContent = {
  content: Content;
  /** A/B id, `segment:<s>`, `persona:<p>`, `segment:<s>+persona:<p>`, or "default". */
  variant: string;
};

const targetLabel = (t: { segment?: string; persona?: string }) =>
  [t.segment !== undefined ? `segment:${t.segment}` : "", t.persona !== undefined ? `persona:${t.persona}` : ""]
    .filter(Boolean)
    .join("+");

/** A uniform bucket in [0, n) from a stable hash of the enrollment id (and the step id). */
export function abBucket(seed: string, stepId: string, n: number): number {
  const h = createHash("sha256").update(`${seed}\n${stepId}`).digest();
  return Math.floor((h.readUInt32BE(0) / 2 ** 32) * n);
}

/** A variant's subject falls back to the step's default subject. */
const withSubject = (step: Step, c: Content): Content =>
  c.subject === undefined && step.content.subject !== undefined ? { ...c, subject: step.content.subject } : c;

/**
 * The content one enrollment gets for a step: the most specific targeted content
 * (segment+persona > segment > persona; first listed wins a tie), else an A/B variant chosen
 * by a stable hash of `seed` (the enrollment id) so the same enrollment always gets the same
 * variant and enrollments split evenly, else the default content.
 */
export function chooseContent(
  step: Step,
  who: { segment?: string | undefined; persona?: string | undefined; seed: string },
): ChosenContent {
  let best: { rank: number; t: Step["targeted"][number] } | undefined;
  for (const t of step.targeted) {
    const segOk = t.segment === undefined || eq(t.segment, who.segment);
    const perOk = t.persona === undefined || eq(t.persona, who.persona);
    if (!segOk || !perOk) continue;
    const rank = (t.segment !== undefined ? 2 : 0) + (t.persona !== undefined ? 1 : 0);
    if (!best || rank > best.rank) best = { rank, t };
  }
  if (best) {
    const { segment: _s, persona: _p, ...content } = best.t;
    return { content: withSubject(step, content), variant: targetLabel(best.t) };
  }
  if (step.abVariants.length) {
    const v = step.abVariants[abBucket(who.seed, step.id, step.abVariants.length)];
    if (v) {
      const { id, ...content } = v;
      return { content: withSubject(step, content), variant: id };
    }
  }
  return { content: step.content, variant: "default" };
}

/** Every variant label of a step (for previews and reports). */
export function stepVariants(step: Step): string[] {
  return ["default", ...step.targeted.map(targetLabel), ...step.abVariants.map((v) => v.id)];
}

/** The content of a named variant (see `stepVariants`), or undefined. */
export function contentByVariant(step: Step, variant: string): ChosenContent | undefined {
  if (variant === "default") return { content: step.content, variant };
  const ab = step.abVariants.find((v) => v.id === variant);
  if (ab) {
    const { id: _id, ...content } = ab;
    return { content: withSubject(step, content), variant };
  }
  const t = step.targeted.find((x) => targetLabel(x) === variant);
  if (t) {
    const { segment: _s, persona: _p, ...content } = t;
    return { content: withSubject(step, content), variant };
  }
  return undefined;
}

const ENTITIES: Record<string, string> = {
  "&amp;": "&",
  "&lt;": "<",
  "&gt;": ">",
  "&quot;": '"',
  "&#x27;": "'",
  "&#39;": "'",
  "&#x60;": "`",
  "&#x3D;": "=",
  "&nbsp;": " ",
};

/** Decode the entities Handlebars' escaping produces (and numeric ones), in one pass. */
export function decodeEntities(s: string): string {
  return s.replace(/&(?:amp|lt|gt|quot|nbsp|#x27|#39|#x60|#x3D);|&#(\d{1,7});|&#x([0-9a-f]{1,6});/gi, (m, dec, hex) => {
    if (dec || hex) {
      const code = dec ? Number(dec) : Number.parseInt(hex, 16);
      return code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : m;
    }
    return ENTITIES[m] ?? ENTITIES[m.toLowerCase()] ?? m;
  });
}

/** Plain text from rendered HTML: block tags become line breaks, links keep their URL, tags go. */
export function htmlToText(html: string): string {
  const out = html
    .replace(/<(script|style|head)\b[^>]*>[\s\S]*?<\/\1\s*>/gi, "")
    .replace(/<!--[\s\S]*?-->/g, "")
    .replace(/[ \t\r\n]+/g, " ")
    .replace(/<a\b[^>]*?\bhref\s*=\s*"([^"]*)"[^>]*>([\s\S]*?)<\/a\s*>/gi, (_m, href: string, inner: string) => {
      const label = inner.replace(/<[^>]*>/g, "").trim();
      const url = decodeEntities(href);
      return !label || decodeEntities(label) === url ? href : `${inner} (${href})`;
    })
    .replace(/<br\s*\/?>/gi, "\n")
    .replace(/<li\b[^>]*>/gi, "\n- ")
    .replace(/<\/(p|div|h[1-6]|ul|ol|table|blockquote)\s*>/gi, "\n\n")
    .replace(/<\/li\s*>/gi, "")
    .replace(/<\/tr\s*>/gi, "\n")
    .replace(/<(p|div|h[1-6]|ul|ol|table|blockquote|tr)\b[^>]*>/gi, "\n")
    .replace(/<[^>]*>/g, "");
  return decodeEntities(out)
    .split("\n")
    .map((l) => l.replace(/[ \t]+/g, " ").trim())
    .join("\n")
    .replace(/\n{3,}/g, "\n\n")
    .trim();
}

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
