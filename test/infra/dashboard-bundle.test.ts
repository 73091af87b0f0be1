import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { gunzipSync } from "node:zlib";
import { build } from "esbuild";
import { afterAll, describe, expect, it } from "vitest";
import plugins, { inlineDashboardAssets } from "../../scripts/lambda-bundle.mjs";

/**
 * In Lambda neither packages/api/src/dashboard nor node_modules is deployed: the bundler must
 * carry the dashboard's files. Bundle the assets module the way scripts/build.ts and SST do
 * (same plugins), run it from a folder where nothing else exists, and compare what it serves.
 */
const root = new URL("../../", import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), "dash-bundle-"));

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("dashboard assets in the Lambda bundle", () => {
  it("is wired into the shared bundler plugins", () => {
    expect(plugins).toContain(inlineDashboardAssets);
  });

  it("serves the same bytes from the bundle as from the source tree, without reading any file", async () => {
    const res = await build({
      entryPoints: [join(root, "packages/api/src/dashboard/assets.ts")],
      bundle: true,
      format: "esm",
      platform: "node",
      target: "node20",
      minify: true,
      write: false,
      plugins,
    });
    const code = res.outputFiles[0]?.text ?? "";
    expect(code).not.toContain("readFileSync");
    expect(code).not.toContain('chart.umd.min.js")'); // no gzipped("chart.js", …) call left
    const file = join(dir, "assets.mjs");
    writeFileSync(file, code);
    const mod = (await import(pathToFileURL(file).href)) as {
      dashboardAsset(name: string): { gz: Buffer; type: string; etag: string } | undefined;
    };
    const chart = mod.dashboardAsset("chart.umd.min.js");
    expect(
      gunzipSync(chart?.gz ?? Buffer.alloc(0)).equals(
        readFileSync(join(root, "node_modules/chart.js/dist/chart.umd.min.js")),
      ),
    ).toBe(true);
    const app = mod.dashboardAsset("app.js");
    expect(
      gunzipSync(app?.gz ?? Buffer.alloc(0)).equals(readFileSync(join(root, "packages/api/src/dashboard/app.js"))),
    ).toBe(true);
    expect(mod.dashboardAsset("style.css")?.type).toMatch(/^text\/css/);
    expect(mod.dashboardAsset("assets.ts")).toBeUndefined();
    // chart.js (210 KB) travels gzipped: the whole module stays near 100 KB.
    expect(code.length).toBeLessThan(130_000);
  });
});
