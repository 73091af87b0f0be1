import { CreateQueueCommand, ReceiveMessageCommand } from "@aws-sdk/client-sqs";
import { DEMO_ICP, demoAccountsCsv, type IcpDefinitionInput, RescorePageMessage } from "@icp/core";
import {
  allAccounts,
  createStore,
  getRescore,
  processRescorePage,
  resumeRescore,
  startRescore,
  sweepAgedAccounts,
} from "@icp/store";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually, type TestStack, testStack, waitForImport } from "../support/stack.js";

let s: TestStack;
let icpId: string;
const N = 160;

async function waitForRescore(id: string) {
  return eventually(
    async () => {
      const j = await (await s.api(`/v1/rescores/${id}`)).json();
      return j.status === "completed" ? j : undefined;
    },
    60_000,
    `rescore ${id}`,
  );
}

type Summary = { id: string; domain: string; tier: string; score: number; icpVersion: number };
async function accounts(query = ""): Promise<Summary[]> {
  const out: Summary[] = [];
  let cursor: string | undefined;
  do {
    const page = await (await s.api(`/v1/accounts?limit=200&${query}${cursor ? `&cursor=${cursor}` : ""}`)).json();
    out.push(...page.items);
    cursor = page.nextCursor;
  } while (cursor);
  return out;
}

beforeAll(async () => {
  s = await testStack();
  const created = await (await s.api("/v1/icps", { method: "POST", json: DEMO_ICP })).json();
  icpId = created.id;
  await waitForRescore(created.rescoreId); // of an empty workspace
  const job = await (await s.api("/v1/imports", { method: "POST", csv: demoAccountsCsv(N, 11) })).json();
  await waitForImport(s, job.id);
});
afterAll(() => s?.stop());

const stricter: IcpDefinitionInput = { ...DEMO_ICP, tiers: { priority: 85, nurture: 40 } };

describe("ICP versions", () => {
  it("saves a draft without changing scores, records who/when/what, and diffs versions", async () => {
    const res = await s.api(`/v1/icps/${icpId}?activate=false`, { method: "PUT", json: stricter });
    expect(res.status).toBe(200);
    const body = await res.json();
    expect(body).toMatchObject({ version: 1, latestVersion: 2, savedVersion: 2 });
    expect(body.rescoreId).toBeUndefined();
    expect(body.changes).toEqual([{ op: "changed", path: "tiers.priority", from: 70, to: 85 }]);
    const versions = (await (await s.api(`/v1/icps/${icpId}/versions`)).json()).items;
    expect(versions[1]).toMatchObject({ version: 2, createdBy: expect.stringMatching(/^key:/), changes: body.changes });
    expect(Date.parse(versions[1].createdAt)).toBeGreaterThan(Date.parse(versions[0].createdAt));
    const diff = await (await s.api(`/v1/icps/${icpId}/diff?from=1&to=2`)).json();
    expect(diff.changes).toEqual(body.changes);
    const v2 = await (await s.api(`/v1/icps/${icpId}/versions/2`)).json();
    expect(v2.definition.tiers.priority).toBe(85);
    expect((await s.api(`/v1/icps/${icpId}/versions/9`)).status).toBe(404);
  });

  it("dry-runs a version: transition counts and samples, without touching accounts", async () => {
    const before = await accounts();
    const expected = before.filter((a) => a.tier === "priority" && a.score < 85).length;
    expect(expected).toBeGreaterThan(0);
    const res = await s.api(`/v1/icps/${icpId}/dry-run`, { method: "POST", json: { version: 2 } });
    expect(res.status).toBe(202);
    const job = await waitForRescore((await res.json()).id);
    expect(job).toMatchObject({ dryRun: true, processed: N, transitions: { "priority->nurture": expected } });
    expect(job.samples["priority->nurture"].length).toBeGreaterThan(0);
    expect(job.samples["priority->nurture"][0]).toMatchObject({ from: "priority", to: "nurture" });
    expect(await accounts()).toEqual(before);
  });

  it("activating re-scores every account once, with tier changes only where the tier changed", async () => {
    const before = new Map((await accounts()).map((a) => [a.id, a]));
    const res = await s.api(`/v1/icps/${icpId}/versions/2/activate`, { method: "POST" });
    expect(res.status).toBe(200);
    const icp = await res.json();
    expect(icp).toMatchObject({ version: 2, tiers: { priority: 85 } });
    const job = await waitForRescore(icp.rescoreId);
    const moved = [...before.values()].filter((a) => a.tier === "priority" && a.score < 85);
    expect(job).toMatchObject({
      processed: N,
      shardsDone: job.shards,
      transitions: { "priority->nurture": moved.length },
    });
    const stored = await allAccounts(s.store, s.workspace);
    expect(stored).toHaveLength(N);
    for (const a of stored) {
      const fromJob = a.tierHistory.filter((h) => h.source === `rescore:${job.id}`);
      const wasMoved = moved.some((m) => m.id === a.id);
      expect(fromJob.length, a.domain).toBe(wasMoved ? 1 : 0);
      expect(a.icpVersion === 2 || a.tier === "disqualified" || a.icpVersion === 2).toBe(true);
    }
    expect((await accounts(`icp=${icpId}&icpVersion=2`)).length).toBe(N);
    const v2 = await (await s.api(`/v1/icps/${icpId}/versions/2`)).json();
    expect(v2.coverage).toMatchObject({ accounts: N, qualified: job.icpQualified[icpId] });
  });

  it("re-scoring again changes nothing", async () => {
    const revs = new Map((await allAccounts(s.store, s.workspace)).map((a) => [a.id, a.rev]));
    const job = await waitForRescore((await (await s.api("/v1/rescores", { method: "POST", json: {} })).json()).id);
    expect(job).toMatchObject({ processed: N, changed: 0, transitions: {} });
    for (const a of await allAccounts(s.store, s.workspace)) expect(a.rev).toBe(revs.get(a.id));
  });

  it("rolls back by activating version 1", async () => {
    const icp = await (await s.api(`/v1/icps/${icpId}/versions/1/activate`, { method: "POST" })).json();
    const job = await waitForRescore(icp.rescoreId);
    expect(Object.keys(job.transitions)).toEqual(["nurture->priority"]);
    expect((await (await s.api(`/v1/icps/${icpId}`)).json()).tiers.priority).toBe(70);
  });
});

