import { spawn } from "node:child_process";
import { cpSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { gunzipSync } from "node:zlib";
import { API, configToEnv, QUEUES, type StoreConfig, settingsToEnv } from "@icp/store";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DASHBOARD_ASSETS, dashboardCopyFiles } from "../../packages/api/src/dashboard/assets.js";
import { DOCS_ASSETS, docsCopyFiles } from "../../packages/api/src/docs-assets.js";
import { type Bundle, buildBundle, copyFilesFor } from "../../scripts/build.js";
import { httpEvent, lambdaContext } from "./lambda-events.js";
import { evaluateSstConfig } from "./sst-fake.js";

/**
 * In Lambda neither packages/api/src/dashboard nor node_modules is deployed, and the dashboard's
 * files are not in the API's code (chart.js would add ~200 KB to every cold start): they ship as
 * files of the function package (sst.config.ts `copyFiles`). Build the API the way
 * `npm run build` does, lay out its package the way SST zips it (functions/api.mjs + the copied
 * files) in a folder where nothing else exists, and check what the handler serves from there.
 */
const root = new URL("../../", import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), "dash-bundle-"));
const pkg = join(dir, "package");
let bundle: Bundle;

beforeAll(async () => {
  bundle = await buildBundle(API.handler, "api", join(pkg, "functions"));
}, 120_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

type LambdaResponse = {
  statusCode: number;
  headers?: Record<string, string>;
  body?: string;
  isBase64Encoded?: boolean;
};

/** Invoke the built handler in a fresh `node` whose working directory is `cwd`, as Lambda would. */
function invoke(cwd: string, file: string, paths: string[]): Promise<LambdaResponse[]> {
  const env = configToEnv({
    tableName: "icp-test",
    region: "us-east-1",
    queues: Object.fromEntries(
      QUEUES.map((q) => [q.name, `http://127.0.0.1:9/000000000000/${q.name}`]),
    ) as StoreConfig["queues"],
    dynamoEndpoint: "http://127.0.0.1:9",
    sqsEndpoint: "http://127.0.0.1:9",
  });
  const child = `
    const { handler } = await import(${JSON.stringify(pathToFileURL(file).href)});
    const out = [];
    for (const e of JSON.parse(process.env.EVENTS)) out.push(await handler(e, JSON.parse(process.env.CONTEXT)));
    console.log(JSON.stringify(out));`;
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, ["--input-type=module", "-e", child], {
      cwd,
      env: {
        PATH: process.env.PATH ?? "",
        NODE_NO_WARNINGS: "1",
        POWERTOOLS_SERVICE_NAME: "icp-sequencer",
        ...env,
        // The API fails closed without these (see test/infra/bundles-e2e.test.ts).
        ...settingsToEnv({ trackingSecret: "dashboard-test", publicUrl: "https://api.example.test" }),
        EVENTS: JSON.stringify(paths.map((p) => httpEvent("GET", p))),
        CONTEXT: JSON.stringify(lambdaContext("api")),
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    let err = "";
    p.stdout.on("data", (d) => {
      out += d;
    });
    p.stderr.on("data", (d) => {
      err += d;
    });
    p.once("exit", (code) => {
      const last = out.trim().split("\n").pop() ?? "";
      if (code !== 0 || !last.startsWith("[")) return reject(new Error(`exit ${code}\n${err}${out}`));
      resolve(JSON.parse(last) as LambdaResponse[]);
    });
  });
}

const bodyOf = (r: LambdaResponse) => {
  const b = Buffer.from(r.body ?? "", r.isBase64Encoded ? "base64" : "utf8");
  return r.headers?.["content-encoding"] === "gzip" ? gunzipSync(b) : b;
};
const names = Object.keys(DASHBOARD_ASSETS) as (keyof typeof DASHBOARD_ASSETS)[];
const source = (name: keyof typeof DASHBOARD_ASSETS) => readFileSync(join(root, DASHBOARD_ASSETS[name].source));

describe("dashboard assets of the deployed API", () => {
  it("are copied into the API's function package by sst.config.ts, and only into it", async () => {
    const { declared } = await evaluateSstConfig();
    const api = declared.find((d) => d.type === "sst.aws.ApiGatewayV2" && d.name === API.name);
    const route = api?.calls.find((c) => c.method === "route")?.args[1] as { copyFiles?: unknown };
    const apiFiles = [...dashboardCopyFiles(), ...docsCopyFiles()];
    expect(route.copyFiles).toEqual(apiFiles);
    expect(copyFilesFor("api")).toEqual(apiFiles);
    expect(copyFilesFor("worker")).toEqual([]);
    const subscribers = declared.flatMap((d) => d.calls.filter((c) => c.method === "subscribe"));
    expect(subscribers.length).toBe(QUEUES.length);
    for (const s of subscribers) expect((s.args[0] as { copyFiles?: unknown }).copyFiles).toBeUndefined();
    // Every asset the API serves is listed, from a file that exists (SST fails the deploy otherwise).
    expect(dashboardCopyFiles().map((f) => f.to)).toEqual(names.map((n) => `dashboard/${n}`));
    for (const n of names) expect(source(n).length, n).toBeGreaterThan(0);
  });

  it("leaves the files out of the API's code", () => {
    const code = readFileSync(bundle.file, "utf8");
    const chart = source("chart.umd.min.js").toString("utf8");
    expect(code).not.toContain(chart.slice(0, 200));
    expect(code).not.toContain("H4sI"); // no gzip stream inlined as base64 any more
    expect(bundle.bytes).toBeLessThan(1024 * 1024);
    expect(bundle.files.map((f) => f.path)).toEqual([
      ...names.map((n) => `dashboard/${n}`),
      ...Object.keys(DOCS_ASSETS).map((n) => `docs/${n}`),
    ]);
  });

  it("serves the packaged files' bytes from a package where nothing else exists", async () => {
    // The package alone, moved away from the repository (no node_modules, no packages/).
    const alone = join(dir, "alone");
    cpSync(pkg, alone, { recursive: true });
    const file = join(alone, "functions", "api.mjs");
    const res = await invoke(alone, file, [...names.map((n) => `/dashboard/assets/${n}`), "/dashboard/assets/x.js"]);
    names.forEach((n, i) => {
      const r = res[i] as LambdaResponse;
      expect(r.statusCode, n).toBe(200);
      expect(r.headers?.["content-type"], n).toBe(DASHBOARD_ASSETS[n].type);
      expect(bodyOf(r).equals(source(n)), `${n}: same bytes as the repository's file`).toBe(true);
    });
    expect(res[names.length]?.statusCode).toBe(404);
    // Swagger UI for /docs ships the same way (never from a CDN).
    const docs = Object.entries(DOCS_ASSETS);
    const served = await invoke(
      alone,
      file,
      docs.map(([n]) => `/docs/assets/${n}`),
    );
    docs.forEach(([n, a], i) => {
      expect(served[i]?.statusCode, n).toBe(200);
      expect(bodyOf(served[i] as LambdaResponse).equals(readFileSync(join(root, a.source))), n).toBe(true);
    });
  }, 60_000);

  it("needs those files: without the copied folder the assets are not served", async () => {
    const bare = join(dir, "bare");
    cpSync(join(pkg, "functions"), join(bare, "functions"), { recursive: true });
    const [chart] = await invoke(bare, join(bare, "functions", "api.mjs"), ["/dashboard/assets/chart.umd.min.js"]);
    expect(chart?.statusCode).toBe(500);
  }, 60_000);
});
