import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { safePost } from "@icp/store";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

/**
 * The webhook POST against a local receiver: pinned to the checked address, no redirects,
 * bounded, and only a failure class comes back. Loopback needs allowPrivate, as in development.
 */
const DEV = { allowPrivate: true };
const STRICT = { allowPrivate: false };
const seen: { host?: string; body: string; path?: string }[] = [];
let server: Server;
let port = 0;

function receiver(req: IncomingMessage, res: ServerResponse) {
  const chunks: Buffer[] = [];
  req.on("data", (c: Buffer) => chunks.push(c));
  req.on("end", () => {
    seen.push({
      ...(req.headers.host ? { host: req.headers.host } : {}),
      body: Buffer.concat(chunks).toString(),
      ...(req.url ? { path: req.url } : {}),
    });
    if (req.url === "/redirect") res.writeHead(302, { location: "http://169.254.169.254/" }).end();
    else if (req.url === "/missing") res.writeHead(404).end("secret remote text");
    else if (req.url === "/broken") res.writeHead(503).end("stack trace");
    else if (req.url === "/slow") setTimeout(() => res.writeHead(204).end(), 2_000);
    else res.writeHead(204).end();
  });
}

beforeAll(async () => {
  server = createServer(receiver);
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  port = (server.address() as AddressInfo).port;
});
afterAll(() => {
  server.closeAllConnections();
  server.close();
});

const post = (url: string, opts: Partial<Parameters<typeof safePost>[2]> = {}) =>
  safePost(url, { headers: { "content-type": "application/json" }, body: '{"x":1}' }, { policy: DEV, ...opts });

describe("safePost", () => {
  it("posts to an allowed target and answers ok with the status", async () => {
    await expect(post(`http://127.0.0.1:${port}/hook?a=1`)).resolves.toEqual({ ok: true, status: 204 });
    expect(seen.at(-1)).toMatchObject({ body: '{"x":1}', path: "/hook?a=1" });
  });

  it("connects to the checked address while Host stays the name (the lookup is pinned)", async () => {
    let asked = 0;
    const resolve = async () => {
      asked++;
      return [{ address: "127.0.0.1", family: 4 }];
    };
    await expect(post(`http://hooks.test:${port}/pinned`, { resolve })).resolves.toEqual({ ok: true, status: 204 });
    expect(asked).toBe(1);
    expect(seen.at(-1)).toMatchObject({ host: `hooks.test:${port}`, path: "/pinned" });
  });

  it("refuses a name when any of its addresses is refused, before connecting", async () => {
    const before = seen.length;
    const resolve = async () => [
      { address: "93.184.216.34", family: 4 },
      { address: "127.0.0.1", family: 4 },
    ];
    await expect(post(`https://hooks.test:${port}/x`, { policy: STRICT, resolve })).resolves.toEqual({
      ok: false,
      failure: "unsafe-address",
    });
    const metadata = async () => [{ address: "169.254.169.254", family: 4 }];
    await expect(post(`http://hooks.test:${port}/x`, { resolve: metadata })).resolves.toMatchObject({
      failure: "unsafe-address",
    });
    await expect(post(`http://127.0.0.1:${port}/x`, { policy: STRICT })).resolves.toMatchObject({
      failure: "unsafe-address",
    });
    expect(seen.length).toBe(before);
  });

  it("reports only the failure class: dns, redirect (not followed), 4xx, 5xx, timeout, connect, tls", async () => {
    const noSuchName = async () => {
      throw Object.assign(new Error("getaddrinfo ENOTFOUND"), { code: "ENOTFOUND" });
    };
    const noAddress = async () => [];
    await expect(post("https://nowhere.test/x", { resolve: noSuchName })).resolves.toEqual({
      ok: false,
      failure: "dns",
    });
    await expect(post("https://nowhere.test/x", { resolve: noAddress })).resolves.toEqual({
      ok: false,
      failure: "dns",
    });
    const before = seen.length;
    await expect(post(`http://127.0.0.1:${port}/redirect`)).resolves.toEqual({ ok: false, failure: "redirect" });
    expect(seen.length).toBe(before + 1); // the Location was not followed
    await expect(post(`http://127.0.0.1:${port}/missing`)).resolves.toEqual({ ok: false, failure: "http-4xx" });
    await expect(post(`http://127.0.0.1:${port}/broken`)).resolves.toEqual({ ok: false, failure: "http-5xx" });
    await expect(post(`http://127.0.0.1:${port}/slow`, { timeoutMs: 200 })).resolves.toEqual({
      ok: false,
      failure: "timeout",
    });
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, "127.0.0.1", () => r()));
    const closedPort = (closed.address() as AddressInfo).port;
    await new Promise<void>((r) => closed.close(() => r()));
    await expect(post(`http://127.0.0.1:${closedPort}/x`)).resolves.toEqual({ ok: false, failure: "connect" });
    // https to a plain-http receiver: the handshake fails.
    await expect(post(`https://127.0.0.1:${port}/x`)).resolves.toEqual({ ok: false, failure: "tls" });
  });
});
