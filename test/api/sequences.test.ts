import { createApp } from "@icp/api";
import { accountId, DEMO_ICP } from "@icp/core";
import { ensureWorkspace, getSequenceVersion, putApiKey } from "@icp/store";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type TestStack, testStack, waitForImport } from "../support/stack.js";

let s: TestStack;
let app: ReturnType<typeof createApp>;
const req = (path: string, init: RequestInit & { json?: unknown; key?: string } = {}) => {
  const headers = new Headers(init.headers);
  headers.set("authorization", `Bearer ${init.key ?? s.apiKey}`);
  if (init.json !== undefined) headers.set("content-type", "application/json");
  return app.request(path, {
    ...init,
    headers,
    ...(init.json !== undefined ? { body: JSON.stringify(init.json) } : {}),
  });
};
const post = (path: string, json: unknown, key?: string) =>
  req(path, { method: "POST", json, ...(key ? { key } : {}) });

const ACCOUNTS = [
  {
    domain: "acme.com",
    name: "Acme & Sons",
    industry: "SaaS",
    employees: 200,
    country: "France",
    technologies: ["HubSpot", "Slack"],
    signals: [
      { type: "funding", at: "2025-02-01", amount: 3_000_000 },
      { type: "funding", at: "2026-01-10", amount: 12_000_000, detail: "Series B" },
      { type: "hiring", at: "2026-01-20", detail: "3 SDRs" },
    ],
    contacts: [
      { email: "ana@acme.com", firstName: "Ana", lastName: "Silva", title: "VP Sales" },
      { email: "bob@acme.com", firstName: "Bob", title: "CEO" },
    ],
  },
  {
    domain: "fin.io",
    name: "Fin",
    industry: "Fintech",
    contacts: [{ email: "cara@fin.io", firstName: "Cara", title: "Head of Sales" }],
  },
  {
    domain: "evil.com",
    name: "<script>alert(1)</script>{{constructor}}",
    industry: "Retail",
    contacts: [{ email: "x@evil.com", firstName: "<img src=x onerror=alert(1)>" }],
  },
  { domain: "bare.io" },
];

/** Step "intro" has default + segment/persona targeting + A/B; "bump" is a plain-text LinkedIn step. */
const SEQ = {
  name: "SaaS priority",
  steps: [
    {
      id: "intro",
      channel: "email",
      content: {
        subject: "{{company}}: quick idea",
        body: '<p>Hi {{default firstName "there"}},</p>\n<p>{{#if signals.funding}}Congrats on {{money signals.funding.amount}} ({{monthYear signals.funding.at}}).{{else}}Hello from us.{{/if}}</p>',
      },
      targeted: [
        { segment: "saas", body: "<p>SaaS note for {{company}}</p>" },
        { persona: "sales-leader", body: "<p>For sales leaders like {{firstName}}</p>" },
        {
          segment: "saas",
          persona: "sales-leader",
          subject: "{{firstName}}, pipeline at {{company}}",
          body: "<p>Both: {{title}} at {{company}}</p>",
        },
      ],
    },
    {
      id: "bump",
      channel: "linkedin_message",
      delay: { amount: 2, unit: "business_days" },
      condition: { event: "replied", happened: false, otherwise: "stop" },
      content: {
        body: 'Hi {{default firstName "there"}},\n{{company}} ({{default industry "your industry"}}) still on my list.',
      },
      abVariants: [
        { id: "A", body: "A: {{company}}" },
        { id: "B", body: "B: {{company}}" },
      ],
    },
  ],
};

let seqId: string;

beforeAll(async () => {
  s = await testStack();
  app = createApp({ store: () => s.store });
  expect((await s.api("/v1/icps", { method: "POST", json: DEMO_ICP })).status).toBe(201);
  const job = await (await s.api("/v1/imports", { method: "POST", json: { accounts: ACCOUNTS } })).json();
  const done = await waitForImport(s, job.id);
  expect(done).toMatchObject({ status: "completed", accepted: ACCOUNTS.length });
  const res = await post("/v1/sequences", SEQ);
  expect(res.status).toBe(201);
  seqId = (await res.json()).id;
}, 60_000);
afterAll(() => s?.stop());

