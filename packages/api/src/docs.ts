import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { join } from "node:path";
import { Hono } from "hono";

/**
 * Interactive docs at /docs, served from the swagger-ui-dist package so they work offline.
 * Where the package is not deployed next to the function, the page falls back to a CDN copy.
 */
const ASSETS = new Set(["swagger-ui.css", "swagger-ui-bundle.js"]);
let assetDir: string | undefined;
try {
  assetDir = join(createRequire(import.meta.url).resolve("swagger-ui-dist/package.json"), "..");
} catch {
  assetDir = undefined;
}

const page = (base: string) => `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>icp-sequencer API</title>
<link rel="stylesheet" href="${base}/swagger-ui.css"></head>
<body><div id="ui"></div>
<script src="${base}/swagger-ui-bundle.js"></script>
<script>window.ui = SwaggerUIBundle({ url: "/openapi.json", dom_id: "#ui", persistAuthorization: true });</script>
</body></html>`;

export const docsRoutes = new Hono()
  .get("/docs", (c) => c.html(page(assetDir ? "/docs/assets" : "https://cdn.jsdelivr.net/npm/swagger-ui-dist@5")))
  .get("/docs/assets/:file", async (c) => {
    const file = c.req.param("file");
    if (!assetDir || !ASSETS.has(file)) return c.notFound();
    const body = await readFile(join(assetDir, file));
    return c.body(body, 200, {
      "content-type": file.endsWith(".css") ? "text/css" : "text/javascript",
      "cache-control": "public, max-age=86400",
    });
  });
