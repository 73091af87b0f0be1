import { CONTEXT_SHAPE, elementShape, LEAF, type Shape, shapeName } from "./context.js";
import { BLOCK_HELPERS, HELPERS } from "./helpers.js";

/**
 * Save-time check of one parsed template: every path it reads exists in the render context,
 * every helper is known and called with the right number of arguments, and raw output
 * (`{{{ }}}`, `{{& }}`), partials and decorators are refused.
 */

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

const isHelper = (p: hbs.AST.PathExpression) => {
  const n = p.parts[0] ?? "";
  return p.original === n && (Object.hasOwn(HELPERS, n) || BLOCK_HELPERS.has(n));
};

/** The problems of a parsed template, checked against the render context's shape. */
export function checkTemplate(ast: hbs.AST.Program): TemplateProblem[] {
  const checker = new TemplateChecker();
  checker.program(ast, [{ shape: CONTEXT_SHAPE, params: new Map(), inEach: false }]);
  return checker.problems;
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
    if (p.data) return this.dataPath(p, frames);
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

  /** `@root.…`, or `@index` / `@first` / `@last` / `@key` inside `#each`. */
  private dataPath(p: hbs.AST.PathExpression, frames: Frame[]): Shape | undefined {
    const name = p.original;
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
      case "MustacheStatement":
        return this.mustache(s as hbs.AST.MustacheStatement, frames);
      case "BlockStatement":
        return this.block(s as hbs.AST.BlockStatement, frames);
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

  /** `{{path}}` (a value, never a list or object) or `{{helper args…}}`; raw output is refused. */
  private mustache(m: hbs.AST.MustacheStatement, frames: Frame[]) {
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
  }

  /** `{{#if}}`, `{{#unless}}`, `{{#with}}` or `{{#each}}`: its argument, then its body in the frames it opens. */
  private block(b: hbs.AST.BlockStatement, frames: Frame[]) {
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
    const inner = (name === "with" || name === "each") && first ? this.scopeFrames(b, first, target, frames) : frames;
    // An empty `inner`: the block's target is unknown (already reported); its body cannot be checked.
    if (b.program && inner.length) this.program(b.program, inner);
    if (b.inverse) this.program(b.inverse, frames);
  }

  /** The frames inside `{{#with x}}` / `{{#each x}}` (with its block parameters), or none when `x` has no usable shape. */
  private scopeFrames(
    b: hbs.AST.BlockStatement,
    first: hbs.AST.Expression,
    target: Shape | undefined,
    frames: Frame[],
  ): Frame[] {
    const name = b.path.original;
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
    if (!shape) return [];
    const params = new Map<string, Shape>();
    if (blockParams[0]) params.set(blockParams[0], shape);
    if (blockParams[1]) params.set(blockParams[1], LEAF);
    return [...frames, { shape, params, inEach: name === "each" }];
  }
}
