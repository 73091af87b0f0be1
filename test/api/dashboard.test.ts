import { readFileSync } from "node:fs";
import { get } from "node:http";
import { gunzipSync } from "node:zlib";
import { DEMO_ICP } from "@icp/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually, type TestStack, testStack, waitForImport } from "../support/stack.js";

/** A raw GET (no automatic decompression), to see what goes over the wire. */
function raw(url: string, headers: Record<string, string> = {}) {
  return new Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: Buffer }>(
    (resolve, reject) => {
      get(url, { headers }, (res) => {
        const parts: Buffer[] = [];
        res.on("data", (d: Buffer) => parts.push(d));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(parts) }));
      }).on("error", reject);
    },
  );
}

const source = (file: string) => readFileSync(new URL(`../../packages/api/src/dashboard/${file}`, import.meta.url));

describe("dashboard routes", () => {
  let s: TestStack;
  let icpId: string;

  beforeAll(async () => {
    s = await testStack();
    const icp = await s.api("/v1/icps", { method: "POST", json: DEMO_ICP });
    icpId = ((await icp.json()) as { id: string }).id;
    const up = await s.api("/v1/imports", { method: "POST", csv: readFileSync("test/fixtures/accounts.csv", "utf8") });
    await waitForImport(s, ((await up.json()) as { id: string }).id, 120_000);
  }, 240_000);
  afterAll(async () => {
    await s?.stop();
  });

  it("GET /v1/reports/tiers counts accounts per tier, filtered by segment or ICP, with coverage", async () => {
    const all = await (await s.api("/v1/reports/tiers")).json();
    expect(all.tiers).toEqual({ priority: 2, nurture: 1, generic: 1, disqualified: 1 });
    expect(all.total).toBe(5);
    // The latest import's coverage: 2 of 5 accounts qualify (40%), no warning (the ICP's own
    // coverage, from the re-scoring its creation started, may be listed too).
    expect(all.coverage).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ source: "import", accounts: 5, qualified: 2, share: 0.4, warning: null }),
      ]),
    );
    for (const c of all.coverage.filter((c: { source: string }) => c.source === "icp"))
      expect(c).toMatchObject({ id: icpId, name: "SaaS scale-ups", version: 1 });
    const saas = await (await s.api("/v1/reports/tiers?segment=saas")).json();
    expect(saas.total).toBe(3); // acme-analytics.io, dunelabs.ai, tinyco.example.com
    expect(saas.tiers.priority).toBe(1);
    const byIcp = await (await s.api(`/v1/reports/tiers?icpId=${icpId}`)).json();
    expect(byIcp.total).toBe(5);
    const other = await (await s.api("/v1/reports/tiers?icpId=icp_other")).json();
    expect(other.total).toBe(0);
    expect((await fetch(`${s.url}/v1/reports/tiers`)).status).toBe(401);
  });

  it("flags a too-broad import in the coverage list", async () => {
    const accounts = Array.from({ length: 4 }, (_, i) => ({
      domain: `broad${i}.example.com`,
      name: `Broad ${i}`,
      industry: "SaaS",
      employees: 120,
      country: "France",
      technologies: ["HubSpot"],
      growthStage: "growth",
    }));
    const up = await s.api("/v1/imports", { method: "POST", json: { accounts } });
    await waitForImport(s, ((await up.json()) as { id: string }).id, 120_000);
    const r = await (await s.api("/v1/reports/tiers")).json();
    const latest = r.coverage.find((c: { source: string }) => c.source === "import");
    expect(latest).toMatchObject({ accounts: 4, qualified: 4, share: 1, warning: "too-broad" });
    expect(latest.message).toMatch(/too broad/);
  });

  it("GET /v1/reports/activity lists recent events across accounts with the account's name and tier", async () => {
    const at = new Date().toISOString();
    const res = await s.api("/v1/events", {
      method: "POST",
      json: [
        { id: "act-1", type: "opened", domain: "acme-analytics.io", at },
        { id: "act-2", type: "won", domain: "borealispay.com", amount: 9000, at },
      ],
    });
    expect(res.status).toBe(202);
    const items = await eventually(
      async () => {
        const r = (await (await s.api("/v1/reports/activity?limit=10")).json()) as { items: Record<string, unknown>[] };
        return r.items.length >= 2 ? r.items : undefined;
      },
      120_000,
      "recent activity",
    );
    expect(items).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          id: "act-1",
          type: "opened",
          account: expect.objectContaining({ domain: "acme-analytics.io", name: "Acme Analytics", tier: "priority" }),
        }),
        expect.objectContaining({ id: "act-2", type: "won", amount: 9000 }),
      ]),
    );
    const bad = await s.api("/v1/reports/activity?limit=0");
    expect(bad.status).toBe(400);
  });

  it("serves the page without a key, under a CSP that allows no inline code", async () => {
    const r = await raw(`${s.url}/dashboard`);
    expect(r.status).toBe(200);
    expect(r.headers["content-type"]).toMatch(/^text\/html/);
    const csp = String(r.headers["content-security-policy"]);
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toMatch(/unsafe-(inline|eval)/);
    const html = r.body.toString();
    expect(html).toContain('<script src="/dashboard/assets/app.js" defer></script>');
    expect(html).not.toMatch(/<script>|\son[a-z]+=|style="/);
  });

  it("serves its scripts gzipped with an ETag (304 when unchanged), plain to clients without gzip", async () => {
    const gz = await raw(`${s.url}/dashboard/assets/app.js`, { "accept-encoding": "gzip" });
    expect(gz.status).toBe(200);
    expect(gz.headers["content-encoding"]).toBe("gzip");
    expect(gz.headers["content-type"]).toMatch(/^text\/javascript/);
    expect(gunzipSync(gz.body).equals(source("app.js"))).toBe(true);
    const plain = await raw(`${s.url}/dashboard/assets/style.css`);
    expect(plain.headers["content-encoding"]).toBeUndefined();
    expect(plain.body.equals(source("style.css"))).toBe(true);
    const etag = String(gz.headers.etag);
    expect((await raw(`${s.url}/dashboard/assets/app.js`, { "if-none-match": etag })).status).toBe(304);
    const chart = await raw(`${s.url}/dashboard/assets/chart.umd.min.js`, { "accept-encoding": "gzip" });
    expect(chart.headers["cache-control"]).toContain("max-age=86400");
    expect(gunzipSync(chart.body).toString()).toContain("Chart");
    for (const p of ["nope.js", "..%2F..%2Fapp.ts", "assets.ts", "__proto__", "constructor"])
      expect((await raw(`${s.url}/dashboard/assets/${p}`)).status, p).toBe(404);
  });
});
