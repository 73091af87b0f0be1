import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { DEMO_ICP } from "@icp/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually, type TestStack, testStack, waitForImport } from "../support/stack.js";

type Run = { code: number; stdout: string; stderr: string };

/** The real `icp` binary in a child process, as a user runs it. */
function icp(args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ["packages/cli/bin/icp.js", ...args],
      { env: { ...process.env, ICP_URL: "", ICP_API_KEY: "" }, timeout: 120_000 },
      (err, stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

const day = (daysAgo: number) => new Date(Date.now() - daysAgo * 86_400_000).toISOString();
const seq = { sequenceId: "seq_cli", sequenceVersion: 1, channel: "email" as const };

describe("icp report", () => {
  let s: TestStack;
  const conn = () => ["--url", s.url, "--key", s.apiKey];

  beforeAll(async () => {
    s = await testStack();
    expect((await s.api("/v1/icps", { method: "POST", json: DEMO_ICP })).status).toBe(201);
    const up = await s.api("/v1/imports", { method: "POST", csv: readFileSync("test/fixtures/accounts.csv", "utf8") });
    await waitForImport(s, ((await up.json()) as { id: string }).id, 120_000);
    // acme-analytics.io (saas, priority, qualified): the whole funnel; borealispay.com (fintech): sent and
    // opened; cedartools.com (default segment): sent 40 days ago, outside a 30-day window.
    const events = [
      { id: "e1", type: "sent", domain: "acme-analytics.io", stepId: "intro", variant: "A", at: day(10), ...seq },
      { id: "e2", type: "opened", domain: "acme-analytics.io", stepId: "intro", variant: "A", at: day(9), ...seq },
      { id: "e3", type: "replied", domain: "acme-analytics.io", stepId: "intro", variant: "A", at: day(8), ...seq },
      { id: "e4", type: "meeting_booked", domain: "acme-analytics.io", at: day(6) },
      { id: "e5", type: "won", domain: "acme-analytics.io", amount: 12_000, at: day(2) },
      { id: "e6", type: "sent", domain: "borealispay.com", stepId: "intro", variant: "B", at: day(10), ...seq },
      { id: "e7", type: "opened", domain: "borealispay.com", stepId: "intro", variant: "B", at: day(9), ...seq },
      { id: "e8", type: "sent", domain: "cedartools.com", stepId: "intro", variant: "A", at: day(40), ...seq },
    ];
    expect((await s.api("/v1/events", { method: "POST", json: events })).status).toBe(202);
    await eventually(
      async () => {
        const r = (await (await s.api("/v1/reports/engagement?groupBy=segment")).json()) as {
          totals: { sent: number; won: number };
        };
        return r.totals.sent === 3 && r.totals.won === 1 ? true : undefined;
      },
      120_000,
      "the events in the counters",
    );
  }, 300_000);
  afterAll(async () => {
    await s?.stop();
  });

  it("prints engagement by segment with the totals row", async () => {
    const r = await icp(["report", "--by", "segment", ...conn()]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const lines = r.stdout.split("\n");
    expect(lines[0]).toMatch(/^Engagement by segment, \d{4}-\d{2}-\d{2} to \d{4}-\d{2}-\d{2}/);
    expect(lines[1]).toMatch(/^segment\s+reached\s+sent\s+open\s+click\s+reply\s+meeting\s+won\s+win rate\s+revenue$/);
    expect(r.stdout).toMatch(/^saas\s+1\s+1\s+100\.0%\s+0\.0%\s+100\.0%\s+100\.0%\s+1\s+100\.0%\s+12000$/m);
    expect(r.stdout).toMatch(/^fintech\s+1\s+1\s+100\.0%\s+0\.0%\s+0\.0%\s+0\.0%\s+0\s+0\.0%\s+0$/m);
    expect(r.stdout).toMatch(/^default\s+1\s+1\s+0\.0%/m);
    expect(r.stdout).toMatch(/^total\s+3\s+3\s+66\.7%\s+0\.0%\s+33\.3%\s+33\.3%\s+1\s+33\.3%\s+12000$/m);
  });

  it("filters by date range and groups by other dimensions", async () => {
    const from = day(30).slice(0, 10);
    const r = await icp(["report", "--by", "variant", "--from", from, ...conn()]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^seq_cli#1#intro#A\s+1\s+1\s/m);
    expect(r.stdout).toMatch(/^seq_cli#1#intro#B\s+1\s+1\s/m);
    expect(r.stdout).toMatch(/^total\s+2\s+2\s/m); // cedartools.com's send is 40 days old
  });

  it("prints the API's CSV with --format csv", async () => {
    const r = await icp(["report", "--by", "tier", "--format", "csv", ...conn()]);
    expect(r.code).toBe(0);
    const [header, ...rows] = r.stdout.trim().split(/\r?\n/);
    expect(header).toMatch(/^group,accountsReached,sent,/);
    expect(rows.at(-1)).toMatch(/^total,3,3,/);
    expect(rows.some((l) => l.startsWith("priority,"))).toBe(true);
  });

  it("prints the ICP lift with its band and the per-tier deal figures", async () => {
    const r = await icp(["report", "--lift", ...conn()]);
    expect(r.code).toBe(0);
    // acme and borealis qualify (1 of 2 won), cedartools does not (0 of 1): unbounded lift, band 5x+.
    expect(r.stdout).toMatch(/^ICP lift .*: n\/a \(5x\+\)/m);
    expect(r.stdout).toMatch(/^ICP \(qualified\)\s+2\s+1\s+50\.0%$/m);
    expect(r.stdout).toMatch(/^non-ICP\s+1\s+0\s+0\.0%$/m);
    expect(r.stdout).toMatch(/^priority\s+2\s+1\s+12000\s+12000\s+\d+$/m);
  });

  it("refuses bad options with a usage error", async () => {
    const bad = await icp(["report", "--by", "colour", ...conn()]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/--by must be one of segment, tier, icp, sequence, step, channel, variant/);
    const date = await icp(["report", "--from", "last week", ...conn()]);
    expect(date.code).toBe(1);
    expect(date.stderr).toMatch(/--from must be a date YYYY-MM-DD/);
    expect((await icp(["report", "--lift", "--by", "tier", ...conn()])).code).toBe(1);
    expect((await icp(["--help"])).stdout).toMatch(/report --lift/);
  });
});
