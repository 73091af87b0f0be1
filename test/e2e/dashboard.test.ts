import { mkdirSync } from "node:fs";
import { seedDemoEngagement } from "@icp/local";
import chromium from "@sparticuz/chromium";
import { type Browser, type Page, chromium as playwright } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually, type TestStack, testStack, waitForImport } from "../support/stack.js";

/**
 * The dashboard in a real browser: the headless Chromium that @sparticuz/chromium ships
 * (unpacked to /tmp, no download), driven by playwright-core, against a local stack seeded
 * like `npm start` (demo ICP, 300 accounts, demo engagement).
 */
const ARTIFACTS = new URL("../artifacts/", import.meta.url).pathname;
const XSS = "<img src=x onerror=alert(1)>";

let s: TestStack;
let seeded: Awaited<ReturnType<typeof seedDemoEngagement>>;
let browser: Browser;
let page: Page;
const consoleErrors: string[] = [];
const dialogs: string[] = [];

/** Chart.js state of a canvas: labels and datasets (label + numbers). */
type ChartState = { type: string; labels: string[]; datasets: { label: string; data: number[] }[] } | null;
const chartState = (id: string) =>
  page.evaluate((id) => {
    const c = (
      window as unknown as {
        Chart: {
          getChart(e: Element): {
            config: { type: string };
            data: { labels: unknown[]; datasets: { label?: string; data: unknown[] }[] };
          };
        };
      }
    ).Chart.getChart(document.getElementById(id) as Element);
    if (!c) return null;
    return {
      type: c.config.type,
      labels: c.data.labels.map(String),
      datasets: c.data.datasets.map((d) => ({ label: String(d.label), data: d.data.map(Number) })),
    };
  }, id) as Promise<ChartState>;

/** Pixels actually drawn on a canvas (not transparent). */
const drawnPixels = (id: string) =>
  page.evaluate((id) => {
    const canvas = document.getElementById(id) as HTMLCanvasElement;
    const ctx = canvas.getContext("2d");
    if (!ctx || canvas.width === 0 || canvas.height === 0) return 0;
    const { data } = ctx.getImageData(0, 0, canvas.width, canvas.height);
    let n = 0;
    for (let i = 3; i < data.length; i += 4) if ((data[i] as number) > 0) n++;
    return n;
  }, id);

const waitReady = () => page.waitForSelector("body[data-state=ready]", { timeout: 60_000 });

beforeAll(async () => {
  s = await testStack({ seed: true });
  const importId = s.seeded?.importId as string;
  await waitForImport(s, importId, 180_000);
  seeded = await seedDemoEngagement(s.store, importId);
  // A prospect whose company name is markup, with fresh engagement so it shows in recent activity.
  const xss = await s.api("/v1/imports", {
    method: "POST",
    json: { accounts: [{ domain: "xss-prospect.example.com", name: XSS, industry: "SaaS", employees: 120 }] },
  });
  await waitForImport(s, ((await xss.json()) as { id: string }).id, 120_000);
  expect(
    (await s.api("/v1/events", { method: "POST", json: { type: "replied", domain: "xss-prospect.example.com" } }))
      .status,
  ).toBe(202);
  await eventually(
    async () => {
      const r = (await (await s.api("/v1/reports/activity?limit=5")).json()) as { items: { type: string }[] };
      return r.items.some((e) => e.type === "replied") ? true : undefined;
    },
    120_000,
    "the XSS prospect's reply in recent activity",
  );
  browser = await playwright.launch({
    executablePath: await chromium.executablePath(),
    args: chromium.args,
    headless: true,
  });
  page = await browser.newPage({ viewport: { width: 1400, height: 1800 } });
  page.on("console", (m) => {
    if (m.type() === "error") consoleErrors.push(m.text());
  });
  page.on("pageerror", (e) => consoleErrors.push(`pageerror: ${e.message}`));
  page.on("dialog", (d) => {
    dialogs.push(d.message());
    void d.dismiss();
  });
}, 420_000);

afterAll(async () => {
  await browser?.close();
  await s?.stop();
});