describe("re-scoring is resumable and exact under duplicate and lost messages", () => {
  it("counts every account once when pages are delivered twice, and resumes lost shards", async () => {
    // Messages go to a queue nobody polls; we deliver them by hand: twice each, and some not at all.
    const q = await s.store.sqs.send(new CreateQueueCommand({ QueueName: `probe-rescore-${Date.now()}` }));
    const store = createStore({ ...s.cfg, queues: { ...s.cfg.queues, RescoreQueue: q.QueueUrl ?? "" } });
    const job = await startRescore(store, s.workspace, { reason: "test", dryRun: true });
    const receive = async () => {
      const res = await store.sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: q.QueueUrl,
          MaxNumberOfMessages: 10,
          WaitTimeSeconds: 0,
          VisibilityTimeout: 0,
        }),
      );
      return (res.Messages ?? []).map((m) => RescorePageMessage.parse(JSON.parse(m.Body ?? "")));
    };
    const { DeleteMessageCommand } = await import("@aws-sdk/client-sqs");
    const drain = async () => {
      const all: RescorePageMessage[] = [];
      for (;;) {
        const res = await store.sqs.send(
          new ReceiveMessageCommand({ QueueUrl: q.QueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }),
        );
        if (!res.Messages?.length) return all;
        for (const m of res.Messages) {
          all.push(RescorePageMessage.parse(JSON.parse(m.Body ?? "")));
          await store.sqs.send(new DeleteMessageCommand({ QueueUrl: q.QueueUrl, ReceiptHandle: m.ReceiptHandle }));
        }
      }
    };
    expect((await receive()).length).toBeGreaterThan(0);
    let first = await drain();
    expect(first).toHaveLength(job.shards);
    // Half the shards' first messages are lost; the rest are delivered twice, concurrently.
    const lost = first.filter((m) => m.shard % 2 === 1);
    first = first.filter((m) => m.shard % 2 === 0);
    await Promise.all([...first, ...first].map((m) => processRescorePage(store, m)));
    expect(lost.length).toBeGreaterThan(0);
    // Shards done in one page are closed; the lost ones (and any unfinished) are re-sent.
    expect(await resumeRescore(store, s.workspace, job.id)).toBeGreaterThanOrEqual(lost.length);
    for (let round = 0; round < 20; round++) {
      const msgs = await drain();
      if (!msgs.length) break;
      await Promise.all([...msgs, ...msgs].map((m) => processRescorePage(store, m)));
    }
    const done = await getRescore(store, s.workspace, job.id);
    expect(done).toMatchObject({ status: "completed", processed: N, shardsDone: job.shards });
  });
});

