import { createApp } from "@icp/api";
import { createApiKey, ensureWorkspace } from "@icp/store";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type TestStack, testStack } from "../support/stack.js";

let s: TestStack;
beforeAll(async () => {
  s = await testStack();
});
afterAll(() => s?.stop());

/** The Node server's view of the caller, as @hono/node-server passes it to the app. */
const fromSocket = (address: string) => ({ incoming: { socket: { remoteAddress: address } } });
/** API Gateway's view of the caller, as hono/aws-lambda passes it. */
const fromGateway = (sourceIp: string) => ({ event: { requestContext: { http: { sourceIp } } } });
const bearer = (key: string, extra: Record<string, string> = {}) => ({
  headers: { authorization: `Bearer ${key}`, ...extra },
});

async function expectTooMany(res: Response) {
  expect(res.status).toBe(429);
  expect(Number(res.headers.get("retry-after"))).toBeGreaterThan(0);
  expect(res.headers.get("content-type")).toContain("application/problem+json");
  expect((await res.json()).type).toBe("/problems/too-many-requests");
}

describe("failed authentication is throttled per client", () => {
  it("refuses bad keys from a hammering address, never a working key behind the same address", async () => {
    const app = createApp({ store: () => s.store, settings: () => s.settings });
    const attacker = fromSocket("203.0.113.7");
    // The working client at that address has been using its key.
    expect((await app.request("/v1/icps", bearer(s.apiKey), attacker)).status).toBe(200);
    const statuses: number[] = [];
    for (let i = 0; i < 40; i++) {
      // Spoofed X-Forwarded-For changes nothing: the address is the socket's.
      const forged = bearer(`icp_000000000000_guess${i}`, { "x-forwarded-for": `198.51.100.${i}` });
      const res = await app.request("/v1/icps", forged, attacker);
      statuses.push(res.status);
      if (res.status === 429) await expectTooMany(res);
      // Interleaved, the working key keeps being served.
      if (i % 5 === 0) expect((await app.request("/v1/icps", bearer(s.apiKey), attacker)).status).toBe(200);
    }
    expect(statuses.slice(0, 30).every((x) => x === 401)).toBe(true);
    expect(statuses.slice(30).every((x) => x === 429)).toBe(true);
    // A malformed header from the throttled address is refused the same way, without a lookup.
    await expectTooMany(await app.request("/v1/icps", { headers: { authorization: "Basic x" } }, attacker));
    // Another address is not affected, and a key verified there is served at the throttled one too.
    const fresh = await createApiKey(s.store, s.workspace, "fresh", ["read"]);
    expect((await app.request("/v1/icps", bearer(fresh.key), fromSocket("192.0.2.1"))).status).toBe(200);
    expect((await app.request("/v1/icps", bearer(fresh.key), attacker)).status).toBe(200);
  });

  it("counts API Gateway's source address in Lambda", async () => {
    const app = createApp({ store: () => s.store, settings: () => s.settings });
    for (let i = 0; i < 30; i++)
      expect((await app.request("/v1/icps", bearer(`bad-${i}-key`), fromGateway("203.0.113.9"))).status).toBe(401);
    await expectTooMany(await app.request("/v1/icps", bearer("bad-key-again"), fromGateway("203.0.113.9")));
    expect((await app.request("/v1/icps", bearer("bad-key-again"), fromGateway("203.0.113.10"))).status).toBe(401);
  });
});

describe("public routes are rate limited", () => {
  it("per link on the unsubscribe page and the tracking pixel, per address too", async () => {
    const app = createApp({ store: () => s.store, settings: () => s.settings });
    for (let i = 0; i < 10; i++)
      expect((await app.request("/u/not-a-token", {}, fromSocket(`192.0.2.${i}`))).status).toBe(404);
    await expectTooMany(await app.request("/u/not-a-token", {}, fromSocket("192.0.2.99")));
    for (let i = 0; i < 30; i++)
      expect((await app.request("/t/o/pixel-token", {}, fromSocket("192.0.2.50"))).status).toBe(200);
    await expectTooMany(await app.request("/t/o/pixel-token", {}, fromSocket("192.0.2.51")));
    // One address, many links: the unsubscribe page allows 60 a minute.
    const one = fromSocket("192.0.2.200");
    for (let i = 0; i < 60; i++) expect((await app.request(`/u/link-${i}`, {}, one)).status).toBe(404);
    await expectTooMany(await app.request("/u/link-60", {}, one));
  });
});

