import { DEMO_ICP } from "@icp/core";
import { createApiKey, ensureWorkspace, getAccount, listIcps } from "@icp/store";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type TestStack, testStack, waitForImport } from "../support/stack.js";

/**
 * Two workspaces on one stack. B knows A's real ids (as if leaked) and guesses others; every
 * read, list, update and delete it tries on A's data must get 404 (or an empty list) and
 * leave A's data untouched.
 */
let s: TestStack;
let bKey: string;
const a: { icp: string; import: string; account: string; rescore: string; apiKey: string } = {
  icp: "",
  import: "",
  account: "",
  rescore: "",
  apiKey: "",
};

beforeAll(async () => {
  s = await testStack();
  const icp = await (await s.api("/v1/icps", { method: "POST", json: DEMO_ICP })).json();
  a.icp = icp.id;
  a.rescore = icp.rescoreId;
  const csv =
    "Website,Industry,Employees,Country,Email\nsecret-co.example.com,SaaS,120,France,ceo@secret-co.example.com\n";
  const job = await (await s.api("/v1/imports", { method: "POST", csv })).json();
  a.import = job.id;
  await waitForImport(s, job.id);
  a.account = (await (await s.api("/v1/accounts/secret-co.example.com")).json()).id;
  a.apiKey = (
    await (await s.api("/v1/api-keys", { method: "POST", json: { label: "a", scopes: ["read"] } })).json()
  ).id;
  await ensureWorkspace(s.store, "tenant-b", "B");
  bKey = (await createApiKey(s.store, "tenant-b", "b-admin", ["admin"])).key;
});
afterAll(() => s?.stop());

const asB = (path: string, method = "GET", body?: unknown) =>
  fetch(`${s.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${bKey}`, "content-type": "application/json" },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });

describe("tenant isolation", () => {
  it("every single-resource request on the other workspace's ids gets 404 and no data", async () => {
    const attempts: [string, string, unknown?][] = [
      ["GET", `/v1/icps/${a.icp}`],
      ["GET", `/v1/icps/${a.icp}/versions`],
      ["GET", `/v1/icps/${a.icp}/versions/1`],
      ["GET", `/v1/icps/${a.icp}/diff`],
      ["GET", `/v1/icps/${a.icp}/review`],
      ["PUT", `/v1/icps/${a.icp}`, DEMO_ICP],
      ["POST", `/v1/icps/${a.icp}/versions/1/activate`],
      ["POST", `/v1/icps/${a.icp}/dry-run`, { version: 1 }],
      ["POST", `/v1/icps/${a.icp}/backtest`, { source: "history" }],
      ["GET", `/v1/imports/${a.import}`],
      ["GET", `/v1/accounts/${a.account}`],
      ["GET", "/v1/accounts/secret-co.example.com"],
      ["GET", `/v1/accounts/${a.account}/timeline`],
      ["POST", `/v1/accounts/${a.account}/signals`, { signals: [{ type: "funding", at: "2026-11-01" }] }],
      ["PUT", `/v1/accounts/${a.account}/outcome`, { outcome: "won" }],
      ["DELETE", `/v1/accounts/${a.account}`],
      ["DELETE", "/v1/accounts/secret-co.example.com"],
      ["GET", `/v1/rescores/${a.rescore}`],
      ["POST", `/v1/rescores/${a.rescore}/resume`],
      ["DELETE", `/v1/api-keys/${a.apiKey}`],
      // Guessed ids of the right shape.
      ["GET", "/v1/icps/icp_01ARZ3NDEKTSV4RRFFQ69G5FAV"],
      ["GET", "/v1/imports/imp_01ARZ3NDEKTSV4RRFFQ69G5FAV"],
      ["GET", "/v1/rescores/rsc_01ARZ3NDEKTSV4RRFFQ69G5FAV"],
    ];
    for (const [method, path, body] of attempts) {
      const res = await asB(path, method, body);
      const text = await res.text();
      expect(res.status, `${method} ${path}`).toBe(404);
      // Only what B itself sent may come back (a domain in the path); none of A's data.
      expect(text, `${method} ${path}`).not.toMatch(/ceo@|"score"|"facts"|"definition"|"contacts"/);
      expect(JSON.parse(text).type).toBe("/problems/not-found");
    }
  });

  it("lists show nothing of the other workspace", async () => {
    for (const path of [
      "/v1/icps",
      "/v1/imports",
      "/v1/accounts",
      "/v1/accounts?tier=priority",
      "/v1/accounts?segment=saas",
      `/v1/accounts?icp=${a.icp}`,
    ]) {
      const res = await asB(path);
      expect(res.status, path).toBe(200);
      expect((await res.json()).items, path).toEqual([]);
    }
    const keys = (await (await asB("/v1/api-keys")).json()).items;
    expect(keys.map((k: { id: string }) => k.id)).not.toContain(a.apiKey);
  });

  it("the other workspace's data is unchanged after all attempts", async () => {
    const account = await getAccount(s.store, s.workspace, a.account);
    expect(account?.outcome).toBeUndefined();
    expect(account?.facts.signals).toBeUndefined();
    const icps = await listIcps(s.store, s.workspace);
    expect(icps.map((i) => [i.id, i.version])).toEqual([[a.icp, 1]]);
    expect((await s.api(`/v1/accounts/${a.account}`)).status).toBe(200);
    const keys = (await (await s.api("/v1/api-keys")).json()).items.find((k: { id: string }) => k.id === a.apiKey);
    expect(keys.revokedAt).toBeUndefined();
  });

  it("an import by B of the same domain creates B's own account, not A's", async () => {
    const res = await asB("/v1/imports", "POST", { accounts: [{ domain: "secret-co.example.com", name: "B's view" }] });
    expect(res.status).toBe(202);
    const { eventually } = await import("../support/stack.js");
    const bAcc = await eventually(async () => {
      const r = await asB("/v1/accounts/secret-co.example.com");
      return r.status === 200 ? r.json() : undefined;
    });
    expect(bAcc.id).not.toBe(a.account);
    expect(bAcc.contacts).toEqual([]);
    const aAcc = await (await s.api("/v1/accounts/secret-co.example.com")).json();
    expect(aAcc.name).toBeUndefined();
    expect(aAcc.contacts).toHaveLength(1);
  });
});

describe("DELETE /v1/accounts/{id}", () => {
  it("erases the account, its contacts and its timeline", async () => {
    const csv = "Website,Industry,Email,Title\nforget-me.example.com,SaaS,jane@forget-me.example.com,CEO\n";
    await waitForImport(s, (await (await s.api("/v1/imports", { method: "POST", csv })).json()).id);
    const acc = await (await s.api("/v1/accounts/forget-me.example.com")).json();
    expect(acc.contacts).toHaveLength(1);
    expect((await s.api(`/v1/accounts/${acc.id}`, { method: "DELETE" })).status).toBe(204);
    expect((await s.api("/v1/accounts/forget-me.example.com")).status).toBe(404);
    const { QueryCommand } = await import("@aws-sdk/lib-dynamodb");
    const left = await s.store.ddb.send(
      new QueryCommand({
        TableName: s.cfg.tableName,
        KeyConditionExpression: "pk = :pk",
        ExpressionAttributeValues: { ":pk": `W#${s.workspace}#A#${acc.id}` },
      }),
    );
    expect(left.Items).toEqual([]);
    expect((await s.api(`/v1/accounts/${acc.id}`, { method: "DELETE" })).status).toBe(404);
  });
});