describe("intent signals", () => {
  it("a new signal re-scores at once; the sweep takes the points away when it ages out", async () => {
    const csv = "Website,Industry,Employees,Country,Technologies\nsignal-co.example.com,SaaS,100,France,HubSpot\n";
    await waitForImport(s, (await (await s.api("/v1/imports", { method: "POST", csv })).json()).id);
    const before = await (await s.api("/v1/accounts/signal-co.example.com")).json();
    expect(before).toMatchObject({ score: 70, tier: "priority", qualified: false });
    const today = new Date().toISOString().slice(0, 10);
    const res = await s.api("/v1/accounts/signal-co.example.com/signals", {
      method: "POST",
      json: { signals: [{ type: "funding", at: today, amount: 5_000_000 }] },
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ score: 90, tier: "priority", qualified: true, tierChange: null });
    const acc = await (await s.api("/v1/accounts/signal-co.example.com")).json();
    expect(acc.facts.signals).toEqual([{ type: "funding", at: today, amount: 5_000_000 }]);
    expect(Date.parse(acc.agingAt)).toBeGreaterThan(Date.now() + 89 * 86_400_000);

    // 91 days later the 90-day intent window has closed.
    const later = Date.now() + 91 * 86_400_000;
    const swept = await sweepAgedAccounts(s.store, later);
    expect(swept.checked).toBeGreaterThanOrEqual(1);
    const after = await (await s.api("/v1/accounts/signal-co.example.com")).json();
    expect(after).toMatchObject({ score: 70, qualified: false });
    expect(after.agingAt).toBeUndefined();
    expect((await sweepAgedAccounts(s.store, later)).checked).toBe(0);
  });

  it("a signal that lifts an account across a threshold emits a tier change", async () => {
    const csv = "Website,Industry,Employees,Country\nlift-co.example.com,SaaS,100,France\n";
    await waitForImport(s, (await (await s.api("/v1/imports", { method: "POST", csv })).json()).id);
    const res = await s.api("/v1/accounts/lift-co.example.com/signals", {
      method: "POST",
      json: { signals: [{ type: "hiring", at: new Date().toISOString().slice(0, 10), detail: "VP Sales" }] },
    });
    expect(await res.json()).toMatchObject({
      score: 75,
      tier: "priority",
      tierChange: { from: "nurture", to: "priority" },
    });
    const timeline = await (await s.api("/v1/accounts/lift-co.example.com/timeline")).json();
    expect(timeline.items[0]).toMatchObject({
      type: "tier_changed",
      from: "nurture",
      to: "priority",
      source: expect.stringMatching(/^signal:/),
    });
  });

  it("refuses malformed signals naming the field", async () => {
    const res = await s.api("/v1/accounts/lift-co.example.com/signals", {
      method: "POST",
      json: { signals: [{ type: "rumour", at: "yesterday" }] },
    });
    expect(res.status).toBe(400);
    const fields = (await res.json()).errors.map((e: { field: string }) => e.field);
    expect(fields).toEqual(expect.arrayContaining(["signals.0.type", "signals.0.at"]));
  });
});

