import { DEMO_ICP, type Enrollment } from "@icp/core";
import { createApiKey, ensureWorkspace, getEnrollment } from "@icp/store";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually, type TestStack, testStack, waitForImport } from "../support/stack.js";

/**
 * Tenant isolation of the outbound and engagement surface: workspace B, knowing A's real
 * sequence, enrollment, task, sender and account ids, tries to read, change, preview, report
 * and post events on them. Every single-resource attempt gets 404, lists and reports are empty,
 * and A's data is unchanged.
 */
let s: TestStack;
let bKey: string;
const a = { sequence: "", account: "", enrollment: "", task: "", sender: "" };
let bSequence = "";

const recent = new Date(Date.now() - 3 * 86_400_000).toISOString().slice(0, 10);
const sequence = (name: string) => ({
  name,
  steps: [
    { id: "s1", channel: "linkedin_invite", content: { body: "Hi {{default firstName 'there'}} at {{company}}" } },
    {
      id: "s2",
      channel: "email",
      delay: { amount: 5, unit: "business_days" },
      content: { subject: "Hello {{company}}", body: "Hi {{default firstName 'there'}}" },
    },
  ],
});

const asB = (path: string, method = "GET", body?: unknown) =>
  fetch(`${s.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${bKey}`, "content-type": "application/json" },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });

beforeAll(async () => {
  s = await testStack();
  expect((await s.api("/v1/icps", { method: "POST", json: DEMO_ICP })).status).toBe(201);
  await s.api("/v1/settings/sending", {
    method: "PUT",
    json: { timezone: "UTC", days: [1, 2, 3, 4, 5, 6, 7], start: "00:00", end: "24:00", holidays: [] },
  });
  a.sender = (
    await (
      await s.api("/v1/senders", { method: "POST", json: { kind: "mailbox", name: "A", email: "a@a.example" } })
    ).json()
  ).id;
  a.sequence = (await (await s.api("/v1/sequences", { method: "POST", json: sequence("A's") })).json()).id;
  await s.api("/v1/routing-rules", {
    method: "PUT",
    json: { rules: [{ tier: "priority", sequenceId: a.sequence }], reEntry: { mode: "never" } },
  });
  const csv = `Website,Company,Industry,Employees,Country,Technologies,Signals,First Name,Title,Email\nsecret-co.example.com,Secret Co,SaaS,150,Germany,HubSpot,funding:${recent}:5000000,Sara,VP Sales,sara@secret-co.example.com\n`;
  const job = await (await s.api("/v1/imports", { method: "POST", csv })).json();
  await waitForImport(s, job.id);
  a.account = (await (await s.api("/v1/accounts/secret-co.example.com")).json()).id;
  // The LinkedIn step becomes an open task once the tick and the send worker ran.
  a.task = await eventually(
    async () => {
      const items = (await (await s.api("/v1/tasks?status=open")).json()).items as { id: string }[];
      return items[0]?.id;
    },
    90_000,
    "A's task",
  );
  a.enrollment = ((await (await s.api(`/v1/accounts/${a.account}/enrollments`)).json()).items as Enrollment[])[0]
    ?.id as string;

  await ensureWorkspace(s.store, "tenant-b", "B");
  bKey = (await createApiKey(s.store, "tenant-b", "b-admin", ["admin"])).key;
  bSequence = (await (await asB("/v1/sequences", "POST", sequence("B's"))).json()).id;
}, 180_000);
afterAll(() => s?.stop());

