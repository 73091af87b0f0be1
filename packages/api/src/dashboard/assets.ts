import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";

/**
 * A text file the dashboard serves, gzipped: `gzipped(".", "app.js")` is a file next to this
 * module, `gzipped("chart.js", "chart.umd.min.js")` one in that package's entry-point folder.
 * Under Node (npm start, tests) it is read and compressed on first use. In the Lambda bundles,
 * where neither this folder nor node_modules is deployed, scripts/lambda-bundle.mjs
 * (inlineDashboardAssets) replaces each call with the compressed bytes as base64, so the page
 * works offline in both and chart.js adds ~70 KB to the API bundle instead of 210 KB.
 */
function gzipped(pkg: string, file: string): () => Buffer {
  return () => {
    const dir =
      pkg === "." ? dirname(fileURLToPath(import.meta.url)) : dirname(createRequire(import.meta.url).resolve(pkg));
    return gzipSync(readFileSync(join(dir, file)), { level: 9 });
  };
}

const JS = "text/javascript; charset=utf-8";
const SOURCES: Record<string, { load: () => Buffer; type: string }> = {
  "app.js": { load: gzipped(".", "app.js"), type: JS },
  "style.css": { load: gzipped(".", "style.css"), type: "text/css; charset=utf-8" },
  "chart.umd.min.js": { load: gzipped("chart.js", "chart.umd.min.js"), type: JS },
};

export type Asset = { gz: Buffer; type: string; etag: string };
const loaded = new Map<string, Asset>();

/** The asset by file name (compressed, with its content type and ETag), or undefined. */
export function dashboardAsset(name: string): Asset | undefined {
  const src = Object.hasOwn(SOURCES, name) ? SOURCES[name] : undefined;
  if (!src) return undefined;
  let a = loaded.get(name);
  if (!a) {
    const gz = src.load();
    a = { gz, type: src.type, etag: `"${createHash("sha256").update(gz).digest("base64url").slice(0, 22)}"` };
    loaded.set(name, a);
  }
  return a;
}