describe("backtest, coverage and review", () => {
  it("backtests a list of labelled accounts: lift, band, precision/recall and the 50-lead warning", async () => {
    const good = {
      industry: "SaaS",
      employees: 120,
      country: "France",
      technologies: ["HubSpot"],
      growthStage: "growth",
    };
    const bad = { industry: "Retail", employees: 40, country: "Brazil" };
    const accountsList = [
      ...Array.from({ length: 10 }, (_, i) => ({
        domain: `g${i}.example.com`,
        ...good,
        outcome: i < 6 ? "won" : "lost",
      })),
      ...Array.from({ length: 20 }, (_, i) => ({
        domain: `b${i}.example.com`,
        ...bad,
        outcome: i < 2 ? "won" : "lost",
      })),
    ];
    const res = await s.api(`/v1/icps/${icpId}/backtest`, { method: "POST", json: { accounts: accountsList } });
    expect(res.status).toBe(200);
    const r = await res.json();
    expect(r).toMatchObject({
      labelled: 30,
      won: 8,
      qualified: 10,
      icp: { accounts: 10, won: 6, conversion: 0.6 },
      nonIcp: { accounts: 20, won: 2, conversion: 0.1 },
      lift: 6,
      band: "5x+",
      priority: { precision: 0.6, recall: 0.75 },
    });
    expect(r.warnings).toEqual(expect.arrayContaining([expect.stringMatching(/only 30 labelled accounts/)]));
  });

  it("backtests the workspace's history of recorded outcomes", async () => {
    const all = await accounts();
    const top = all.filter((a) => a.tier === "priority").slice(0, 4);
    const rest = all.filter((a) => a.tier === "generic").slice(0, 8);
    for (const a of top)
      expect(
        (await s.api(`/v1/accounts/${a.id}/outcome`, { method: "PUT", json: { outcome: "won", amount: 12000 } }))
          .status,
      ).toBe(204);
    for (const [i, a] of rest.entries())
      await s.api(`/v1/accounts/${a.id}/outcome`, { method: "PUT", json: { outcome: i === 0 ? "won" : "lost" } });
    const r = await (await s.api(`/v1/icps/${icpId}/backtest`, { method: "POST", json: { source: "history" } })).json();
    expect(r).toMatchObject({ source: "history", labelled: 12, won: 5 });
    expect(r.byTier.priority).toMatchObject({ accounts: 4, won: 4 });
    const review = await (await s.api(`/v1/icps/${icpId}/review`)).json();
    expect(review.current).toMatchObject({ version: 1, outcomes: { labelled: 12 } });
    expect(review.previous).toBeNull(); // version 1 is active again after the rollback
    expect(review).toMatchObject({ reviewDue: false });
    const total = Object.values(review.current.tiers as Record<string, number>).reduce((a, b) => a + b, 0);
    expect(total).toBe(all.length);
  });

  it("reviews the active version against the previous one", async () => {
    const put = await (await s.api(`/v1/icps/${icpId}`, { method: "PUT", json: stricter })).json();
    await waitForRescore(put.rescoreId);
    const review = await (await s.api(`/v1/icps/${icpId}/review`)).json();
    expect(review.current.version).toBe(3);
    expect(review.previous.version).toBe(2);
    expect(review.changes).toEqual([]); // v3 re-saved v2's definition
    expect(review.current.tiers.priority).toBeLessThanOrEqual(review.previous.tiers.priority);
  });

  it("warns on imports whose accounts mostly qualify (too broad) or hardly ever (too narrow)", async () => {
    const rows = Array.from({ length: 10 }, (_, i) => `broad${i}.example.com,SaaS,120,France,HubSpot,growth`);
    const csv = `Website,Industry,Employees,Country,Technologies,Stage\n${rows.join("\n")}\n`;
    const job = await waitForImport(s, (await (await s.api("/v1/imports", { method: "POST", csv })).json()).id);
    expect(job.coverage).toMatchObject({ accounts: 10, qualified: 10, share: 1, warning: "too-broad" });
    const narrow = Array.from({ length: 30 }, (_, i) => `narrow${i}.example.com,Retail,5000,Brazil`);
    const job2 = await waitForImport(
      s,
      (
        await (
          await s.api("/v1/imports", {
            method: "POST",
            csv: `Website,Industry,Employees,Country\n${narrow.join("\n")}\n`,
          })
        ).json()
      ).id,
    );
    expect(job2.coverage).toMatchObject({ accounts: 30, qualified: 0, warning: "too-narrow" });
  });
});
