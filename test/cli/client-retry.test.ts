import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ApiError, Client } from "../../packages/cli/src/index.js";

// Answers 503 to the first `failures` requests of each path, then 200.
let server: Server;
let base = "";
const seen = new Map<string, number>();
beforeAll(async () => {
  server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://x");
    const n = (seen.get(url.pathname) ?? 0) + 1;
    seen.set(url.pathname, n);
    const failures = Number(url.searchParams.get("failures") ?? 0);
    if (n <= failures) {
      res.writeHead(503, { "content-type": "application/problem+json" });
      res.end(JSON.stringify({ status: 503, detail: "busy" }));
    } else {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ ok: true, n }));
    }
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

describe("cli Client: transient answers", () => {
  it("retries a 503 when the request is safe to repeat (after 1 s, then 2 s)", async () => {
    const t0 = Date.now();
    const out = await new Client(base, "k").request<{ n: number }>("/twice", {
      query: { failures: 2 },
      retry: true,
    });
    expect(out.n).toBe(3);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(2900);
  });

  it("gives the 503 as an ApiError at once when it is not", async () => {
    const err = await new Client(base, "k").request("/once", { query: { failures: 1 } }).catch((e) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect((err as ApiError).status).toBe(503);
    expect(seen.get("/once")).toBe(1);
  });
});
