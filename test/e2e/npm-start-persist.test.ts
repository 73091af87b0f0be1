import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DEMO_ICP } from "@icp/core";
import { freePort } from "@icp/local";
import { afterAll, describe, expect, it } from "vitest";
import { canConnect, ctrlC, killGroup, type NpmStart, npmStart, waitFor } from "../support/npm-start.js";

/** `npm start -- --persist <dir>`: data survives a Ctrl-C and a restart; the stop drains the workers. */
const dir = mkdtempSync(join(tmpdir(), "icp-persist-"));
const key = "e2e-persist-key-0123456789";
let current: NpmStart | undefined;

async function boot(): Promise<{ base: string; dynamoPort: number; s: NpmStart }> {
  const port = await freePort();
  const s = npmStart(["--port", String(port), "--persist", dir], { ICP_API_KEY: key });
  current = s;
  const base = `http://127.0.0.1:${port}`;
  await waitFor(async () => ((await fetch(`${base}/health`)).ok ? true : undefined), 60_000, "health", s.output);
  await waitFor(
    async () => (s.output().includes("Ctrl-C stops everything") ? true : undefined),
    30_000,
    "banner",
    s.output,
  );
  const dynamoPort = Number(/DynamoDB\s+http:\/\/127\.0\.0\.1:(\d+)/.exec(s.output())?.[1]);
  return { base, dynamoPort, s };
}

async function stop(s: NpmStart, dynamoPort: number) {
  ctrlC(s);
  expect(["0", "SIGINT"]).toContain(await s.exited);
  await waitFor(async () => ((await canConnect(dynamoPort)) ? undefined : true), 30_000, "DynamoDB Local to stop");
  // Java ignored the terminal's SIGINT (own group) until the workers had drained: no failed writes.
  expect(s.output()).not.toMatch(/ECONNREFUSED|message failed/);
}

afterAll(() => {
  killGroup(current);
  rmSync(dir, { recursive: true, force: true });
});

describe("npm start --persist", () => {
  it("keeps an ICP and an import across Ctrl-C and a restart, with the workers drained on stop", async () => {
    const first = await boot();
    expect(first.s.output()).toContain("Demo data");
    const auth = { authorization: `Bearer ${key}`, "content-type": "application/json" };
    const icp = await fetch(`${first.base}/v1/icps`, { method: "POST", headers: auth, body: JSON.stringify(DEMO_ICP) });
    expect(icp.status).toBe(201);
    const { id: icpId } = await icp.json();
    const rows = Array.from({ length: 300 }, (_, i) => ({ domain: `persist-${i}.example`, employees: 50 + i }));
    const up = await fetch(`${first.base}/v1/imports`, {
      method: "POST",
      headers: auth,
      body: JSON.stringify({ accounts: rows }),
    });
    expect(up.status).toBe(202);
    const { id: importId } = await up.json();
    // Ctrl-C while the import may still be running: whatever was accepted is on the persisted queue or table.
    await stop(first.s, first.dynamoPort);

    const second = await boot();
    // The demo workspace is seeded once: its key still works, nothing is imported again.
    expect(second.s.output()).not.toContain("Demo data");
    const got = await fetch(`${second.base}/v1/icps/${icpId}`, { headers: auth });
    expect(got.status).toBe(200);
    expect((await got.json()).name).toBe(DEMO_ICP.name);
    const job = await fetch(`${second.base}/v1/imports/${importId}`, { headers: auth });
    expect(job.status).toBe(200);
    await stop(second.s, second.dynamoPort);
  });
});
