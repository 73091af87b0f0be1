import { DEMO_ICP, type Enrollment } from "@icp/core";
import { ensureWorkspace, putApiKey } from "@icp/store";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type TestStack, testStack, waitForImport } from "../support/stack.js";

let s: TestStack;
let seqA: string;
let seqB: string;
const recent = new Date(Date.now() - 3 * 86_400_000).toISOString().slice(0, 10);

async function sequence(name: string): Promise<string> {
  const res = await s.api("/v1/sequences", {
    method: "POST",
    json: {
      name,
      steps: [
        {
          id: "intro",
          channel: "email",
          delay: { amount: 3, unit: "business_days" },
          content: { subject: "Hi", body: "Hello there." },
        },
      ],
    },
  });
  expect(res.status).toBe(201);
  return ((await res.json()) as { id: string }).id;
}

beforeAll(async () => {
  s = await testStack();
  expect((await s.api("/v1/icps", { method: "POST", json: DEMO_ICP })).status).toBe(201);
  seqA = await sequence("A");
  seqB = await sequence("B");
  const csv = [
    "Website,Industry,Employees,Country,Technologies,Signals,Email,First Name,Title",
    `api-prio.com,SaaS,120,Germany,HubSpot,funding:${recent},ana@api-prio.com,Ana,VP Sales`,
    `api-prio.com,SaaS,120,Germany,HubSpot,funding:${recent},bob@api-prio.com,Bob,Engineer`,
    "api-nurt.com,SaaS,120,Germany,,,cy@api-nurt.com,Cy,CEO",
    "api-dq.com,SaaS,5,Germany,,,dq@api-dq.com,Dee,CEO",
  ].join("\n");
  const job = (await (await s.api("/v1/imports", { method: "POST", csv })).json()) as { id: string };
  await waitForImport(s, job.id);
}, 60_000);
afterAll(() => s?.stop());

const post = (path: string, json?: unknown) => s.api(path, { method: "POST", ...(json === undefined ? {} : { json }) });

describe("routing rules and sending settings", () => {
  it("GET returns defaults; PUT validates and round-trips", async () => {
    expect(await (await s.api("/v1/routing-rules")).json()).toEqual({
      rules: [],
      reEntry: { mode: "never" },
      stopOnReply: true,
      stopOnMeeting: true,
    });
    const rules = {
      rules: [{ tier: "priority", segment: "saas", sequenceId: seqA }],
      reEntry: { mode: "after_days", days: 30 },
    };
    const put = await s.api("/v1/routing-rules", { method: "PUT", json: rules });
    expect(put.status).toBe(200);
    expect(await (await s.api("/v1/routing-rules")).json()).toMatchObject(rules);
  });

  it("refuses unknown sequences (422) and malformed rules (400), naming the field", async () => {
    const unknown = await s.api("/v1/routing-rules", {
      method: "PUT",
      json: { rules: [{ tier: "nurture", sequenceId: "seq_nope" }] },
    });
    expect(unknown.status).toBe(422);
    expect(unknown.headers.get("content-type")).toContain("application/problem+json");
    expect((await unknown.json()).errors).toEqual([
      { field: "rules.0.sequenceId", message: expect.stringContaining("seq_nope") },
    ]);
    const bad = await s.api("/v1/routing-rules", {
      method: "PUT",
      json: { rules: [{ tier: "disqualified", sequenceId: seqA }], reEntry: { mode: "after_days" } },
    });
    expect(bad.status).toBe(400);
    const fields = ((await bad.json()).errors as { field: string }[]).map((e) => e.field);
    expect(fields).toEqual(expect.arrayContaining(["rules.0.tier", "reEntry.days"]));
  });

  it("sending settings: defaults, zone and hours validated", async () => {
    expect(await (await s.api("/v1/settings/sending")).json()).toEqual({
      timezone: "UTC",
      days: [1, 2, 3, 4, 5],
      start: "08:00",
      end: "18:00",
      holidays: [],
    });
    const bad = await s.api("/v1/settings/sending", {
      method: "PUT",
      json: { timezone: "Mars/Base", start: "18:00", end: "09:00" },
    });
    expect(bad.status).toBe(400);
    const fields = ((await bad.json()).errors as { field: string }[]).map((e) => e.field);
    expect(fields).toEqual(expect.arrayContaining(["timezone", "end"]));
    const ok = await s.api("/v1/settings/sending", {
      method: "PUT",
      json: { timezone: "Europe/Berlin", days: [1, 2, 3, 4], start: "09:00", end: "17:30", holidays: ["2026-12-25"] },
    });
    expect(ok.status).toBe(200);
    expect(await (await s.api("/v1/settings/sending")).json()).toMatchObject({
      timezone: "Europe/Berlin",
      end: "17:30",
    });
  });
});

