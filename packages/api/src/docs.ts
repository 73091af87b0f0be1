import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Hono } from "hono";

/**
 * Interactive docs at /docs: Swagger UI from the swagger-ui-dist package, shipped with the API
 * as the dashboard's assets are (docsCopyFiles: sst.config.ts `copyFiles` and `npm run build`
 * put them in the function package's `docs/` folder), never from a CDN. The page has no inline
 * script (the initializer is a served file), so its CSP allows same-origin scripts only, and
 * Swagger UI does not persist the key typed into "Authorize".
 */
const JS = "text/javascript; charset=utf-8";
export const DOCS_ASSETS = {
  "swagger-ui.css": { source: "node_modules/swagger-ui-dist/swagger-ui.css", type: "text/css; charset=utf-8" },
  "swagger-ui-bundle.js": { source: "node_modules/swagger-ui-dist/swagger-ui-bundle.js", type: JS },
} as const;
type DocsAssetName = keyof typeof DOCS_ASSETS;

/** Folder of the function package (next to `functions/`) that holds the assets in a deployment. */
export const DOCS_ASSET_DIR = "docs";

/** What a deployment copies into the function package: SST's `copyFiles` entries (paths relative to the repository). */
export function docsCopyFiles(): { from: string; to: string }[] {
  return Object.entries(DOCS_ASSETS).map(([name, a]) => ({ from: a.source, to: `${DOCS_ASSET_DIR}/${name}` }));
}

/**
 * Swagger UI draws with inline style attributes and data: images, and fetches the spec (and
 * "Try it out" calls) from this origin; scripts come only from /docs/assets.
 */
export const DOCS_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join("; ");

const INIT = `window.ui = SwaggerUIBundle({ url: "/openapi.json", dom_id: "#ui", persistAuthorization: false });\n`;

const PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>icp-sequencer API</title>
<link rel="stylesheet" href="/docs/assets/swagger-ui.css"></head>
<body><div id="ui"></div>
<script src="/docs/assets/swagger-ui-bundle.js"></script>
<script src="/docs/assets/init.js"></script>
</body></html>`;

/**
 * Where a file is looked for, first found wins: the function package (`$LAMBDA_TASK_ROOT/docs/`,
 * or `docs/` beside a bundle's folder), the repository from this module's place in it (npm start,
 * tests), the working directory's repository (`sst dev`).
 */
function locate(name: DocsAssetName): string | undefined {
  const here = import.meta.url;
  const packaged = process.env.LAMBDA_TASK_ROOT
    ? join(process.env.LAMBDA_TASK_ROOT, DOCS_ASSET_DIR)
    : fileURLToPath(new URL(`../${DOCS_ASSET_DIR}/`, here));
  const source = DOCS_ASSETS[name].source;
  const tried = [join(packaged, name), fileURLToPath(new URL(`../../../${source}`, here)), join(process.cwd(), source)];
  return tried.find((f) => existsSync(f));
}

const loaded = new Map<DocsAssetName, Buffer>();

async function asset(name: DocsAssetName): Promise<Buffer | undefined> {
  let body = loaded.get(name);
  if (!body) {
    const file = locate(name);
    if (!file) return undefined;
    body = await readFile(file);
    loaded.set(name, body);
  }
  return body;
}

export const docsRoutes = new Hono()
  .get("/docs", (c) => {
    c.header("content-security-policy", DOCS_CSP);
    c.header("cache-control", "no-cache");
    return c.html(PAGE);
  })
  .get("/docs/assets/:file", async (c) => {
    const file = c.req.param("file");
    const headers = { "cache-control": "public, max-age=86400" };
    if (file === "init.js") return c.body(INIT, 200, { ...headers, "content-type": JS });
    if (!Object.hasOwn(DOCS_ASSETS, file)) return c.notFound();
    const name = file as DocsAssetName;
    const body = await asset(name);
    if (!body) return c.notFound();
    return c.body(new Uint8Array(body), 200, { ...headers, "content-type": DOCS_ASSETS[name].type });
  });