describe("sequences CRUD and versions", () => {
  it("creates version 1 with defaults and reads it back", async () => {
    const res = await post("/v1/sequences", SEQ);
    expect(res.status).toBe(201);
    const seq = await res.json();
    expect(seq.id).toMatch(/^seq_[0-9A-Z]{26}$/);
    expect(res.headers.get("location")).toBe(`/v1/sequences/${seq.id}`);
    expect(seq).toMatchObject({
      version: 1,
      name: "SaaS priority",
      stopOnAccountReply: true,
      createdBy: expect.stringMatching(/^key:/),
      updatedBy: expect.stringMatching(/^key:/),
    });
    expect(seq.steps[0]).toMatchObject({ id: "intro", delay: { amount: 0, unit: "minutes" }, abVariants: [] });
    expect(await (await req(`/v1/sequences/${seq.id}`)).json()).toEqual(seq);
    const list = await (await req("/v1/sequences")).json();
    expect(list.items.map((i: { id: string }) => i.id)).toEqual(expect.arrayContaining([seq.id, seqId]));
  });

  it("PUT saves a new version with what changed, and keeps every version", async () => {
    const { id } = await (await post("/v1/sequences", SEQ)).json();
    const v2def = {
      ...SEQ,
      name: "SaaS priority v2",
      steps: [{ ...SEQ.steps[0], content: { subject: "New {{company}}", body: "v2 body" } }, SEQ.steps[1]],
    };
    const put = await req(`/v1/sequences/${id}`, { method: "PUT", json: v2def });
    expect(put.status).toBe(200);
    const v2 = await put.json();
    expect(v2).toMatchObject({ id, version: 2, name: "SaaS priority v2" });
    expect(v2.changes.map((c: { path: string }) => c.path)).toEqual(["name", "steps.intro.content"]);
    expect(v2.changes[1]).toMatchObject({ op: "changed", to: { subject: "New {{company}}", body: "v2 body" } });

    const versions = await (await req(`/v1/sequences/${id}/versions`)).json();
    expect(versions.items.map((v: { version: number; name: string }) => [v.version, v.name])).toEqual([
      [1, "SaaS priority"],
      [2, "SaaS priority v2"],
    ]);
    expect(versions.items[0].changes).toEqual([]);
    expect(versions.items[1]).toMatchObject({
      createdBy: expect.stringMatching(/^key:/),
      createdAt: expect.any(String),
    });
    const v1 = await (await req(`/v1/sequences/${id}/versions/1`)).json();
    expect(v1.steps[0].content.body).toBe(SEQ.steps[0]?.content.body);
    expect((await (await req(`/v1/sequences/${id}`)).json()).version).toBe(2);
    // The store gives other components the pinned version, flat.
    const stored = await getSequenceVersion(s.store, s.workspace, id, 1);
    expect(stored).toMatchObject({ id, version: 1, name: "SaaS priority", steps: [{ id: "intro" }, { id: "bump" }] });
    expect((await req(`/v1/sequences/${id}/versions/3`)).status).toBe(404);
  });

  it("concurrent PUTs never both become the same version", async () => {
    const { id } = await (await post("/v1/sequences", SEQ)).json();
    const statuses = await Promise.all(
      Array.from({ length: 6 }, (_, i) =>
        req(`/v1/sequences/${id}`, { method: "PUT", json: { ...SEQ, name: `p${i}` } }),
      ),
    ).then((rs) => rs.map((r) => r.status));
    expect(statuses.every((st) => st === 200 || st === 409)).toBe(true);
    const saved = statuses.filter((st) => st === 200).length;
    expect(saved).toBeGreaterThan(0);
    const versions = (await (await req(`/v1/sequences/${id}/versions`)).json()).items;
    expect(versions.map((v: { version: number }) => v.version)).toEqual(
      Array.from({ length: saved + 1 }, (_, i) => i + 1),
    );
    const head = await (await req(`/v1/sequences/${id}`)).json();
    expect(head.version).toBe(saved + 1);
    expect(head.name).toBe(versions[saved].name);
  });

  it("refuses a sequence too large to store with 413", async () => {
    const big = {
      name: "big",
      steps: Array.from({ length: 40 }, (_, i) => ({
        id: `s${i}`,
        channel: "linkedin_message",
        content: { body: `${"x".repeat(9_000)} {{company}}` },
      })),
    };
    const res = await post("/v1/sequences", big);
    expect(res.status).toBe(413);
    expect((await res.json()).type).toBe("/problems/payload-too-large");
  });

  it("404s for unknown sequences and 400s for malformed ids or definitions", async () => {
    const missing = await req("/v1/sequences/seq_01ARZ3NDEKTSV4RRFFQ69G5FAV");
    expect(missing.status).toBe(404);
    expect((await missing.json()).type).toBe("/problems/not-found");
    const put = await req("/v1/sequences/seq_01ARZ3NDEKTSV4RRFFQ69G5FAV", { method: "PUT", json: SEQ });
    expect(put.status).toBe(404);
    expect((await req("/v1/sequences/nope")).status).toBe(400);
    const bad = await post("/v1/sequences", {
      name: "",
      steps: [{ id: "x y", channel: "fax", content: { body: "" } }],
    });
    expect(bad.status).toBe(400);
    const fields = (await bad.json()).errors.map((e: { field: string }) => e.field);
    expect(fields).toEqual(expect.arrayContaining(["name", "steps.0.id", "steps.0.channel", "steps.0.content.body"]));
  });
});

