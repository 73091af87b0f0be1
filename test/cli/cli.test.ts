import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DEMO_ICP, demoAccountsCsv } from "@icp/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type TestStack, testStack, waitForImport } from "../support/stack.js";

type Run = { code: number; stdout: string; stderr: string };

/** The real `icp` binary in a child process, as a user runs it. */
function icp(args: string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ["packages/cli/bin/icp.js", ...args],
      { env: { ...process.env, ICP_URL: "", ICP_API_KEY: "", ...env }, timeout: 120_000 },
      (err, stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

/** `{priority: 2, …, total: 5}` from the tier table the import prints. */
function tierCounts(stdout: string): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const m of stdout.matchAll(/^(priority|nurture|generic|disqualified|total)\s+(\d+)\s/gm))
    counts[m[1] as string] = Number(m[2]);
  return counts;
}

async function workspaceTotal(s: TestStack): Promise<number> {
  let n = 0;
  for (const tier of ["priority", "nurture", "generic", "disqualified"]) {
    let cursor: string | undefined;
    do {
      const page = (await (
        await s.api(`/v1/accounts?tier=${tier}&limit=500${cursor ? `&cursor=${cursor}` : ""}`)
      ).json()) as {
        items: unknown[];
        nextCursor?: string;
      };
      n += page.items.length;
      cursor = page.nextCursor;
    } while (cursor);
  }
  return n;
}

describe("icp CLI against a local stack", () => {
  let s: TestStack;
  let tmp: string;
  const conn = () => ["--url", s.url, "--key", s.apiKey];

  beforeAll(async () => {
    s = await testStack();
    expect((await s.api("/v1/icps", { method: "POST", json: DEMO_ICP })).status).toBe(201);
    tmp = await mkdtemp(join(tmpdir(), "icp-cli-"));
  });
  afterAll(async () => {
    await s?.stop();
    if (tmp) await rm(tmp, { recursive: true, force: true });
  });

  it("imports the fixture, reports the invalid row by line and prints accounts per tier", async () => {
    const r = await icp(["import", "test/fixtures/accounts.csv", ...conn()]);
    expect(r.stderr).not.toMatch(/^error/m);
    expect(r.code).toBe(0);
    // 7 data rows: line 7 is invalid, line 8 repeats acme-analytics.io (merged), so 5 accounts.
    expect(r.stdout).toMatch(/7 rows, 6 accepted, 1 rejected, 5 accounts/);
    expect(r.stderr).toMatch(/1 row rejected/);
    expect(r.stderr).toMatch(/line 7 {2}domain: "not a website"/);
    expect(r.stderr).toMatch(/line 7 {2}employees:/);
    expect(r.stdout).toMatch(/Accounts per tier \(whole workspace/);
    expect(tierCounts(r.stdout)).toEqual({ priority: 2, nurture: 1, generic: 1, disqualified: 1, total: 5 });
  });

  it("lists priority accounts", async () => {
    const r = await icp(["accounts", "--tier", "priority", ...conn()]);
    expect(r.code).toBe(0);
    expect(r.stdout.split("\n")[0]).toMatch(/^domain\s+name\s+score\s+tier\s+qualified\s+segment$/);
    expect(r.stdout).toMatch(/^acme-analytics\.io\s+Acme Analytics\s+90\s+priority\s+yes\s+saas$/m);
    expect(r.stdout).not.toMatch(/cedartools\.com/);
  });

  it("prints the problem detail and exits 1 on a bad key", async () => {
    const r = await icp(["accounts", "--url", s.url, "--key", "not-a-valid-key"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^error: this API key is not valid \(unknown or revoked\)$/m);
    const imp = await icp(["import", "test/fixtures/accounts.csv", "--url", s.url, "--key", "not-a-valid-key"]);
    expect(imp.code).toBe(1);
    expect(imp.stderr).toMatch(/^error: this API key is not valid \(unknown or revoked\)$/m);
  });

  it("prints each errors[] entry of a validation problem", async () => {
    const r = await icp(["accounts", "--tier", "gold", ...conn()]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^error: .*tier/m);
    expect(r.stderr).toMatch(/^ {2}query\.tier: /m);
  });

  it("names the URL and exits 2 when the API is unreachable", async () => {
    const port = await new Promise<number>((resolve) => {
      const srv = createServer().listen(0, "127.0.0.1", () => {
        const p = (srv.address() as { port: number }).port;
        srv.close(() => resolve(p));
      });
    });
    const r = await icp(["accounts", "--url", `http://127.0.0.1:${port}`, "--key", "whatever-key"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`cannot reach the API at http://127.0.0.1:${port}`);
  });

  it("exits 1 with usage errors", async () => {
    expect((await icp(["frobnicate"])).code).toBe(1);
    expect((await icp(["import", "notes.txt", ...conn()])).stderr).toMatch(/\*\.csv or \*\.json/);
    const help = await icp(["--help"]);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/usage: icp/);
  });

  it("names the part and file lines when the API refuses a whole part", async () => {
    const file = join(tmp, "half-bad.csv");
    await writeFile(file, "Website,Company\nok1.example.com,Ok1\nok2.example.com,Ok2\nnot a site,Bad1\nnope,Bad2\n");
    const r = await icp(["import", file, ...conn()], { ICP_CLI_MAX_ROWS_PER_UPLOAD: "2" });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /^error: part 2\/2: none of the 2 rows could be imported.*parts already uploaded: imp_\w+\)$/m,
    );
    expect(r.stderr).toMatch(/^ {2}line 4 {2}domain: /m);
    expect(r.stderr).toMatch(/^ {2}line 5 {2}domain: /m);
    // Part 1 went in: let it finish so that later tests count a settled workspace.
    const uploaded = /parts already uploaded: (imp_\w+)/.exec(r.stderr)?.[1];
    expect(uploaded).toBeDefined();
    expect((await waitForImport(s, uploaded as string)).status).toBe("completed");
  });

  it("splits a big file into parts with derived idempotency keys and sums them up", { timeout: 180_000 }, async () => {
    const rows = 1000;
    const file = join(tmp, "big.csv");
    await writeFile(file, demoAccountsCsv(rows, 7));
    const before = await workspaceTotal(s);
    const env = { ICP_CLI_MAX_ROWS_PER_UPLOAD: "400" };
    const r = await icp(["import", file, "--idempotency-key", "big-1", ...conn()], env);
    expect(r.stderr).not.toMatch(/^error/m);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/uploading part 1\/3: 400 rows/);
    expect(r.stderr).toMatch(/uploading part 3\/3: 200 rows/);
    expect(r.stdout).toMatch(
      /^import imp_\w+, imp_\w+, imp_\w+: 1000 rows, 1000 accepted, 0 rejected, 1000 accounts$/m,
    );
    const counts = tierCounts(r.stdout);
    expect(counts.total).toBe(before + rows);
    expect((counts.priority ?? 0) + (counts.nurture ?? 0) + (counts.generic ?? 0) + (counts.disqualified ?? 0)).toBe(
      counts.total,
    );

    // Same key again: every part is an idempotent replay of the same import, nothing is added.
    const again = await icp(["import", file, "--idempotency-key", "big-1", ...conn()], env);
    expect(again.code).toBe(0);
    expect(again.stdout.split("\n")[0]).toBe(r.stdout.split("\n")[0]);
    expect(tierCounts(again.stdout).total).toBe(before + rows);
  });
});
