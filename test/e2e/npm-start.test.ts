import { readFileSync } from "node:fs";
import { freePort } from "@icp/local";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  canConnect,
  ctrlC,
  killGroup,
  type NpmStart,
  npmStart,
  root,
  waitFor as waitUntil,
} from "../support/npm-start.js";

/** The README's walkthrough, against the stack `npm start` boots (own free ports, in memory). */
let started: NpmStart;
let base: string;
const key = "e2e-key-0123456789";
const waitFor = <T>(check: () => Promise<T | undefined>, ms: number, what: string) =>
  waitUntil(check, ms, what, () => started.output());

const api = (path: string, init: RequestInit = {}) =>
  fetch(`${base}${path}`, { ...init, headers: { authorization: `Bearer ${key}`, ...init.headers } });

beforeAll(async () => {
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  started = npmStart(["--port", String(port)], { ICP_API_KEY: key });
  await waitFor(async () => ((await fetch(`${base}/health`)).ok ? true : undefined), 60_000, "health");
});

afterAll(() => killGroup(started));

describe("npm start", () => {
  it("prints where to look: URL, docs, key and a ready-to-paste curl", async () => {
    await waitFor(
      async () => (started.output().includes("Demo import completed") ? true : undefined),
      60_000,
      "demo import",
    );
    expect(started.output()).toContain(`API        ${base}`);
    expect(started.output()).toContain(`${base}/docs`);
    expect(started.output()).toContain(`API key    ${key}`);
    // Links in mail name the port the API really listens on (--port), not a default.
    expect(started.output()).toContain(`Links      ${base}   `);
    expect(started.output()).toContain(`curl -s -H "Authorization: Bearer ${key}"`);
    expect(started.output()).toMatch(/Demo import completed: 300 rows accepted, 300 accounts scored/);
  });

  it("has the demo ICP and scored demo accounts", async () => {
    const icps = await (await api("/v1/icps")).json();
    expect(icps.items).toEqual([expect.objectContaining({ name: "SaaS scale-ups", version: 1 })]);
    const priority = await (await api("/v1/accounts?tier=priority&limit=5")).json();
    expect(priority.items.length).toBe(5);
    expect(priority.items.every((a: { tier: string; score: number }) => a.tier === "priority" && a.score >= 70)).toBe(
      true,
    );
  });

  it("runs the README walkthrough: create ICP, upload CSV, watch progress, list priority accounts", async () => {
    const icp = await api("/v1/icps", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: readFileSync(`${root}/test/fixtures/icp.json`, "utf8"),
    });
    expect(icp.status).toBe(201);
    const upload = await api("/v1/imports", {
      method: "POST",
      headers: { "content-type": "text/csv" },
      body: readFileSync(`${root}/test/fixtures/accounts.csv`, "utf8"),
    });
    expect(upload.status).toBe(202);
    const { id } = await upload.json();
    const job = await waitFor(
      async () => {
        const j = await (await api(`/v1/imports/${id}`)).json();
        return j.status === "completed" ? j : undefined;
      },
      30_000,
      "import",
    );
    expect(job).toMatchObject({ total: 7, accepted: 6, rejected: 1 });
    const acme = await (await api("/v1/accounts/acme-analytics.io")).json();
    expect(acme).toMatchObject({ tier: "priority", qualified: true });
    const docs = await fetch(`${base}/docs`);
    expect(docs.status).toBe(200);
  });

  it("stops everything on Ctrl-C (SIGINT to the process group): no DynamoDB Local left", async () => {
    const dynamoPort = Number(/DynamoDB\s+http:\/\/127\.0\.0\.1:(\d+)/.exec(started.output())?.[1]);
    expect(dynamoPort).toBeGreaterThan(0);
    expect(await canConnect(dynamoPort)).toBe(true);
    ctrlC(started);
    // npm itself dies of the SIGINT like in a terminal; the stack shuts down cleanly.
    expect(["0", "SIGINT"]).toContain(await started.exited);
    await waitFor(
      async () => (started.output().includes("SIGINT: stopping") ? true : undefined),
      30_000,
      "shutdown message",
    );
    await waitFor(async () => ((await canConnect(dynamoPort)) ? undefined : true), 30_000, "DynamoDB Local to stop");
    expect(await canConnect(Number(new URL(base).port))).toBe(false);
    expect(started.output()).not.toMatch(/ECONNREFUSED|message failed/);
  });
});
