import { DEMO_ICP, demoAccountsCsv } from "@icp/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type TestStack, testStack, waitForImport } from "../support/stack.js";

let s: TestStack;
let icpId: string;
const N = 220;

beforeAll(async () => {
  s = await testStack();
  icpId = (await (await s.api("/v1/icps", { method: "POST", json: DEMO_ICP })).json()).id;
  const job = await (await s.api("/v1/imports", { method: "POST", csv: demoAccountsCsv(N, 3) })).json();
  await waitForImport(s, job.id);
});
afterAll(() => s?.stop());

type Summary = { id: string; domain: string; score: number; tier: string; segment: string; icpId: string };
async function all(query: string, limit = 37): Promise<Summary[]> {
  const out: Summary[] = [];
  let cursor: string | undefined;
  do {
    const res = await s.api(
      `/v1/accounts?limit=${limit}&${query}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`,
    );
    expect(res.status).toBe(200);
    const page = await res.json();
    expect(page.items.length).toBeLessThanOrEqual(limit);
    out.push(...page.items);
    cursor = page.nextCursor;
  } while (cursor);
  return out;
}

const rank = { priority: 3, nurture: 2, generic: 1, disqualified: 0 } as Record<string, number>;

describe("GET /v1/accounts", () => {
  it("pages through every account exactly once, best tier and score first", async () => {
    const items = await all("");
    expect(items).toHaveLength(N);
    expect(new Set(items.map((i) => i.id)).size).toBe(N);
    for (let i = 1; i < items.length; i++) {
      const [a, b] = [items[i - 1] as Summary, items[i] as Summary];
      const ordered = (rank[a.tier] ?? 0) > (rank[b.tier] ?? 0) || (a.tier === b.tier && a.score >= b.score);
      expect(ordered, `${a.tier}/${a.score} before ${b.tier}/${b.score}`).toBe(true);
    }
  });

  it("filters by tier, segment and ICP, and combinations", async () => {
    const everyone = await all("", 100);
    for (const tier of ["priority", "nurture", "generic", "disqualified"]) {
      const got = await all(`tier=${tier}`);
      expect(got.map((a) => a.id).sort()).toEqual(
        everyone
          .filter((a) => a.tier === tier)
          .map((a) => a.id)
          .sort(),
      );
      expect(got.length).toBeGreaterThan(0);
    }
    const fintech = await all("segment=fintech");
    expect(fintech.length).toBeGreaterThan(0);
    expect(fintech.map((a) => a.id).sort()).toEqual(
      everyone
        .filter((a) => a.segment === "fintech")
        .map((a) => a.id)
        .sort(),
    );
    const fintechPriority = await all("segment=fintech&tier=priority", 5);
    expect(fintechPriority.map((a) => a.id).sort()).toEqual(
      everyone
        .filter((a) => a.segment === "fintech" && a.tier === "priority")
        .map((a) => a.id)
        .sort(),
    );
    expect(await all(`icp=${icpId}&tier=priority`)).toHaveLength(everyone.filter((a) => a.tier === "priority").length);
    expect(await all("icp=icp_01ARZ3NDEKTSV4RRFFQ69G5FAV")).toHaveLength(0);
  });

  it("rejects bad query parameters with problem+json naming them", async () => {
    for (const [q, field] of [
      ["tier=hot", "query.tier"],
      ["limit=0", "query.limit"],
      ["limit=abc", "query.limit"],
      ["cursor=garbage", "cursor"],
    ]) {
      const res = await s.api(`/v1/accounts?${q}`);
      expect(res.status, q).toBe(400);
      expect((await res.json()).errors[0].field).toBe(field);
    }
  });
});

describe("GET /v1/accounts/{id or domain}", () => {
  it("returns score, tier, qualified, breakdown, ICP id and version, tier history and contacts", async () => {
    const [top] = await all("tier=priority", 1);
    const byId = await (await s.api(`/v1/accounts/${top?.id}`)).json();
    expect(byId).toMatchObject({ id: top?.id, domain: top?.domain, tier: "priority", icpId, icpVersion: 1 });
    expect(byId.score).toBeGreaterThanOrEqual(70);
    const explained = byId.breakdown.reduce((n: number, l: { points: number }) => n + l.points, 0);
    expect(Math.min(100, explained)).toBe(byId.score);
    expect(byId.breakdown.map((l: { criterion: string }) => l.criterion)).toEqual([
      "size",
      "industry",
      "country",
      "tech-stack",
      "intent",
      "growth",
    ]);
    expect(byId.tierHistory).toEqual([expect.objectContaining({ from: null, to: "priority", icpId, icpVersion: 1 })]);
    expect(byId.contacts).toHaveLength(1);
    for (const ref of [
      top?.domain,
      encodeURIComponent(`https://www.${top?.domain}/about`),
      encodeURIComponent(`HTTPS://WWW.${top?.domain?.toUpperCase()}`),
    ]) {
      const res = await s.api(`/v1/accounts/${ref}`);
      expect(res.status, String(ref)).toBe(200);
      expect((await res.json()).id).toBe(top?.id);
    }
  });

  it("explains a disqualified account with the disqualifier that matched", async () => {
    const [dq] = await all("tier=disqualified", 1);
    const acc = await (await s.api(`/v1/accounts/${dq?.id}`)).json();
    expect(acc.qualified).toBe(false);
    expect(acc.disqualifiedBy).toMatchObject({
      id: expect.stringMatching(/too-small|sanctioned|competitor/),
      reason: expect.any(String),
    });
  });

  it("404s for unknown accounts and non-domains", async () => {
    expect((await s.api("/v1/accounts/never-imported.example.com")).status).toBe(404);
    const res = await s.api("/v1/accounts/not%20a%20domain");
    expect(res.status).toBe(404);
    expect((await res.json()).detail).toMatch(/neither an account id nor a domain/);
  });

  it("never shows another workspace's accounts", async () => {
    const { ensureWorkspace, putApiKey } = await import("@icp/store");
    await ensureWorkspace(s.store, "intruder", "x");
    await putApiKey(s.store, "intruder", "intruder-key-123", "x");
    const [top] = await all("tier=priority", 1);
    const h = { authorization: "Bearer intruder-key-123" };
    expect((await fetch(`${s.url}/v1/accounts/${top?.domain}`, { headers: h })).status).toBe(404);
    expect((await fetch(`${s.url}/v1/accounts/${top?.id}`, { headers: h })).status).toBe(404);
    expect((await (await fetch(`${s.url}/v1/accounts`, { headers: h })).json()).items).toEqual([]);
  });
});

describe("regressions found by fuzzing", () => {
  it("answers 404, not 500, for account refs with malformed percent escapes", async () => {
    for (const ref of ["%ff", "1u%25", "%3Cnc%7D%255%2C.%3Dx"]) {
      const res = await s.api(`/v1/accounts/${ref}`);
      expect(res.status, ref).toBeLessThan(500);
    }
  });

  it("refuses numbers DynamoDB cannot store with 400 naming the field", async () => {
    const [top] = await all("tier=priority", 1);
    const res = await s.api(`/v1/accounts/${top?.id}/outcome`, {
      method: "PUT",
      json: { outcome: "won", amount: 5.8e-242 },
    });
    expect(res.status).toBe(400);
    expect((await res.json()).errors[0].field).toBe("amount");
  });
});
