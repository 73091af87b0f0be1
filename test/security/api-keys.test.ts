import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type TestStack, testStack } from "../support/stack.js";

let s: TestStack;
beforeAll(async () => {
  s = await testStack();
});
afterAll(() => s?.stop());

const as = (key: string, path: string, init: RequestInit = {}) =>
  fetch(`${s.url}${path}`, {
    ...init,
    headers: { authorization: `Bearer ${key}`, "content-type": "application/json", ...init.headers },
  });

describe("API keys", () => {
  it("creates a key shown once, stores only its hash, lists it without the key", async () => {
    const res = await s.api("/v1/api-keys", { method: "POST", json: { label: "ci", scopes: ["read", "write"] } });
    expect(res.status).toBe(201);
    const created = await res.json();
    expect(created.key).toMatch(/^icp_[0-9a-z]{12}_[A-Za-z0-9_-]{43}$/);
    expect(created).toMatchObject({ label: "ci", scopes: ["read", "write"], prefix: created.key.slice(0, 17) });
    const list = await (await s.api("/v1/api-keys")).json();
    const listed = list.items.find((k: { id: string }) => k.id === created.id);
    expect(listed).toMatchObject({ label: "ci", scopes: ["read", "write"] });
    expect(JSON.stringify(list)).not.toContain(created.key);
    const { GetCommand } = await import("@aws-sdk/lib-dynamodb");
    const raw = await s.store.ddb.send(
      new GetCommand({ TableName: s.cfg.tableName, Key: { pk: `KEY#${created.id}`, sk: "KEY" } }),
    );
    expect(JSON.stringify(raw.Item)).not.toContain(created.key.slice(17));
    expect(raw.Item?.hash).toMatch(/^[0-9a-f]{64}$/);
    expect((await as(created.key, "/v1/icps")).status).toBe(200);
  });

  it("enforces scopes: read cannot write, write cannot manage keys (403 problem+json)", async () => {
    const reader = await (
      await s.api("/v1/api-keys", { method: "POST", json: { label: "r", scopes: ["read"] } })
    ).json();
    const writer = await (
      await s.api("/v1/api-keys", { method: "POST", json: { label: "w", scopes: ["write"] } })
    ).json();
    expect((await as(reader.key, "/v1/accounts")).status).toBe(200);
    const denied = await as(reader.key, "/v1/icps", { method: "POST", body: "{}" });
    expect(denied.status).toBe(403);
    expect(denied.headers.get("content-type")).toContain("application/problem+json");
    expect((await denied.json()).type).toBe("/problems/forbidden");
    expect(
      (
        await as(writer.key, "/v1/imports", {
          method: "POST",
          body: JSON.stringify({ accounts: [{ domain: "w.example.com" }] }),
        })
      ).status,
    ).toBe(202);
    expect((await as(writer.key, "/v1/api-keys")).status).toBe(403);
    expect(
      (await as(writer.key, "/v1/api-keys", { method: "POST", body: JSON.stringify({ label: "x" }) })).status,
    ).toBe(403);
  });

  it("revoked keys get 401 at once; wrong secrets with a valid id get 401", async () => {
    const k = await (await s.api("/v1/api-keys", { method: "POST", json: { label: "tmp", scopes: ["admin"] } })).json();
    expect((await as(k.key, "/v1/icps")).status).toBe(200);
    const forged = `${k.key.slice(0, 17)}${"A".repeat(43)}`;
    expect((await as(forged, "/v1/icps")).status).toBe(401);
    expect((await as(k.key, `/v1/api-keys/${k.id}`, { method: "DELETE" })).status).toBe(204);
    const after = await as(k.key, "/v1/icps");
    expect(after.status).toBe(401);
    expect((await after.json()).detail).toMatch(/revoked/);
    const listed = (await (await s.api("/v1/api-keys")).json()).items.find((i: { id: string }) => i.id === k.id);
    expect(listed.revokedAt).toBeDefined();
  });

  it("records when a key was last used", async () => {
    const k = await (await s.api("/v1/api-keys", { method: "POST", json: { label: "used", scopes: ["read"] } })).json();
    await as(k.key, "/v1/accounts");
    const { eventually } = await import("../support/stack.js");
    await eventually(
      async () => {
        const listed = (await (await s.api("/v1/api-keys")).json()).items.find((i: { id: string }) => i.id === k.id);
        return listed.lastUsedAt ? true : undefined;
      },
      5000,
      "lastUsedAt",
    );
  });

  it("cannot revoke another workspace's key", async () => {
    const { ensureWorkspace, createApiKey } = await import("@icp/store");
    await ensureWorkspace(s.store, "neighbour", "n");
    const theirs = await createApiKey(s.store, "neighbour", "theirs", ["admin"]);
    expect((await s.api(`/v1/api-keys/${theirs.id}`, { method: "DELETE" })).status).toBe(404);
    expect((await as(theirs.key, "/v1/icps")).status).toBe(200);
    const mine = (await (await s.api("/v1/api-keys")).json()).items.map((i: { id: string }) => i.id);
    expect(mine).not.toContain(theirs.id);
  });

  it("rejects malformed authorization headers with 401", async () => {
    for (const h of ["", "Basic abc", "Bearer", "Bearer a b", `Bearer ${"x".repeat(400)}`]) {
      const res = await fetch(`${s.url}/v1/icps`, { headers: h ? { authorization: h } : {} });
      expect(res.status, h.slice(0, 20)).toBe(401);
    }
  });
});
