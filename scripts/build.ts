/**
 * Bundle every handler the manifest wires (API, queue workers, schedules) the way SST does on
 * deploy (sst.config.ts uses the same format, minification, externals and plugins from
 * scripts/lambda-bundle.mjs), so sizes and cold starts measured here are the deployed ones.
 *
 *   npm run build          -> dist/functions/<name>.mjs (+ .map), the API's dashboard files in
 *                             dist/dashboard/ (as in its deployed package), and a size table
 */
import { copyFileSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import { API, QUEUES, SCHEDULES } from "@icp/store";
import { build, type Metafile } from "esbuild";
import { dashboardCopyFiles } from "../packages/api/src/dashboard/assets.js";
import { docsCopyFiles } from "../packages/api/src/docs-assets.js";
import plugins, { type BundleKind, externalFor } from "./lambda-bundle.mjs";

export const ROOT = fileURLToPath(new URL("../", import.meta.url));
export const OUT_DIR = join(ROOT, "dist/functions");

/** SST's ESM banner: lets bundled CommonJS dependencies call `require` for Node built-ins. */
const BANNER =
  "import { createRequire as topLevelCreateRequire } from 'module';\nconst require = topLevelCreateRequire(import.meta.url);";

export type Bundle = {
  /** Bundle name: the handler file's base name (`functions/ingest.handler` -> `ingest`). */
  name: string;
  handler: string;
  kind: BundleKind;
  file: string;
  bytes: number;
  gzipBytes: number;
  /** Biggest inputs (bytes in the output), to see at a glance what a bundle is made of. */
  top: { path: string; bytes: number }[];
  /** Files shipped beside the code (SST `copyFiles`), in the package root (dist/ here). */
  files: { path: string; bytes: number }[];
};

/** The files each kind of function gets in its package besides its bundle (sst.config.ts uses the same list). */
export const copyFilesFor = (kind: BundleKind): { from: string; to: string }[] =>
  kind === "api" ? [...dashboardCopyFiles(), ...docsCopyFiles()] : [];

export function wiredHandlers(): { handler: string; kind: Bundle["kind"] }[] {
  return [
    { handler: API.handler, kind: "api" },
    ...QUEUES.map((q) => ({ handler: q.handler, kind: "worker" as const })),
    ...SCHEDULES.map((s) => ({ handler: s.handler, kind: "schedule" as const })),
  ];
}

/** Output bytes per package (or per first-party folder), from esbuild's metafile. */
function topInputs(meta: Metafile, outFile: string, n = 5): Bundle["top"] {
  const out = Object.entries(meta.outputs).find(([p]) => p.endsWith(outFile))?.[1];
  const byPkg = new Map<string, number>();
  for (const [path, { bytesInOutput }] of Object.entries(out?.inputs ?? {})) {
    const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(path);
    const key = m?.[1] ?? path.split("/").slice(0, 3).join("/");
    byPkg.set(key, (byPkg.get(key) ?? 0) + bytesInOutput);
  }
  return [...byPkg.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(([path, bytes]) => ({ path, bytes }));
}

/**
 * Bundle one handler into `<outDir>/<name>.mjs` and copy its files (SST `copyFiles`) into the
 * package root, `outDir`'s parent: the layout of the deployed package (functions/<name>.mjs).
 */
export async function buildBundle(handler: string, kind: BundleKind, outDir = OUT_DIR): Promise<Bundle> {
  const pkgRoot = dirname(outDir);
  mkdirSync(outDir, { recursive: true });
  const src = handler.replace(/\.[A-Za-z_$][\w$]*$/, "");
  const name = basename(src);
  const res = await build({
    entryPoints: { [name]: join(ROOT, `${src}.ts`) },
    outdir: outDir,
    outExtension: { ".js": ".mjs" },
    bundle: true,
    format: "esm",
    platform: "node",
    target: "node22",
    // ESM entry points of dual packages tree-shake better than their CommonJS builds.
    mainFields: ["module", "main"],
    minify: true,
    sourcemap: true,
    external: externalFor(kind),
    banner: { js: BANNER },
    plugins,
    metafile: true,
    logLevel: "warning",
  });
  writeFileSync(join(outDir, `${name}.meta.json`), JSON.stringify(res.metafile));
  const file = join(outDir, `${name}.mjs`);
  const code = readFileSync(file);
  const files = copyFilesFor(kind).map(({ from, to }) => {
    const dest = join(pkgRoot, to);
    mkdirSync(dirname(dest), { recursive: true });
    copyFileSync(join(ROOT, from), dest);
    return { path: to, bytes: statSync(dest).size };
  });
  return {
    name,
    handler,
    kind,
    file,
    bytes: code.length,
    gzipBytes: gzipSync(code).length,
    top: topInputs(res.metafile, `${name}.mjs`),
    files,
  };
}

export async function buildAll(): Promise<Bundle[]> {
  // dist/ is the packages' root: functions/<name>.mjs plus the copied files.
  for (const { to } of wiredHandlers().flatMap((h) => copyFilesFor(h.kind)))
    rmSync(join(dirname(OUT_DIR), to), { force: true });
  rmSync(OUT_DIR, { recursive: true, force: true });
  const bundles: Bundle[] = [];
  for (const { handler, kind } of wiredHandlers()) bundles.push(await buildBundle(handler, kind));
  return bundles;
}

const kb = (n: number) => `${(n / 1024).toFixed(1)} KB`;

export function sizeTable(bundles: readonly Bundle[]): string {
  const rows = bundles.map(
    (b) =>
      `| ${b.name} | ${b.kind} | ${kb(b.bytes)} | ${kb(b.gzipBytes)} | ${b.top
        .slice(0, 3)
        .map((t) => `${t.path} ${kb(t.bytes)}`)
        .join(", ")} |`,
  );
  return ["| bundle | kind | size | gzip | largest parts |", "| --- | --- | --- | --- | --- |", ...rows].join("\n");
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  try {
    const bundles = await buildAll();
    console.log(sizeTable(bundles));
    for (const b of bundles.filter((x) => x.files.length))
      console.log(`\n${b.name} also ships ${b.files.map((f) => `${f.path} (${kb(f.bytes)})`).join(", ")}`);
    console.log(`\n${bundles.length} bundles in ${OUT_DIR.replace(ROOT, "")}`);
  } catch {
    process.exit(1); // esbuild has already printed what failed, with its location
  }
}