describe("save-time validation", () => {
  const BAD = {
    name: "broken",
    steps: [
      {
        id: "intro",
        channel: "email",
        content: {
          subject: "Hi {{firstName}}",
          body: "Hello,\n\nI saw {{compnay}} raised {{money signals.funding.amount}}",
        },
        abVariants: [
          { id: "A", body: "ok {{company}}" },
          { id: "A", subject: "{{{company}}}", body: "{{#if signals.funding}}\n{{signals.funding.amout}}{{/if}}" },
        ],
      },
      {
        id: "next",
        channel: "email",
        content: { body: "{{#if firstName}}unclosed" },
        condition: { event: "opened", happened: false, otherwise: { goto: "nowhere" } },
      },
      { id: "hook", channel: "webhook", content: { body: "{{domain}}" } },
      { id: "hook", channel: "call_task", content: { body: "call {{fullName}}" } },
    ],
  };

  it("refuses bad templates and steps with 422 naming step, field, line and variable", async () => {
    const res = await post("/v1/sequences", BAD);
    expect(res.status).toBe(422);
    expect(res.headers.get("content-type")).toContain("application/problem+json");
    const p = await res.json();
    expect(p.type).toBe("/problems/unprocessable");
    const errors = p.errors as { field: string; step: string; line?: number; variable?: string; message: string }[];
    expect(errors).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ step: "intro", field: "steps.0.content.body", line: 3, variable: "compnay" }),
        expect.objectContaining({ step: "intro", field: "steps.0.abVariants.1.id", variantId: "A" }),
        expect.objectContaining({ step: "intro", field: "steps.0.abVariants.1.subject", line: 1 }),
        expect.objectContaining({
          step: "intro",
          field: "steps.0.abVariants.1.body",
          line: 2,
          variable: "signals.funding.amout",
        }),
        expect.objectContaining({ step: "next", field: "steps.1.content.subject" }),
        expect.objectContaining({ step: "next", field: "steps.1.content.body", line: 1 }),
        expect.objectContaining({ step: "next", field: "steps.1.condition.otherwise.goto" }),
        expect.objectContaining({ step: "hook", field: "steps.2.webhookUrl" }),
        expect.objectContaining({ step: "hook", field: "steps.3.id" }),
      ]),
    );
    expect(errors).toHaveLength(9);
    expect(errors.find((e) => e.variable === "compnay")?.message).toContain('did you mean "company"');
    expect(errors.find((e) => e.field === "steps.0.abVariants.1.subject")?.message).toContain("{{{ }}}");
    expect(p.detail).toContain("9 problems");
  });

  it("refuses a bad PUT and keeps the current version", async () => {
    const res = await req(`/v1/sequences/${seqId}`, { method: "PUT", json: BAD });
    expect(res.status).toBe(422);
    const head = await (await req(`/v1/sequences/${seqId}`)).json();
    expect(head).toMatchObject({ version: 1, name: "SaaS priority" });
  });

  it("refuses a template reaching into prototypes", async () => {
    const res = await post("/v1/sequences", {
      name: "proto",
      steps: [{ id: "a", channel: "email", content: { subject: "x", body: "{{constructor.name}} {{__proto__}}" } }],
    });
    expect(res.status).toBe(422);
    const vars = (await res.json()).errors.map((e: { variable: string }) => e.variable);
    expect(vars).toEqual(["constructor.name", "__proto__"]);
  });
});

