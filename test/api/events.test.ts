import { DEMO_ICP, demoAccountsCsv, signInboundWebhook, signTrackingToken } from "@icp/core";
import { engagementSummary, isSuppressed } from "@icp/store";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { drained } from "../support/events.js";
import { eventually, type TestStack, testStack, waitForImport } from "../support/stack.js";

let s: TestStack;
let acc: { id: string; domain: string; contacts?: { id: string; email?: string }[] };

beforeAll(async () => {
  s = await testStack();
  expect((await s.api("/v1/icps", { method: "POST", json: DEMO_ICP })).status).toBe(201);
  const job = await (await s.api("/v1/imports", { method: "POST", csv: demoAccountsCsv(20, 5) })).json();
  await waitForImport(s, job.id);
  const items = (await (await s.api("/v1/accounts?limit=50")).json()).items as { id: string }[];
  const full = await Promise.all(items.map(async (i) => (await s.api(`/v1/accounts/${i.id}`)).json()));
  acc = full.find((a) => a.contacts?.some((c: { email?: string }) => c.email)) ?? full[0];
}, 120_000);
afterAll(() => s?.stop());

const events = async (id: string) => (await engagementSummary(s.store, s.workspace, id)).events;
/** The account's event count once the event queue holds nothing, visible or in flight. */
const settledEvents = async (id: string) => {
  await drained(s, "EventQueue");
  return events(id);
};

describe("POST /v1/events", () => {
  it("accepts one event or an array and answers 202 with the ids", async () => {
    const one = await s.api("/v1/events", { method: "POST", json: { type: "opened", accountId: acc.id } });
    expect(one.status).toBe(202);
    const body = await one.json();
    expect(body.accepted).toBe(1);
    expect(body.ids[0]).toMatch(/^evt_/);
    const many = await s.api("/v1/events", {
      method: "POST",
      json: [
        { id: "a-1", type: "sent", domain: acc.domain },
        { id: "a-2", type: "clicked", accountId: acc.id, at: "2026-01-02T03:04:05+02:00" },
      ],
    });
    expect(many.status).toBe(202);
    expect(await many.json()).toEqual({ accepted: 2, ids: ["a-1", "a-2"] });
    await eventually(async () => ((await events(acc.id)) >= 3 ? true : undefined));
  });

  it("refuses invalid events naming the index and field, accepting none of them", async () => {
    const res = await s.api("/v1/events", {
      method: "POST",
      json: [
        { id: "bad-0", type: "opened", accountId: acc.id },
        { type: "teleported", accountId: acc.id },
        { type: "won", accountId: acc.id, amount: -5 },
        { type: "opened" },
      ],
    });
    expect(res.status).toBe(400);
    expect(res.headers.get("content-type")).toMatch(/application\/problem\+json/);
    const p = await res.json();
    const fields = p.errors.map((e: { field: string }) => e.field);
    expect(fields).toEqual(expect.arrayContaining(["1.type", "2.amount", "3.accountId"]));
    const semantic = await s.api("/v1/events", {
      method: "POST",
      json: [
        { type: "opened", accountId: acc.id },
        { type: "opened", accountId: "not-an-id" },
      ],
    });
    expect(semantic.status).toBe(422);
    expect((await semantic.json()).errors).toEqual([{ field: "1.accountId", message: "not an account id (acc_…)" }]);
    const tooMany = await s.api("/v1/events", {
      method: "POST",
      json: Array.from({ length: 1001 }, () => ({ type: "opened", accountId: acc.id })),
    });
    expect(tooMany.status).toBe(400);
    expect((await s.api("/v1/events", { method: "POST", json: [] })).status).toBe(400);
    const notJson = await s.api("/v1/events", {
      method: "POST",
      body: "{nope",
      headers: { "content-type": "application/json" },
    });
    expect(notJson.status).toBe(400);
    expect(await settledEvents(acc.id)).toBe(3);
  });
});

describe("won and lost events", () => {
  it("set the account's deal outcome (the latest wins, a late earlier one does not undo it)", async () => {
    const ref = (await (await s.api("/v1/accounts?limit=50")).json()).items.find(
      (a: { id: string }) => a.id !== acc.id,
    ) as { id: string };
    const post = (json: unknown) => s.api("/v1/events", { method: "POST", json });
    expect((await post({ type: "lost", accountId: ref.id, at: "2026-03-01T10:00:00Z" })).status).toBe(202);
    expect((await post({ type: "won", accountId: ref.id, amount: 4200, at: "2026-03-05T10:00:00Z" })).status).toBe(202);
    await drained(s, "EventQueue");
    // Late and out of order: an earlier loss arriving now changes nothing.
    expect((await post({ type: "lost", accountId: ref.id, at: "2026-02-01T10:00:00Z" })).status).toBe(202);
    await drained(s, "EventQueue");
    const a = await (await s.api(`/v1/accounts/${ref.id}`)).json();
    expect(a.outcome).toEqual({ outcome: "won", amount: 4200, at: "2026-03-05T10:00:00.000Z" });
  });
});

