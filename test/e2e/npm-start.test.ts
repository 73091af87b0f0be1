import { type ChildProcess, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { createConnection } from "node:net";
import { freePort } from "@icp/local";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

/** The README's walkthrough, against the stack `npm start` boots (own free ports, in memory). */
const root = new URL("../..", import.meta.url).pathname;
let child: ChildProcess;
let base: string;
let output = "";
const key = "e2e-key-0123456789";

const canConnect = (port: number) =>
  new Promise<boolean>((resolve) => {
    const sock = createConnection({ port, host: "127.0.0.1" }, () => {
      sock.destroy();
      resolve(true);
    });
    sock.on("error", () => resolve(false));
  });

async function waitFor<T>(check: () => Promise<T | undefined>, ms: number, what: string): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const v = await check().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}; output:\n${output}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

const api = (path: string, init: RequestInit = {}) =>
  fetch(`${base}${path}`, { ...init, headers: { authorization: `Bearer ${key}`, ...init.headers } });

beforeAll(async () => {
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  child = spawn("npm", ["start", "--", "--port", String(port)], {
    cwd: root,
    env: { ...process.env, ICP_API_KEY: key },
    detached: true, // own process group, like a terminal's Ctrl-C target
    stdio: ["ignore", "pipe", "pipe"],
  });
  child.stdout?.on("data", (d) => {
    output += d;
  });
  child.stderr?.on("data", (d) => {
    output += d;
  });
  await waitFor(async () => ((await fetch(`${base}/health`)).ok ? true : undefined), 60_000, "health");
});

afterAll(() => {
  try {
    if (child.pid) process.kill(-child.pid, "SIGKILL"); // whatever is left of the group
  } catch {
    // already gone: the Ctrl-C test stopped it
  }
});

describe("npm start", () => {
  it("prints where to look: URL, docs, key and a ready-to-paste curl", async () => {
    await waitFor(async () => (output.includes("Demo import completed") ? true : undefined), 60_000, "demo import");
    expect(output).toContain(`API        ${base}`);
    expect(output).toContain(`${base}/docs`);
    expect(output).toContain(`API key    ${key}`);
    expect(output).toContain(`curl -s -H "Authorization: Bearer ${key}"`);
    expect(output).toMatch(/Demo import completed: 300 rows accepted, 300 accounts scored/);
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
    const dynamoPort = Number(/DynamoDB\s+http:\/\/127\.0\.0\.1:(\d+)/.exec(output)?.[1]);
    expect(dynamoPort).toBeGreaterThan(0);
    expect(await canConnect(dynamoPort)).toBe(true);
    const exited = new Promise<string>((r) => child.once("exit", (code, signal) => r(String(code ?? signal))));
    if (child.pid) process.kill(-child.pid, "SIGINT");
    // npm itself dies of the SIGINT like in a terminal; the stack shuts down cleanly.
    expect(["0", "SIGINT"]).toContain(await exited);
    await waitFor(async () => (output.includes("SIGINT: stopping") ? true : undefined), 30_000, "shutdown message");
    await waitFor(async () => ((await canConnect(dynamoPort)) ? undefined : true), 30_000, "DynamoDB Local to stop");
    expect(await canConnect(Number(new URL(base).port))).toBe(false);
  });
});