describe("manual enrollments", () => {
  let id: string;

  it("POST enrolls by domain, picking the persona contact; the same again is 200, another sequence on the track 409", async () => {
    const res = await post("/v1/enrollments", { domain: "api-prio.com", sequenceId: seqA });
    expect(res.status).toBe(201);
    const e = (await res.json()) as Enrollment;
    id = e.id;
    expect(e).toMatchObject({
      track: "priority",
      status: "active",
      sequenceId: seqA,
      source: "manual",
      stepId: "intro",
    });
    const account = await (await s.api("/v1/accounts/api-prio.com")).json();
    const ana = (account.contacts as { id: string; email: string }[]).find((c) => c.email === "ana@api-prio.com");
    expect(e.contactId).toBe(ana?.id);
    // Due at a Mon-Thu 09:00-17:30 Berlin opening (the workspace window), 3 sending days out.
    const local = new Intl.DateTimeFormat("en-GB", {
      timeZone: "Europe/Berlin",
      weekday: "short",
      hour: "2-digit",
      minute: "2-digit",
      hourCycle: "h23",
    }).format(new Date(e.dueAt ?? ""));
    expect(local).toMatch(/^(Mon|Tue|Wed|Thu) (09|1[0-7]):\d\d$/);

    const same = await post("/v1/enrollments", { domain: "api-prio.com", sequenceId: seqA });
    expect(same.status).toBe(200);
    expect((await same.json()).id).toBe(id);
    const other = await post("/v1/enrollments", { domain: "api-prio.com", sequenceId: seqB });
    expect(other.status).toBe(409);
    expect((await other.json()).detail).toContain(id);
    // Another track is free.
    const nurture = await post("/v1/enrollments", { domain: "api-prio.com", sequenceId: seqB, track: "nurture" });
    expect(nurture.status).toBe(201);
  });

  it("POST refuses unknown accounts, sequences and contacts (404), disqualified accounts without a track (409), bad bodies (400)", async () => {
    expect((await post("/v1/enrollments", { domain: "nowhere.com", sequenceId: seqA })).status).toBe(404);
    const noSeq = await post("/v1/enrollments", { domain: "api-nurt.com", sequenceId: "seq_missing" });
    expect(noSeq.status).toBe(404);
    expect((await noSeq.json()).errors[0].field).toBe("sequenceId");
    const noContact = await post("/v1/enrollments", { domain: "api-nurt.com", sequenceId: seqA, contactId: "nope" });
    expect(noContact.status).toBe(404);
    expect((await noContact.json()).errors[0].field).toBe("contactId");
    expect((await post("/v1/enrollments", { domain: "api-dq.com", sequenceId: seqA })).status).toBe(409);
    const missing = await post("/v1/enrollments", { sequenceId: seqA });
    expect(missing.status).toBe(400);
    expect((await missing.json()).errors[0].field).toBe("accountId");
    expect((await post("/v1/enrollments", { domain: "api-nurt.com", sequenceId: seqA, track: "vip" })).status).toBe(
      400,
    );
  });

  it("pause, resume and stop move the enrollment through its states", async () => {
    const paused = await (await post(`/v1/enrollments/${id}/pause`)).json();
    expect(paused).toMatchObject({ status: "paused", dueAt: null, claim: null });
    expect((await post(`/v1/enrollments/${id}/pause`)).status).toBe(200);
    const resumed = await (await post(`/v1/enrollments/${id}/resume`)).json();
    expect(resumed.status).toBe("active");
    expect(Date.parse(resumed.dueAt)).toBeGreaterThanOrEqual(Date.now() - 1000);
    const stopped = await (await post(`/v1/enrollments/${id}/stop`, { reason: "asked us to" })).json();
    expect(stopped).toMatchObject({ status: "stopped", stopReason: "asked us to", dueAt: null });
    expect((await post(`/v1/enrollments/${id}/resume`)).status).toBe(409);
    expect((await post(`/v1/enrollments/${id}/pause`)).status).toBe(409);
    const again = await (await post(`/v1/enrollments/${id}/stop`)).json();
    expect(again.stopReason).toBe("asked us to");
    // The track is free again.
    expect((await post("/v1/enrollments", { domain: "api-prio.com", sequenceId: seqB })).status).toBe(201);
  });

  it("GET lists by status and sequence with cursors, per account, and one by id", async () => {
    const one = await s.api(`/v1/enrollments/${id}`);
    expect(one.status).toBe(200);
    expect((await one.json()).id).toBe(id);
    const collected: Enrollment[] = [];
    let cursor: string | undefined;
    do {
      const page = await (
        await s.api(`/v1/enrollments?limit=1${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`)
      ).json();
      collected.push(...page.items);
      cursor = page.nextCursor;
    } while (cursor);
    expect(collected.map((e) => e.status)).toEqual(["active", "active", "stopped"]);
    expect(new Set(collected.map((e) => e.id)).size).toBe(3);
    const stopped = await (await s.api("/v1/enrollments?status=stopped")).json();
    expect(stopped.items.map((e: Enrollment) => e.id)).toEqual([id]);
    const bySeq = await (await s.api(`/v1/enrollments?sequenceId=${seqB}`)).json();
    expect(bySeq.items).toHaveLength(2);
    const forAccount = await (await s.api("/v1/accounts/api-prio.com/enrollments")).json();
    expect(forAccount.items).toHaveLength(3);
    expect((await s.api("/v1/accounts/api-nurt.com/enrollments")).status).toBe(200);
    expect((await s.api("/v1/accounts/nowhere.com/enrollments")).status).toBe(404);
    expect((await s.api("/v1/enrollments?cursor=garbage")).status).toBe(400);
    expect((await s.api("/v1/enrollments?status=running")).status).toBe(400);
    expect((await s.api("/v1/enrollments/enr_01ARZ3NDEKTSV4RRFFQ69G5FAV")).status).toBe(404);
  });

  it("another workspace sees none of it (404)", async () => {
    await ensureWorkspace(s.store, "other-ws", "other");
    await putApiKey(s.store, "other-ws", "other-ws-key-123456", "test");
    const auth = { authorization: "Bearer other-ws-key-123456" };
    expect((await s.api(`/v1/enrollments/${id}`, { headers: auth })).status).toBe(404);
    expect((await s.api(`/v1/enrollments/${id}/stop`, { method: "POST", headers: auth })).status).toBe(404);
    expect((await s.api(`/v1/enrollments/${id}/pause`, { method: "POST", headers: auth })).status).toBe(404);
    expect((await (await s.api("/v1/enrollments", { headers: auth })).json()).items).toEqual([]);
    expect((await s.api("/v1/accounts/api-prio.com/enrollments", { headers: auth })).status).toBe(404);
    const cross = await s.api("/v1/enrollments", {
      method: "POST",
      headers: auth,
      json: { domain: "api-prio.com", sequenceId: seqA },
    });
    expect(cross.status).toBe(404);
    expect((await s.api("/v1/routing-rules", { headers: auth }).then((r) => r.json())).rules).toEqual([]);
  });
});