describe("signed provider webhook", () => {
  let secret: string;
  const url = () => `${s.url}/v1/webhooks/events/${s.workspace}`;
  const post = (body: string, sig?: string) =>
    fetch(url(), {
      method: "POST",
      body,
      headers: { "content-type": "application/json", ...(sig ? { "x-icp-signature": sig } : {}) },
    });
  const now = () => Math.floor(Date.now() / 1000);

  beforeAll(async () => {
    const res = await s.api("/v1/settings/inbound-webhook-secret", { method: "POST" });
    expect(res.status).toBe(201);
    secret = (await res.json()).secret;
    expect(secret).toMatch(/^whsec_/);
  });

  it("accepts a good signature without an API key, and refuses a replay of it", async () => {
    const body = JSON.stringify([{ id: "wh-1", type: "delivered", accountId: acc.id }]);
    const sig = signInboundWebhook(secret, body, now());
    const ok = await post(body, sig);
    expect(ok.status).toBe(202);
    expect(await ok.json()).toEqual({ accepted: 1, ids: ["wh-1"] });
    const replay = await post(body, sig);
    expect(replay.status).toBe(409);
  });

  it("refuses bad, expired, missing signatures and other workspaces' secrets", async () => {
    const body = JSON.stringify({ id: "wh-2", type: "opened", accountId: acc.id });
    expect((await post(body, signInboundWebhook("wrong", body, now()))).status).toBe(401);
    // Just outside the 300 s window, with room for the seconds the request itself may take on a
    // loaded machine (at +301 a tick of the server's clock made it exactly 300: accepted). The
    // exact boundary is unit-tested in test/unit/signature.test.ts.
    expect((await post(body, signInboundWebhook(secret, body, now() - 305))).status).toBe(401);
    expect((await post(body, signInboundWebhook(secret, body, now() + 305))).status).toBe(401);
    expect((await post(body, signInboundWebhook(secret, `${body} `, now()))).status).toBe(401);
    expect((await post(body)).status).toBe(401);
    const other = await fetch(`${s.url}/v1/webhooks/events/other-ws`, {
      method: "POST",
      body,
      headers: { "x-icp-signature": signInboundWebhook(secret, body, now()) },
    });
    expect(other.status).toBe(401);
    // Rotating the secret retires the old one.
    const rotated = (await (await s.api("/v1/settings/inbound-webhook-secret", { method: "POST" })).json()).secret;
    expect((await post(body, signInboundWebhook(secret, body, now()))).status).toBe(401);
    expect((await post(body, signInboundWebhook(rotated, body, now()))).status).toBe(202);
    secret = rotated;
  });
});

describe("tracking endpoints", () => {
  const tok = (p: Record<string, unknown>) =>
    signTrackingToken(s.settings.trackingSecret, { workspaceId: s.workspace, accountId: acc.id, ...p } as never);

  it("answers the open pixel with a GIF and records an open", async () => {
    // Earlier tests' events (the webhook's last one) may still be in the queue: count only after it is empty.
    const before = await settledEvents(acc.id);
    const res = await fetch(`${s.url}/t/o/${tok({ kind: "open", stepId: "s1", sequenceId: "seq_t" })}`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("image/gif");
    expect(
      Buffer.from(await res.arrayBuffer())
        .subarray(0, 6)
        .toString(),
    ).toBe("GIF89a");
    expect(await settledEvents(acc.id)).toBe(before + 1);
    const bad = await fetch(`${s.url}/t/o/garbage.token`);
    expect(bad.status).toBe(200); // still an image, records nothing
    expect(await settledEvents(acc.id)).toBe(before + 1);
  });

  it("redirects a click only to the URL recorded in the token", async () => {
    const t = tok({ kind: "click", url: "https://example.com/pricing?x=1" });
    const res = await fetch(`${s.url}/t/c/${t}`, { redirect: "manual" });
    expect(res.status).toBe(302);
    expect(res.headers.get("location")).toBe("https://example.com/pricing?x=1");
    // Tampered token, a url parameter, a forged token, a non-click token, a javascript: URL: 404, never a redirect.
    const [body, sig] = t.split(".");
    const evil = Buffer.from(
      JSON.stringify({ kind: "click", workspaceId: s.workspace, accountId: acc.id, url: "https://evil.example" }),
    ).toString("base64url");
    for (const path of [
      `/t/c/${evil}.${sig}`,
      `/t/c/${body}.x${sig}`,
      `/t/c/${t}?url=https://evil.example`,
      `/t/c/${tok({ kind: "open", url: "https://evil.example" })}`,
      `/t/c/${tok({ kind: "click", url: "javascript:alert(1)" })}`,
      `/t/c/${signTrackingToken("other-secret", { kind: "click", workspaceId: s.workspace, accountId: acc.id, url: "https://evil.example" })}`,
    ]) {
      const r = await fetch(`${s.url}${path}`, { redirect: "manual" });
      if (path.includes("?url=")) {
        expect(r.headers.get("location")).toBe("https://example.com/pricing?x=1");
        continue;
      }
      expect(r.status).toBe(404);
      expect(r.headers.get("location")).toBeNull();
    }
  });

  it("unsubscribes with a confirmation page and RFC 8058 one-click POST", async () => {
    const contact = acc.contacts?.find((c) => c.email);
    expect(contact?.email).toBeTruthy();
    const t = tok({ kind: "unsubscribe", contactId: contact?.id });
    const page = await fetch(`${s.url}/u/${t}`);
    expect(page.status).toBe(200);
    expect(await page.text()).toMatch(/<form method="post">/);
    expect((await isSuppressed(s.store, s.workspace, { email: contact?.email as string })).suppressed).toBe(false);
    const res = await fetch(`${s.url}/u/${t}`, {
      method: "POST",
      body: "List-Unsubscribe=One-Click",
      headers: { "content-type": "application/x-www-form-urlencoded" },
    });
    expect(res.status).toBe(200);
    await eventually(async () =>
      (await isSuppressed(s.store, s.workspace, { email: contact?.email as string })).suppressed ? true : undefined,
    );
    expect((await fetch(`${s.url}/u/not.valid`, { method: "POST" })).status).toBe(404);
  });
});
