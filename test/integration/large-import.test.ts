import { DEMO_ICP, demoAccountsCsv } from "@icp/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type TestStack, testStack, waitForImport } from "../support/stack.js";

let s: TestStack;
beforeAll(async () => {
  s = await testStack();
  expect((await s.api("/v1/icps", { method: "POST", json: DEMO_ICP })).status).toBe(201);
});
afterAll(() => s?.stop());

describe("a 50,000-row, 20 MB upload", () => {
  it("is accepted at once and every row is ingested", { timeout: 400_000 }, async () => {
    // 50,000 demo rows, padded with a column the importer ignores to pass 20 MB.
    const [header, ...rows] = demoAccountsCsv(50_000, 99).trimEnd().split("\n");
    const pad = "x".repeat(300);
    const csv = `${header},Notes\n${rows.map((r) => `${r},${pad}`).join("\n")}\n`;
    expect(Buffer.byteLength(csv)).toBeGreaterThan(20 * 1024 * 1024);
    const started = Date.now();
    const res = await s.api("/v1/imports", { method: "POST", csv });
    expect(res.status).toBe(202);
    const job = await res.json();
    expect(Date.now() - started).toBeLessThan(60_000); // "at once": parsing and queueing, not scoring
    expect(job).toMatchObject({ total: 50_000, rejected: 0, accounts: 50_000, chunks: 500 });
    const done = await waitForImport(s, job.id, 380_000);
    expect(done).toMatchObject({ status: "completed", accepted: 50_000, accountsDone: 50_000, chunksDone: 500 });
  });
});