describe("dashboard in headless Chromium", () => {
  it("serves the page with a strict CSP, no inline script", async () => {
    const res = await fetch(`${s.url}/dashboard`);
    expect(res.status).toBe(200);
    const csp = res.headers.get("content-security-policy") ?? "";
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toContain("unsafe-inline");
    const html = await res.text();
    expect(html).not.toMatch(/<script>(?!<)/);
    expect(html).not.toMatch(/\son[a-z]+=/);
  });

  it("asks for the API key, refuses a wrong one, then shows the dashboard", async () => {
    await page.goto(`${s.url}/dashboard`);
    await page.waitForSelector("#key-panel:not([hidden])");
    await page.fill("#api-key", "not-a-key");
    await page.click("#key-form button[type=submit]");
    await page.waitForFunction(() => document.getElementById("key-error")?.textContent !== "");
    expect(await page.textContent("#key-error")).toContain("not valid");
    consoleErrors.length = 0; // the refused key's 401 is logged by the browser, as it should be
    await page.fill("#api-key", s.apiKey);
    await page.click("#key-form button[type=submit]");
    await waitReady();
    expect(await page.isVisible("#main")).toBe(true);
    expect(await page.isVisible("#key-panel")).toBe(false);
    expect(await page.evaluate(() => sessionStorage.getItem("icp.apiKey"))).toBe(s.apiKey);
  });

  it("draws every chart from the demo data", async () => {
    expect(seeded?.recorded).toBe(seeded?.events);
    const tiers = await chartState("chart-tiers");
    expect(tiers?.labels).toEqual(["priority", "nurture", "generic", "disqualified"]);
    expect(tiers?.datasets[0]?.data.reduce((a, b) => a + b, 0)).toBe(301); // 300 demo accounts + the XSS one

    // ICP coverage (issue "ICP lifecycle"): the demo import's share of qualifying accounts.
    const coverage = await page.locator("#coverage li").allTextContents();
    expect(
      coverage.filter((t) => t.startsWith("Import ")),
      coverage.join(" | "),
    ).not.toEqual([]);

    const engagement = await chartState("chart-engagement");
    expect(engagement?.type).toBe("bar");
    expect([...(engagement?.labels ?? [])].sort()).toEqual(["default", "fintech", "saas"]);
    expect(engagement?.datasets.map((d) => d.label)).toEqual([
      "open rate",
      "click rate",
      "reply rate",
      "meeting rate",
      "win rate",
    ]);
    for (const d of engagement?.datasets ?? []) expect(Math.max(...d.data)).toBeGreaterThan(0);

    const lift = await chartState("chart-lift");
    expect(lift?.datasets[0]?.data[0]).toBeGreaterThan(lift?.datasets[0]?.data[1] ?? Number.POSITIVE_INFINITY);
    expect(await page.textContent("#lift-band")).toBe("3-4x");

    const funnel = await chartState("chart-funnel");
    expect(funnel?.labels.length).toBeGreaterThanOrEqual(9); // 4 + 3 + 2 steps of the demo sequences
    expect(funnel?.datasets.map((d) => d.label)).toEqual(["sent", "opened", "clicked", "replied"]);
    expect(Math.max(...(funnel?.datasets[0]?.data ?? [0]))).toBeGreaterThan(50);

    const variants = await chartState("chart-variants");
    expect(variants?.datasets.map((d) => d.label)).toEqual(["variant A", "variant B"]);
    expect(variants?.labels.length).toBe(2); // the priority and nurture sequences' first steps

    for (const id of ["chart-tiers", "chart-engagement", "chart-lift", "chart-funnel", "chart-variants"])
      expect(await drawnPixels(id), id).toBeGreaterThan(500);
    expect(await page.locator("#engagement-table tbody tr").count()).toBe(4); // 3 segments + total
    expect(await page.locator("#lift-tiers tbody tr").count()).toBeGreaterThanOrEqual(3);
    expect(await page.locator("#activity li").count()).toBeGreaterThan(5);
  });

  it("renders a prospect's markup as text, never as HTML", async () => {
    const activity = (await page.textContent("#activity")) ?? "";
    expect(activity).toContain(XSS);
    expect(await page.locator("#activity img").count()).toBe(0);
    expect(await page.locator("img").count()).toBe(0);
    expect(dialogs).toEqual([]);
  });

  it("changes the charts when a filter changes", async () => {
    const before = await chartState("chart-engagement");
    await page.selectOption("#f-groupby", "tier");
    await waitReady();
    const byTier = await chartState("chart-engagement");
    expect(byTier?.labels).not.toEqual(before?.labels);
    expect(["priority", "nurture", "generic"]).toEqual(expect.arrayContaining(byTier?.labels ?? []));
    expect(await page.textContent("#groupby-label")).toBe("tier");

    // Only the last 20 days: fewer accounts reached, different rates.
    const reachedBefore = await page.textContent("#engagement-table tbody tr:last-child td:nth-child(2)");
    const from = new Date(Date.now() - 20 * 86_400_000).toISOString().slice(0, 10);
    await page.fill("#f-from", from);
    await waitReady();
    const recent = await chartState("chart-engagement");
    expect(recent?.datasets).not.toEqual(byTier?.datasets);
    const reachedAfter = await page.textContent("#engagement-table tbody tr:last-child td:nth-child(2)");
    expect(Number(reachedAfter?.replace(/,/g, ""))).toBeLessThan(Number(reachedBefore?.replace(/,/g, "")));

    // One segment: the tier distribution and the engagement groups follow.
    const tiersAll = await chartState("chart-tiers");
    await page.selectOption("#f-segment", "fintech");
    await waitReady();
    const tiersFintech = await chartState("chart-tiers");
    const sum = (c: ChartState) => c?.datasets[0]?.data.reduce((a, b) => a + b, 0) ?? 0;
    expect(sum(tiersFintech)).toBeGreaterThan(0);
    expect(sum(tiersFintech)).toBeLessThan(sum(tiersAll));
  });

  it("keeps the key for the session: a reload opens the dashboard directly", { timeout: 120_000 }, async () => {
    await page.reload();
    await waitReady();
    expect(await page.isVisible("#key-panel")).toBe(false);
    expect(await chartState("chart-engagement")).not.toBeNull();
  });

  it("logged no console errors (no CSP violation either) and opened no dialog; screenshot for review", {
    timeout: 240_000,
  }, async () => {
    await page.selectOption("#f-segment", "");
    await page.selectOption("#f-groupby", "segment");
    await page.fill("#f-from", "");
    await waitReady();
    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: `${ARTIFACTS}dashboard.png`, fullPage: true, timeout: 120_000 });
    expect(consoleErrors).toEqual([]);
    expect(dialogs).toEqual([]);
  });
});
