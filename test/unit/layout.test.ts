import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import ts from "typescript";
import { describe, expect, it } from "vitest";

/**
 * The layout rules of ARCHITECTURE.md, checked on every run: folders by flow with an index.ts
 * each, no source file over 500 lines, no function over 80 lines (demo data aside), and the
 * folder graph of each package free of cycles.
 */
const ROOT = new URL("../../", import.meta.url).pathname;
const MAX_FILE_LINES = 500;
const MAX_FUNCTION_LINES = 80;
const EXEMPT = /\/demo\//; // generated-looking demo data: long literals, not logic

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? walk(p) : /\.(ts|mts)$/.test(f) ? [p] : [];
  });
}
const sources = [
  ...readdirSync(join(ROOT, "packages")).flatMap((p) => walk(join(ROOT, "packages", p, "src"))),
  ...walk(join(ROOT, "functions")),
].filter((f) => !EXEMPT.test(f));

/** Every function-like node longer than the limit, as `file:line name (n lines)`. */
function longFunctions(file: string, text: string, max: number): string[] {
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.ES2022, true);
  const found: string[] = [];
  const visit = (node: ts.Node) => {
    if (ts.isFunctionLike(node) && "body" in node && node.body) {
      const start = sf.getLineAndCharacterOfPosition(node.getStart(sf)).line;
      const end = sf.getLineAndCharacterOfPosition(node.getEnd()).line;
      const lines = end - start + 1;
      if (lines > max) {
        const name =
          node.name?.getText(sf) ??
          (ts.isVariableDeclaration(node.parent) ? node.parent.name.getText(sf) : "(anonymous)");
        found.push(`${relative(ROOT, file)}:${start + 1} ${name} (${lines} lines)`);
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return found;
}

describe("layout", () => {
  it(`keeps every source file under ${MAX_FILE_LINES} lines`, () => {
    const long = sources
      .map((f) => [relative(ROOT, f), readFileSync(f, "utf8").split("\n").length] as const)
      .filter(([, n]) => n > MAX_FILE_LINES);
    expect(long).toEqual([]);
  });

  it(`keeps every function under ${MAX_FUNCTION_LINES} lines`, () => {
    const long = sources.flatMap((f) => longFunctions(f, readFileSync(f, "utf8"), MAX_FUNCTION_LINES));
    expect(long).toEqual([]);
  });

  it("finds a function that is too long (the checker itself)", () => {
    const body = Array.from({ length: 90 }, (_, i) => `  const x${i} = ${i};`).join("\n");
    expect(longFunctions("x.ts", `function big() {\n${body}\n}\n`, MAX_FUNCTION_LINES)).toHaveLength(1);
    expect(longFunctions("x.ts", "const small = () => 1;\n", MAX_FUNCTION_LINES)).toEqual([]);
  });

  for (const pkg of ["store", "core"]) {
    const src = join(ROOT, "packages", pkg, "src");
    const folders = readdirSync(src).filter((f) => statSync(join(src, f)).isDirectory());

    it(`${pkg}: every folder has an index.ts, and at most 6 files stay on top`, () => {
      for (const f of folders) expect(statSync(join(src, f, "index.ts")).isFile(), f).toBe(true);
      expect(readdirSync(src).filter((f) => f.endsWith(".ts")).length).toBeLessThanOrEqual(6);
    });

    it(`${pkg}: folders import each other through index.ts only, without cycles`, () => {
      const graph = new Map<string, Set<string>>();
      for (const folder of folders) {
        const deps = new Set<string>();
        for (const file of walk(join(src, folder))) {
          for (const m of readFileSync(file, "utf8").matchAll(/from "(\.\.?\/[^"]+)"/g)) {
            const target = relative(src, resolve(dirname(file), m[1] ?? ""));
            const [top, ...rest] = target.split("/");
            if (!top || top === folder || !folders.includes(top)) continue;
            expect(rest.join("/"), `${relative(ROOT, file)} imports ${target}`).toBe("index.js");
            deps.add(top);
          }
        }
        graph.set(folder, deps);
      }
      const state = new Map<string, "open" | "done">();
      const visit = (f: string, path: string[]) => {
        if (state.get(f) === "done") return;
        expect(state.get(f), `cycle: ${[...path, f].join(" -> ")}`).not.toBe("open");
        state.set(f, "open");
        for (const d of graph.get(f) ?? []) visit(d, [...path, f]);
        state.set(f, "done");
      };
      for (const f of folders) visit(f, []);
    });
  }
});
