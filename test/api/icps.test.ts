import { createApp } from "@icp/api";
import { DEMO_ICP } from "@icp/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type TestStack, testStack } from "../support/stack.js";

let s: TestStack;
let app: ReturnType<typeof createApp>;
const req = (path: string, init: RequestInit & { json?: unknown } = {}) => {
  const headers = new Headers(init.headers);
  if (!headers.has("authorization")) headers.set("authorization", `Bearer ${s.apiKey}`);
  if (init.json !== undefined) headers.set("content-type", "application/json");
  return app.request(path, {
    ...init,
    headers,
    ...(init.json !== undefined ? { body: JSON.stringify(init.json) } : {}),
  });
};

beforeAll(async () => {
  s = await testStack();
  app = createApp({ store: () => s.store });
});
afterAll(() => s?.stop());

describe("ICPs API", () => {
  it("creates the seeds' example ICP with defaults and reads it back", async () => {
    const res = await req("/v1/icps", { method: "POST", json: DEMO_ICP });
    expect(res.status).toBe(201);
    const icp = await res.json();
    expect(icp).toMatchObject({
      version: 1,
      name: "SaaS scale-ups",
      status: "active",
      tiers: { priority: 70, nurture: 40 },
    });
    expect(icp.id).toMatch(/^icp_/);
    expect(res.headers.get("location")).toBe(`/v1/icps/${icp.id}`);
    const points = icp.criteria.map((c: { id: string; points: number }) => [c.id, c.points]);
    expect(points).toEqual([
      ["size", 25],
      ["industry", 20],
      ["country", 10],
      ["tech-stack", 15],
      ["intent", 20],
      ["growth", 10],
    ]);

    expect(icp.rescoreId).toMatch(/^rsc_/);
    expect(icp).toMatchObject({
      latestVersion: 1,
      reviewDue: false,
      versionAgeDays: 0,
      activatedBy: expect.stringMatching(/^key:/),
    });
    const { rescoreId: _r, ...rest } = icp;
    const got = await (await req(`/v1/icps/${icp.id}`)).json();
    expect(got).toEqual(rest);
    const list = await (await req("/v1/icps")).json();
    expect(list.items.map((i: { id: string }) => i.id)).toContain(icp.id);
  });

  it("PUT makes a new version and keeps every version", async () => {
    const { id } = await (await req("/v1/icps", { method: "POST", json: DEMO_ICP })).json();
    const v2 = await req(`/v1/icps/${id}`, {
      method: "PUT",
      json: { ...DEMO_ICP, name: "SaaS scale-ups v2", tiers: { priority: 75, nurture: 45 } },
    });
    expect(v2.status).toBe(200);
    expect(await v2.json()).toMatchObject({ id, version: 2, name: "SaaS scale-ups v2", tiers: { priority: 75 } });
    const versions = await (await req(`/v1/icps/${id}/versions`)).json();
    expect(versions.items.map((v: { version: number }) => v.version)).toEqual([1, 2]);
    expect(versions.items[0].definition.name).toBe("SaaS scale-ups");
  });

  it("concurrent PUTs never both become the same version (409 for the losers)", async () => {
    const { id } = await (await req("/v1/icps", { method: "POST", json: DEMO_ICP })).json();
    const statuses = await Promise.all(
      Array.from({ length: 6 }, (_, i) =>
        req(`/v1/icps/${id}`, { method: "PUT", json: { ...DEMO_ICP, name: `p${i}` } }),
      ),
    ).then((rs) => rs.map((r) => r.status));
    expect(statuses.every((st) => st === 200 || st === 409)).toBe(true);
    const saved = statuses.filter((st) => st === 200).length;
    expect(saved).toBeGreaterThan(0);
    const versions = (await (await req(`/v1/icps/${id}/versions`)).json()).items;
    expect(versions.map((v: { version: number }) => v.version)).toEqual(
      Array.from({ length: saved + 1 }, (_, i) => i + 1),
    );
    const head = await (await req(`/v1/icps/${id}`)).json();
    expect(head.version).toBe(saved + 1);
    expect(head.name).toBe(versions[saved].definition.name);
  });

  it("rejects an invalid ICP with problem+json naming each field", async () => {
    const bad = {
      name: "",
      criteria: [
        { id: "size", kind: "firmographic", field: "industry", operator: "range", min: 1, points: 20 },
        { id: "size", kind: "firmographic", field: "employees", operator: "range", min: 10, max: 5, points: 120 },
      ],
      tiers: { priority: 40, nurture: 60 },
    };
    const res = await req("/v1/icps", { method: "POST", json: bad });
    expect(res.status).toBe(400);
    expect(res.headers.get("content-type")).toContain("application/problem+json");
    const p = await res.json();
    expect(p.type).toBe("/problems/validation");
    const fields = p.errors.map((e: { field: string }) => e.field);
    expect(fields).toEqual(
      expect.arrayContaining(["name", "criteria.0.operator", "criteria.1.max", "criteria.1.points", "tiers.nurture"]),
    );
  });

  it("404s for unknown ICPs and 400s for malformed ids", async () => {
    const missing = await req("/v1/icps/icp_01ARZ3NDEKTSV4RRFFQ69G5FAV");
    expect(missing.status).toBe(404);
    expect((await missing.json()).type).toBe("/problems/not-found");
    const malformed = await req("/v1/icps/nope");
    expect(malformed.status).toBe(400);
    expect((await malformed.json()).errors[0].field).toBe("param.id");
  });

  it("needs a valid API key and serves health, docs and OpenAPI without one", async () => {
    expect((await app.request("/v1/icps")).status).toBe(401);
    const wrong = await app.request("/v1/icps", { headers: { authorization: "Bearer not-a-real-key" } });
    expect(wrong.status).toBe(401);
    expect((await wrong.json()).type).toBe("/problems/unauthorized");
    expect(await (await app.request("/health")).json()).toEqual({ status: "ok" });
    const doc = await (await app.request("/openapi.json")).json();
    expect(doc.openapi).toBe("3.1.0");
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining([
        "/v1/icps",
        "/v1/icps/{id}",
        "/v1/icps/{id}/versions",
        "/v1/imports",
        "/v1/imports/{id}",
        "/v1/accounts",
        "/v1/accounts/{ref}",
        "/v1/accounts/{ref}/timeline",
      ]),
    );
    const docs = await app.request("/docs");
    // Swagger UI from the package (no CDN), started by a served initializer (no inline script).
    const page = await docs.text();
    expect(page).toContain('<script src="/docs/assets/swagger-ui-bundle.js">');
    expect(page).not.toMatch(/<script>[^<]/);
    expect((await app.request("/docs/assets/swagger-ui-bundle.js")).status).toBe(200);
    expect(await (await app.request("/docs/assets/init.js")).text()).toContain("SwaggerUIBundle");
  });

  it("answers unknown routes with problem+json", async () => {
    const res = await app.request("/nowhere");
    expect(res.status).toBe(404);
    expect(res.headers.get("content-type")).toContain("application/problem+json");
  });

  it("keeps workspaces apart: another workspace's key cannot see this ICP", async () => {
    const { id } = await (await req("/v1/icps", { method: "POST", json: DEMO_ICP })).json();
    const { ensureWorkspace, putApiKey } = await import("@icp/store");
    await ensureWorkspace(s.store, "other", "other");
    await putApiKey(s.store, "other", "other-workspace-key", "test");
    const res = await app.request(`/v1/icps/${id}`, { headers: { authorization: "Bearer other-workspace-key" } });
    expect(res.status).toBe(404);
    const list = await (
      await app.request("/v1/icps", { headers: { authorization: "Bearer other-workspace-key" } })
    ).json();
    expect(list.items).toEqual([]);
  });
});
