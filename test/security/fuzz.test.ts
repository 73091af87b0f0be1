import { type App, createApp } from "@icp/api";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  checkCsv,
  checkJsonAccounts,
  checkResponse,
  csvCaseArb,
  describeRequest,
  type FuzzContext,
  fuzzContext,
  jsonAccountsArb,
  requestArb,
  send,
} from "../../bench/fuzz.js";
import { type TestStack, testStack } from "../support/stack.js";

/**
 * A short run of bench/fuzz.ts's generators (the bench runs ≥ 10,000 of each). A failure
 * prints fast-check's seed and counterexample: replay it with FUZZ_SEED in the bench.
 */
let s: TestStack;
let app: App;
let ctx: FuzzContext;
beforeAll(async () => {
  s = await testStack();
  app = createApp({ store: () => s.store });
  ctx = await fuzzContext(app, s.apiKey);
  expect(ctx.real.ref?.length).toBeGreaterThan(0);
});
afterAll(() => s?.stop());

describe("API fuzz", () => {
  it("answers random requests on every documented path with 2xx or a documented 4xx problem, never 5xx", async () => {
    const statuses = new Map<number, number>();
    await fc.assert(
      fc.asyncProperty(requestArb(ctx), async (req) => {
        const res = await send(app, req);
        statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
        const violation = await checkResponse(res, req.path);
        if (violation) throw new Error(`${describeRequest(req)}\n  -> ${violation}`);
      }),
      { numRuns: 300 },
    );
    // The generators must reach the handlers, not only bounce off validation.
    const ok = [...statuses].filter(([st]) => st < 300).reduce((n, [, c]) => n + c, 0);
    expect(ok).toBeGreaterThan(20);
  }, 120_000);
});

describe("response contract", () => {
  it("accepts a documented CSV report answer, and only a formula-safe one", async () => {
    const res = await app.request("/v1/reports/engagement?format=csv", {
      headers: { authorization: `Bearer ${s.apiKey}` },
    });
    expect(res.status).toBe(200);
    expect(await checkResponse(res)).toBeUndefined();
    const unsafe = new Response("group,sent\r\n=HYPERLINK(1),3\r\n", { headers: { "content-type": "text/csv" } });
    expect(await checkResponse(unsafe)).toMatch(/execute/);
  });

  it("accepts the documented pixel, redirect and unsubscribe pages only where they are documented", async () => {
    const pixel = await app.request("/t/o/not-a-token");
    expect(pixel.status).toBe(200);
    expect(await checkResponse(pixel.clone(), "/t/o/not-a-token")).toBeUndefined();
    expect(await checkResponse(pixel, "/v1/accounts")).toMatch(/image\/gif/);
    const page = await app.request("/u/not-a-token");
    expect(page.status).toBe(404);
    expect(await checkResponse(page.clone(), "/u/not-a-token")).toBeUndefined();
    expect(await checkResponse(page, "/v1/icps")).toMatch(/not problem\+json/);
    const badLink = await app.request("/t/c/not-a-token");
    expect(await checkResponse(badLink, "/t/c/not-a-token")).toBeUndefined(); // a 404 problem
    const redirect = new Response(null, { status: 302, headers: { location: "javascript:alert(1)" } });
    expect(await checkResponse(redirect, "/t/c/x")).toMatch(/Location/);
  });

  it("documents the webhook and tracking routes, without an API key", async () => {
    const doc = (await (await app.request("/openapi.json")).json()) as {
      paths: Record<string, Record<string, { security?: unknown[]; responses: Record<string, unknown> }>>;
    };
    for (const [path, method] of [
      ["/v1/webhooks/events/{workspaceId}", "post"],
      ["/t/o/{token}", "get"],
      ["/t/c/{token}", "get"],
      ["/u/{token}", "get"],
      ["/u/{token}", "post"],
    ] as const)
      expect(doc.paths[path]?.[method]?.security, `${method} ${path}`).toEqual([]);
    expect(Object.keys(doc.paths["/t/c/{token}"]?.get?.responses ?? {})).toEqual(["302", "404"]);
  });
});

describe("parser fuzz", () => {
  it("parseCsv throws only ImportFileError and reports errors on real lines with a field", () => {
    fc.assert(
      fc.property(csvCaseArb, ({ text, rowStarts }) => {
        const violation = checkCsv(text, rowStarts);
        if (violation) throw new Error(violation);
      }),
      { numRuns: 1000 },
    );
  });

  it("parseJsonAccounts throws only ImportFileError and reports errors by position with a field", () => {
    fc.assert(
      fc.property(jsonAccountsArb, (accounts) => {
        const violation = checkJsonAccounts(accounts);
        if (violation) throw new Error(violation);
      }),
      { numRuns: 1000 },
    );
  });
});