describe("POST /v1/sequences/{id}/preview", () => {
  const preview = async (body: Record<string, unknown>, key?: string) => {
    const res = await post(`/v1/sequences/${seqId}/preview`, { stepId: "intro", ...body }, key);
    return { status: res.status, body: await res.json() };
  };

  it("picks segment+persona, then segment, then persona content", async () => {
    const ana = await preview({ accountId: "acme.com", contactId: "ana@acme.com" });
    expect(ana.status).toBe(200);
    expect(ana.body).toMatchObject({
      sequenceId: seqId,
      version: 1,
      stepId: "intro",
      channel: "email",
      accountId: accountId(s.workspace, "acme.com"),
      variant: "segment:saas+persona:sales-leader",
      subject: "Ana, pipeline at Acme & Sons",
      html: "<p>Both: VP Sales at Acme &amp; Sons</p>",
      text: "Both: VP Sales at Acme & Sons",
    });
    expect(ana.body.variants).toEqual([
      "default",
      "segment:saas",
      "persona:sales-leader",
      "segment:saas+persona:sales-leader",
    ]);
    // Without contactId: the contact an enrollment would address (best persona with an email).
    expect((await preview({ accountId: "acme.com" })).body.contactId).toBe(ana.body.contactId);

    const bob = await preview({ accountId: accountId(s.workspace, "acme.com"), contactId: "bob@acme.com" });
    expect(bob.body).toMatchObject({ variant: "segment:saas", subject: "Acme & Sons: quick idea" });
    expect(bob.body.text).toBe("SaaS note for Acme & Sons");

    const cara = await preview({ accountId: "fin.io" });
    expect(cara.body).toMatchObject({ variant: "persona:sales-leader", text: "For sales leaders like Cara" });
  });

  it("renders the default content with signals, and defaults for missing data", async () => {
    const forced = await preview({ accountId: "acme.com", contactId: "ana@acme.com", variant: "default" });
    expect(forced.body).toMatchObject({
      variant: "default",
      subject: "Acme & Sons: quick idea",
      html: "<p>Hi Ana,</p>\n<p>Congrats on $12M (January 2026).</p>",
      text: "Hi Ana,\n\nCongrats on $12M (January 2026).",
    });
    const bare = await preview({ accountId: "bare.io" });
    expect(bare.body).toMatchObject({ variant: "default", subject: "bare.io: quick idea" });
    expect(bare.body.text).toBe("Hi there,\n\nHello from us.");
    expect(bare.body.contactId).toBeUndefined();
  });

  it("splits A/B variants by seed, stably, and renders plain-text steps", async () => {
    const seen = new Map<string, string>();
    for (let i = 0; i < 12; i++) {
      const r = await preview({ accountId: "bare.io", stepId: "bump", seed: `enr_${i}` });
      expect(r.status).toBe(200);
      seen.set(`enr_${i}`, r.body.variant);
      expect(r.body.text).toBe(`${r.body.variant}: bare.io`);
      expect(r.body.subject).toBeUndefined();
    }
    expect(new Set(seen.values())).toEqual(new Set(["A", "B"]));
    const again = await preview({ accountId: "bare.io", stepId: "bump", seed: "enr_3" });
    expect(again.body.variant).toBe(seen.get("enr_3"));
    const plain = await preview({ accountId: "acme.com", stepId: "bump", variant: "default" });
    expect(plain.body.html).toBe("Hi Ana,<br>\nAcme &amp; Sons (SaaS) still on my list.");
    expect(plain.body.text).toBe("Hi Ana,\nAcme & Sons (SaaS) still on my list.");
  });

  it("escapes a prospect's data in HTML and never runs it as a template", async () => {
    const r = await preview({ accountId: "evil.com", variant: "default" });
    expect(r.status).toBe(200);
    expect(r.body.subject).toBe("<script>alert(1)</script>{{constructor}}: quick idea");
    expect(r.body.html).toBe("<p>Hi &lt;img src&#x3D;x onerror&#x3D;alert(1)&gt;,</p>\n<p>Hello from us.</p>");
    const seg = await preview({ accountId: "evil.com", stepId: "bump", variant: "A" });
    expect(seg.body.html).toBe("A: &lt;script&gt;alert(1)&lt;/script&gt;{{constructor}}");
    expect(seg.body.text).toBe("A: <script>alert(1)</script>{{constructor}}");
  });

  it("renders an older version on request", async () => {
    const { id } = await (await post("/v1/sequences", SEQ)).json();
    const v2 = {
      ...SEQ,
      steps: [{ id: "intro", channel: "email", content: { subject: "v2", body: "second {{domain}}" } }],
    };
    expect((await req(`/v1/sequences/${id}`, { method: "PUT", json: v2 })).status).toBe(200);
    const latest = await post(`/v1/sequences/${id}/preview`, { accountId: "bare.io", stepId: "intro" });
    expect(await latest.json()).toMatchObject({ version: 2, text: "second bare.io" });
    const old = await post(`/v1/sequences/${id}/preview`, { accountId: "bare.io", stepId: "intro", version: 1 });
    expect(await old.json()).toMatchObject({ version: 1, text: "Hi there,\n\nHello from us." });
    const none = await post(`/v1/sequences/${id}/preview`, { accountId: "bare.io", stepId: "intro", version: 9 });
    expect(none.status).toBe(404);
  });

  it("names unknown steps, variants, contacts and accounts", async () => {
    const step = await preview({ accountId: "acme.com", stepId: "nope" });
    expect(step.status).toBe(400);
    expect(step.body.errors[0]).toMatchObject({ field: "stepId", message: "known steps: intro, bump" });
    const variant = await preview({ accountId: "acme.com", variant: "C" });
    expect(variant.status).toBe(400);
    expect(variant.body.errors[0].field).toBe("variant");
    expect((await preview({ accountId: "acme.com", contactId: "nobody@acme.com" })).status).toBe(404);
    expect((await preview({ accountId: "unknown.org" })).status).toBe(404);
    expect((await preview({ accountId: "not a domain!" })).status).toBe(404);
  });

  it("keeps workspaces apart: no preview of another workspace's account or sequence", async () => {
    await ensureWorkspace(s.store, "seq-other", "other");
    await putApiKey(s.store, "seq-other", "seq-other-key", "other");
    const other = "seq-other-key";
    const mine = await post("/v1/sequences", SEQ, other);
    expect(mine.status).toBe(201);
    const otherSeq = (await mine.json()).id;
    // Their sequence, our account (by domain and by id): 404.
    for (const ref of ["acme.com", accountId(s.workspace, "acme.com")]) {
      const res = await post(`/v1/sequences/${otherSeq}/preview`, { accountId: ref, stepId: "intro" }, other);
      expect(res.status).toBe(404);
      expect((await res.json()).type).toBe("/problems/not-found");
    }
    // Our sequence is invisible to them.
    expect((await req(`/v1/sequences/${seqId}`, { key: other })).status).toBe(404);
    expect(
      (await post(`/v1/sequences/${seqId}/preview`, { accountId: "acme.com", stepId: "intro" }, other)).status,
    ).toBe(404);
    const list = await (await req("/v1/sequences", { key: other })).json();
    expect(list.items.map((i: { id: string }) => i.id)).toEqual([otherSeq]);
  });
});