describe("cursors are opaque and tamper-evident", () => {
  it("serves its own cursors, answers 400 to an altered one or another workspace's", async () => {
    const rows = Array.from({ length: 5 }, (_, i) => ({ domain: `cursor-${i}.example.com` }));
    expect((await s.api("/v1/imports", { method: "POST", json: { accounts: rows } })).status).toBe(202);
    const { eventually } = await import("../support/stack.js");
    const first = await eventually(async () => {
      const page = await (await s.api("/v1/accounts?limit=2")).json();
      return page.nextCursor ? (page as { nextCursor: string }) : undefined;
    });
    expect(first.nextCursor).toMatch(/^[\w-]+\.[\w-]{22}$/);
    expect((await s.api(`/v1/accounts?limit=2&cursor=${first.nextCursor}`)).status).toBe(200);
    // Inside: the store's own cursor (base64url JSON), sealed by the API.
    const [body, mac] = first.nextCursor.split(".") as [string, string];
    const b64 = (x: string) => Buffer.from(x).toString("base64url");
    const storeCursor = Buffer.from(body, "base64url").toString();
    const inner = JSON.parse(Buffer.from(storeCursor, "base64url").toString());
    const tampered = [
      `${body}.${mac.slice(0, -1)}${mac.endsWith("A") ? "B" : "A"}`,
      `${b64(b64(JSON.stringify({ ...inner, t: 1 })))}.${mac}`,
      body,
      storeCursor,
    ];
    for (const cursor of tampered) {
      const res = await s.api(`/v1/accounts?limit=2&cursor=${cursor}`);
      expect(res.status, cursor).toBe(400);
      expect(res.headers.get("content-type")).toContain("application/problem+json");
      expect((await res.json()).errors).toEqual([{ field: "cursor", message: "invalid cursor" }]);
    }
    await ensureWorkspace(s.store, "cursor-neighbour", "n");
    const theirs = await createApiKey(s.store, "cursor-neighbour", "theirs", ["read"]);
    const res = await fetch(`${s.url}/v1/accounts?limit=2&cursor=${first.nextCursor}`, bearer(theirs.key));
    expect(res.status).toBe(400);
  });
});

describe("HTML pages carry a Content-Security-Policy; docs ship with the API", () => {
  it("docs: same-origin scripts only, no inline script, no CDN, no persisted authorization", async () => {
    const res = await fetch(`${s.url}/docs`);
    const csp = res.headers.get("content-security-policy") ?? "";
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toMatch(/https?:|unsafe-eval|script-src[^;]*unsafe-inline/);
    const html = await res.text();
    expect(html).not.toMatch(/cdn|https?:\/\//);
    expect(html.match(/<script[^>]*>/g)?.every((tag) => /src="\/docs\/assets\//.test(tag))).toBe(true);
    for (const src of html.match(/(?<=(src|href)=")\/docs\/assets\/[^"]+/g) ?? []) {
      const asset = await fetch(`${s.url}${src}`);
      expect(asset.status, src).toBe(200);
      expect(asset.headers.get("content-type")).toMatch(/javascript|css/);
      if (src.endsWith("init.js")) expect(await asset.text()).toContain("persistAuthorization: false");
      else await asset.arrayBuffer();
    }
  });

  it("the dashboard and the unsubscribe pages", async () => {
    expect((await fetch(`${s.url}/dashboard`)).headers.get("content-security-policy")).toContain("script-src 'self'");
    const page = await fetch(`${s.url}/u/not-a-token`);
    expect(page.headers.get("content-type")).toContain("text/html");
    const csp = page.headers.get("content-security-policy") ?? "";
    expect(csp).toContain("default-src 'none'");
    expect(csp).not.toContain("script-src");
    await page.text();
  });
});