describe("tenant isolation: sequences, enrollments, tasks, senders, events, reports", () => {
  it("every single-resource request on the other workspace's ids gets 404 and no data", async () => {
    const attempts: [string, string, unknown?][] = [
      ["GET", `/v1/sequences/${a.sequence}`],
      ["GET", `/v1/sequences/${a.sequence}/versions`],
      ["GET", `/v1/sequences/${a.sequence}/versions/1`],
      ["PUT", `/v1/sequences/${a.sequence}`, sequence("hijack")],
      ["POST", `/v1/sequences/${a.sequence}/preview`, { accountId: a.account, stepId: "s1" }],
      // B's own sequence rendered for A's account, by id and by domain.
      ["POST", `/v1/sequences/${bSequence}/preview`, { accountId: a.account, stepId: "s1" }],
      ["POST", `/v1/sequences/${bSequence}/preview`, { accountId: "secret-co.example.com", stepId: "s1" }],
      ["GET", `/v1/enrollments/${a.enrollment}`],
      ["POST", `/v1/enrollments/${a.enrollment}/pause`],
      ["POST", `/v1/enrollments/${a.enrollment}/resume`],
      ["POST", `/v1/enrollments/${a.enrollment}/stop`, { reason: "hijack" }],
      ["POST", "/v1/enrollments", { accountId: a.account, sequenceId: bSequence }],
      ["POST", "/v1/enrollments", { accountId: a.account, sequenceId: a.sequence }],
      ["GET", `/v1/accounts/${a.account}/enrollments`],
      ["GET", `/v1/tasks/${a.task}`],
      ["POST", `/v1/tasks/${a.task}/complete`, { outcome: "done" }],
      ["GET", `/v1/senders/${a.sender}`],
      ["POST", "/v1/events", { type: "replied", accountId: a.account }],
      // Guessed ids of the right shape.
      ["GET", "/v1/sequences/seq_01ARZ3NDEKTSV4RRFFQ69G5FAV"],
      ["GET", "/v1/enrollments/enr_01ARZ3NDEKTSV4RRFFQ69G5FAV"],
      ["GET", "/v1/tasks/tsk_01ARZ3NDEKTSV4RRFFQ69G5FAV"],
      ["GET", "/v1/senders/snd_01ARZ3NDEKTSV4RRFFQ69G5FAV"],
    ];
    for (const [method, path, body] of attempts) {
      const res = await asB(path, method, body);
      const text = await res.text();
      expect(res.status, `${method} ${path}`).toBe(404);
      expect(text, `${method} ${path}`).not.toMatch(/sara@|Secret Co|"steps"|"history"|a@a\.example/);
      expect(JSON.parse(text).type).toBe("/problems/not-found");
    }
  });

  it("lists and reports show nothing of the other workspace", async () => {
    for (const path of [
      "/v1/sequences",
      "/v1/enrollments",
      "/v1/enrollments?status=active",
      `/v1/enrollments?sequenceId=${a.sequence}`,
      "/v1/tasks?status=open",
      "/v1/senders",
      "/v1/mail",
      "/v1/suppressions",
      "/v1/reports/activity",
    ]) {
      const res = await asB(path);
      expect(res.status, path).toBe(200);
      const items = (await res.json()).items as { id?: string }[];
      expect(
        items.filter((i) => i.id !== bSequence),
        path,
      ).toEqual([]);
    }
    const engagement = await (await asB("/v1/reports/engagement?groupBy=sequence")).json();
    expect(engagement.groups).toEqual([]);
    expect(engagement.totals.sent).toBe(0);
    const tiers = await (await asB("/v1/reports/tiers")).json();
    expect(tiers.total).toBe(0);
  });

  it("the other workspace's outbound is unchanged after all attempts", async () => {
    // A's own event goes through the same queue after B's: once it shows, B's was handled too.
    await s.api("/v1/events", { method: "POST", json: { type: "opened", accountId: a.account, id: "a-open-1" } });
    await eventually(
      async () => {
        const items = (await (await s.api(`/v1/accounts/${a.account}/timeline`)).json()).items as { type: string }[];
        return items.some((i) => i.type === "opened") ? items : undefined;
      },
      30_000,
      "A's own event",
    );
    const timeline = (await (await s.api(`/v1/accounts/${a.account}/timeline`)).json()).items as { type: string }[];
    expect(timeline.map((i) => i.type)).not.toContain("replied");
    expect((await getEnrollment(s.store, s.workspace, a.enrollment))?.status).toBe("active");
    expect((await (await s.api(`/v1/tasks/${a.task}`)).json()).status).toBe("open");
    const seq = await (await s.api(`/v1/sequences/${a.sequence}`)).json();
    expect([seq.version, seq.name]).toEqual([1, "A's"]);
  });

  it("DELETE /v1/accounts/{id} also erases the account's enrollments, send records and tasks", async () => {
    expect((await s.api(`/v1/accounts/${a.account}`, { method: "DELETE" })).status).toBe(204);
    expect((await s.api(`/v1/enrollments/${a.enrollment}`)).status).toBe(404);
    expect((await s.api(`/v1/tasks/${a.task}`)).status).toBe(404);
    expect((await s.api("/v1/enrollments")).status).toBe(200);
    expect((await (await s.api("/v1/enrollments")).json()).items).toEqual([]);
    expect((await (await s.api("/v1/tasks?status=open")).json()).items).toEqual([]);
  });
});
