import { gunzipSync } from "node:zlib";
import { OpenAPIHono } from "@hono/zod-openapi";
import type { AppEnv } from "../../context.js";
import { dashboardAsset } from "../../dashboard/assets.js";

/**
 * The page runs only same-origin scripts and styles (no inline code, no eval), talks only to
 * this API, and cannot be framed. Chart.js draws on canvases and sets sizes through the CSSOM,
 * which style-src does not restrict.
 */
export const DASHBOARD_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join("; ");

/** The page's skeleton: every value is filled in by app.js with textContent, never as HTML. */
const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>icp-sequencer dashboard</title>
<link rel="stylesheet" href="/dashboard/assets/style.css">
<script src="/dashboard/assets/chart.umd.min.js" defer></script>
<script src="/dashboard/assets/app.js" defer></script>
</head>
<body>
<header>
  <h1>icp-sequencer</h1>
  <span id="workspace-status" class="muted"></span>
  <button id="forget-key" type="button" hidden>Forget key</button>
</header>

<section id="key-panel" hidden>
  <form id="key-form">
    <label for="api-key">API key</label>
    <input id="api-key" name="api-key" type="password" autocomplete="off" required placeholder="local-dev-key">
    <button type="submit">Open dashboard</button>
    <p class="muted">Kept in this browser tab's session storage only; sent as a Bearer token to /v1.</p>
    <p id="key-error" class="error" role="alert"></p>
  </form>
</section>

<main id="main" hidden>
  <form id="filters" class="filters">
    <label>From <input id="f-from" type="date"></label>
    <label>To <input id="f-to" type="date"></label>
    <label>ICP <select id="f-icp"><option value="">All ICPs</option></select></label>
    <label>Segment <select id="f-segment"><option value="">All segments</option></select></label>
    <label>Group by <select id="f-groupby">
      <option value="segment">segment</option>
      <option value="tier">tier</option>
      <option value="icp">ICP</option>
      <option value="sequence">sequence</option>
      <option value="step">step</option>
      <option value="channel">channel</option>
      <option value="variant">variant</option>
    </select></label>
    <span id="load-status" class="muted" aria-live="polite"></span>
  </form>
  <p id="error" class="error" role="alert"></p>

  <div class="grid">
    <section class="card" id="card-tiers">
      <h2>Accounts per tier</h2>
      <div class="chart"><canvas id="chart-tiers" aria-label="Accounts per tier"></canvas></div>
      <ul id="coverage" class="warnings"></ul>
    </section>

    <section class="card" id="card-lift">
      <h2>ICP lift</h2>
      <p class="big"><span id="lift-value">–</span> <span id="lift-band" class="band"></span></p>
      <p id="lift-detail" class="muted"></p>
      <div class="chart"><canvas id="chart-lift" aria-label="Conversion ICP vs non-ICP"></canvas></div>
      <table id="lift-tiers"><thead><tr><th>Tier</th><th>Accounts</th><th>Won</th><th>Conversion</th><th>Avg deal</th><th>Sales cycle (days)</th></tr></thead><tbody></tbody></table>
    </section>

    <section class="card wide" id="card-engagement">
      <h2>Engagement by <span id="groupby-label">segment</span></h2>
      <div class="chart tall"><canvas id="chart-engagement" aria-label="Engagement rates"></canvas></div>
      <table id="engagement-table"><thead><tr></tr></thead><tbody></tbody></table>
    </section>

    <section class="card wide" id="card-funnel">
      <h2>Funnel per sequence</h2>
      <div class="chart tall"><canvas id="chart-funnel" aria-label="Step funnel"></canvas></div>
    </section>

    <section class="card" id="card-variants">
      <h2>A/B variants</h2>
      <div class="chart"><canvas id="chart-variants" aria-label="Variant comparison"></canvas></div>
      <table id="variants-table"><thead><tr></tr></thead><tbody></tbody></table>
    </section>

    <section class="card" id="card-activity">
      <h2>Recent activity</h2>
      <ol id="activity" class="feed"></ol>
    </section>

    <section class="card" id="card-mail">
      <h2>Captured mail <span class="muted">(local mode)</span></h2>
      <ol id="mail" class="feed"></ol>
    </section>
  </div>
</main>
</body>
</html>
`;

const assetHeaders = (type: string, etag: string, immutable: boolean) => ({
  "content-type": type,
  etag,
  vary: "accept-encoding",
  "cache-control": immutable ? "public, max-age=86400" : "no-cache",
  "content-security-policy": DASHBOARD_CSP,
});

/** The dashboard page and its assets, mounted at /dashboard (the data comes from /v1/reports). */
export const dashboardRoutes = new OpenAPIHono<AppEnv>()
  .get("/", (c) => {
    c.header("content-security-policy", DASHBOARD_CSP);
    c.header("cache-control", "no-cache");
    return c.html(PAGE);
  })
  .get("/assets/:file", (c) => {
    const a = dashboardAsset(c.req.param("file"));
    if (!a) return c.notFound();
    const headers = assetHeaders(a.type, a.etag, c.req.param("file") === "chart.umd.min.js");
    if (c.req.header("if-none-match") === a.etag) return c.body(null, 304, headers);
    if (/\bgzip\b/.test(c.req.header("accept-encoding") ?? ""))
      return c.body(new Uint8Array(a.gz), 200, { ...headers, "content-encoding": "gzip" });
    return c.body(new Uint8Array(gunzipSync(a.gz)), 200, headers);
  });
