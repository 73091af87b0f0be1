import { Hono } from "hono";
import { DOCS_ASSETS, type DocsAssetName, docsAsset } from "./docs-assets.js";

/**
 * Interactive docs at /docs: Swagger UI from the swagger-ui-dist package, shipped with the API
 * as the dashboard's assets are (docs-assets.ts), never from a CDN. The page has no inline
 * script (the initializer is a served file), so its CSP allows same-origin scripts only, and
 * Swagger UI does not persist the key typed into "Authorize".
 *
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

export const docsRoutes = new Hono()
  .get("/docs", (c) => {
    c.header("content-security-policy", DOCS_CSP);
    c.header("cache-control", "no-cache");
    return c.html(PAGE);
  })
  .get("/docs/assets/:file", async (c) => {
    const file = c.req.param("file");
    const headers = { "cache-control": "public, max-age=86400" };
    if (file === "init.js") return c.body(INIT, 200, { ...headers, "content-type": "text/javascript; charset=utf-8" });
    if (!Object.hasOwn(DOCS_ASSETS, file)) return c.notFound();
    const name = file as DocsAssetName;
    const body = await docsAsset(name);
    if (!body) return c.notFound();
    return c.body(new Uint8Array(body), 200, { ...headers, "content-type": DOCS_ASSETS[name].type });
  });
