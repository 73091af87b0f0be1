import { readFileSync } from "node:fs";
import { DEMO_ICP } from "@icp/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type TestStack, testStack, waitForImport } from "../support/stack.js";

let s: TestStack;
const fixture = readFileSync(new URL("../fixtures/accounts.csv", import.meta.url), "utf8");

beforeAll(async () => {
  s = await testStack();
  expect((await s.api("/v1/icps", { method: "POST", json: DEMO_ICP })).status).toBe(201);
});
afterAll(() => s?.stop());

describe("POST /v1/imports", () => {
  it("accepts a CSV at once (202) and reports row errors with line and field", async () => {
    const res = await s.api("/v1/imports?filename=accounts.csv", { method: "POST", csv: fixture });
    expect(res.status).toBe(202);
    const job = await res.json();
    expect(job).toMatchObject({
      status: "queued",
      format: "csv",
      filename: "accounts.csv",
      total: 7,
      rejected: 1,
      accounts: 5,
    });
    expect(res.headers.get("location")).toBe(`/v1/imports/${job.id}`);
    expect(job.errors).toEqual([
      { line: 7, field: "domain", message: '"not a website" is not a domain or website' },
      { line: 7, field: "employees", message: '"abc" is not a number' },
    ]);
    const done = await waitForImport(s, job.id);
    expect(done).toMatchObject({ status: "completed", accepted: 6, rejected: 1, total: 7, progress: 1, chunksDone: 1 });
    expect(done.errors).toHaveLength(2);
  });

  it("accepts JSON with field names, aliases, contacts and signals", async () => {
    const res = await s.api("/v1/imports", {
      method: "POST",
      json: {
        accounts: [
          {
            domain: "https://json-co.example.org/x",
            name: "Json Co",
            industry: "SaaS",
            employees: 80,
            country: "Germany",
            technologies: ["Salesforce"],
            signals: [{ type: "new_sales_leader", at: "2026-11-01" }],
            contact: { email: "cro@json-co.example.org", title: "CRO" },
          },
          { Website: "alias-co.example.org", "# Employees": "1,200", Company: "Alias Co" },
          { domain: "", name: "No domain" },
          "not an object",
        ],
      },
    });
    expect(res.status).toBe(202);
    const job = await res.json();
    expect(job).toMatchObject({ total: 4, rejected: 2, accounts: 2 });
    expect(job.errors.map((e: { line: number; field: string }) => [e.line, e.field])).toEqual([
      [3, "domain"],
      [4, "row"],
    ]);
    await waitForImport(s, job.id);
    const acc = await (await s.api("/v1/accounts/json-co.example.org")).json();
    expect(acc).toMatchObject({ domain: "json-co.example.org", name: "Json Co", segment: "saas" });
    expect(acc.contacts).toEqual([
      expect.objectContaining({ email: "cro@json-co.example.org", persona: "sales-leader" }),
    ]);
    const alias = await (await s.api("/v1/accounts/alias-co.example.org")).json();
    expect(alias.facts.employees).toBe(1200);
  });

  it("makes a retried upload with the same Idempotency-Key a no-op", async () => {
    const headers = { "idempotency-key": "upload-42" };
    const first = await (await s.api("/v1/imports", { method: "POST", csv: fixture, headers })).json();
    const again = await s.api("/v1/imports", { method: "POST", csv: fixture, headers });
    expect(again.status).toBe(202);
    expect(again.headers.get("idempotent-replayed")).toBe("true");
    expect((await again.json()).id).toBe(first.id);
    const list = await (await s.api("/v1/imports")).json();
    expect(list.items.filter((i: { id: string }) => i.id === first.id)).toHaveLength(1);
  });

  it("refuses malformed files with problem+json naming the problem", async () => {
    const cases: [string, string, number, RegExp][] = [
      ["", "text/csv", 400, /empty/],
      ["Name,Industry\nAcme,SaaS\n", "text/csv", 422, /no domain column/],
      ["Website\n", "text/csv", 422, /no data rows/],
      ['Website,Company\nacme.com,"unclosed\n', "text/csv", 400, /CSV could not be parsed/],
      ["Website\nnot a domain\n", "text/csv", 422, /none of the 1 rows/],
      [
        "website=acme.com",
        "application/x-www-form-urlencoded",
        415,
        /content type "application\/x-www-form-urlencoded" is not accepted/,
      ],
      ["{not json", "application/json", 400, /JSON/],
      ['{"rows":[]}', "application/json", 400, /accounts/],
    ];
    for (const [body, type, status, detail] of cases) {
      const res = await s.api("/v1/imports", { method: "POST", body, headers: { "content-type": type } });
      expect(res.status, `${type} ${JSON.stringify(body)}`).toBe(status);
      expect(res.headers.get("content-type")).toContain("application/problem+json");
      expect((await res.json()).detail).toMatch(detail);
    }
  });

  it("refuses bodies over the size limit with 413", async () => {
    const big = `Website\n${"x".repeat(26 * 1024 * 1024)}\n`;
    const res = await s.api("/v1/imports", { method: "POST", csv: big });
    expect(res.status).toBe(413);
    expect((await res.json()).type).toBe("/problems/payload-too-large");
  });

  it("pages row errors with errorsCursor", async () => {
    const rows = Array.from({ length: 30 }, (_, i) => (i % 2 ? `ok${i}.example.com,${i}` : `bad ${i},${i}`));
    const job = await (
      await s.api("/v1/imports", { method: "POST", csv: `Website,Employees\n${rows.join("\n")}\n` })
    ).json();
    await waitForImport(s, job.id);
    const p1 = await (await s.api(`/v1/imports/${job.id}?errorsLimit=10`)).json();
    expect(p1.errors).toHaveLength(10);
    expect(p1.errors[0].line).toBe(2);
    const p2 = await (
      await s.api(`/v1/imports/${job.id}?errorsLimit=10&errorsCursor=${encodeURIComponent(p1.errorsNextCursor)}`)
    ).json();
    expect(p2.errors[0].line).toBeGreaterThan(p1.errors[9].line);
    expect(p1.rejected).toBe(15);
  });

  it("404s for another workspace's import", async () => {
    const job = await (await s.api("/v1/imports", { method: "POST", csv: fixture })).json();
    const other = await fetch(`${s.url}/v1/imports/imp_01ARZ3NDEKTSV4RRFFQ69G5FAV`, {
      headers: { authorization: `Bearer ${s.apiKey}` },
    });
    expect(other.status).toBe(404);
    expect(job.id).toMatch(/^imp_/);
  });
});