describe("scopes and docs", () => {
  it("reads need read, writes need write", async () => {
    await putApiKey(s.store, s.workspace, "seq-read-only", "ro", ["read"]);
    expect((await req("/v1/sequences", { key: "seq-read-only" })).status).toBe(200);
    expect((await req(`/v1/sequences/${seqId}/versions`, { key: "seq-read-only" })).status).toBe(200);
    const denied = await post("/v1/sequences", SEQ, "seq-read-only");
    expect(denied.status).toBe(403);
    expect((await denied.json()).type).toBe("/problems/forbidden");
    expect((await req(`/v1/sequences/${seqId}`, { method: "PUT", json: SEQ, key: "seq-read-only" })).status).toBe(403);
    expect((await req("/v1/sequences")).status).toBe(200);
    expect((await app.request("/v1/sequences")).status).toBe(401);
  });

  it("documents every route with examples", async () => {
    const doc = await (await app.request("/openapi.json")).json();
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining([
        "/v1/sequences",
        "/v1/sequences/{id}",
        "/v1/sequences/{id}/versions",
        "/v1/sequences/{id}/versions/{version}",
        "/v1/sequences/{id}/preview",
      ]),
    );
    const create = doc.paths["/v1/sequences"].post;
    expect(create.requestBody.content["application/json"].example.steps[0].id).toBe("intro");
    expect(Object.keys(create.responses)).toEqual(expect.arrayContaining(["201", "400", "422"]));
    expect(doc.paths["/v1/sequences/{id}/preview"].post.requestBody.content["application/json"].example).toMatchObject({
      stepId: "intro",
    });
  });
});
