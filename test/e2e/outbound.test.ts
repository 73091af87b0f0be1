import { DEMO_ICP, type Enrollment } from "@icp/core";
import type { CapturedMail } from "@icp/store";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually, type TestStack, testStack, waitForImport } from "../support/stack.js";

/**
 * The product's promise end to end, through the same stack `npm start` runs (API, queues,
 * route/tick/send/events workers, SMTP capture): upload accounts → priority accounts get
 * email 1 → one replies → its sequence stops and it gets nothing more, while the others go on
 * to email 2.
 */
let s: TestStack;
beforeAll(async () => {
  s = await testStack();
});
afterAll(() => s?.stop());

const recent = new Date(Date.now() - 3 * 86_400_000).toISOString().slice(0, 10);
const csv = [
  "Website,Company,Industry,# Employees,Country,Technologies,Signals,First Name,Title,Email",
  `alpha-e2e.io,Alpha,SaaS,150,Germany,HubSpot,funding:${recent}:12000000,Alice,VP Sales,alice@alpha-e2e.io`,
  `bravo-e2e.io,Bravo,SaaS,220,France,Salesforce,funding:${recent}:9000000,Bob,Head of Sales,bob@bravo-e2e.io`,
  `charlie-e2e.io,Charlie,SaaS,180,Germany,HubSpot,funding:${recent}:3000000,Chloe,CRO,chloe@charlie-e2e.io`,
  "delta-e2e.io,Delta,Retail,40,Brazil,,,Dan,Buyer,dan@delta-e2e.io",
].join("\n");
const PRIORITY = ["alpha-e2e.io", "bravo-e2e.io", "charlie-e2e.io"];

async function mail(): Promise<CapturedMail[]> {
  const res = await s.api("/v1/mail?limit=100");
  expect(res.status).toBe(200);
  return ((await res.json()) as { items: CapturedMail[] }).items;
}
const mailTo = (all: CapturedMail[], domain: string, subject: string) =>
  all.filter((m) => m.to.some((t) => t.endsWith(`@${domain}`)) && m.subject.startsWith(subject));

describe("upload → email 1 → reply → stopped, no further mail", () => {
  it("runs the whole outbound loop", async () => {
    expect((await s.api("/v1/icps", { method: "POST", json: DEMO_ICP })).status).toBe(201);
    // Always open, no caps in the way: this test is about the flow, not the windows or limits.
    expect(
      (
        await s.api("/v1/settings/sending", {
          method: "PUT",
          json: { timezone: "UTC", days: [1, 2, 3, 4, 5, 6, 7], start: "00:00", end: "24:00", holidays: [] },
        })
      ).status,
    ).toBe(200);
    const sender = await s.api("/v1/senders", {
      method: "POST",
      json: {
        kind: "mailbox",
        name: "Sam Seller",
        email: "sam@seller.example",
        limits: { emailStart: 1000, emailMax: 1000, emailGapSeconds: 0, emailGapJitterSeconds: 0 },
      },
    });
    expect(sender.status).toBe(201);
    const seq = await s.api("/v1/sequences", {
      method: "POST",
      json: {
        name: "Priority outreach",
        steps: [
          {
            id: "intro",
            channel: "email",
            content: {
              subject: "Intro for {{company}}",
              body: "Hi {{default firstName 'there'}},{{#if signals.funding}} congrats on the {{money signals.funding.amount}} round.{{/if}} Worth a chat? https://example.com/demo",
            },
          },
          {
            id: "bump",
            channel: "email",
            delay: { amount: 1, unit: "minutes" },
            content: { subject: "Following up, {{company}}", body: "Hi {{default firstName 'there'}}, bumping this." },
          },
        ],
      },
    });
    expect(seq.status).toBe(201);
    const sequenceId = ((await seq.json()) as { id: string }).id;
    expect(
      (
        await s.api("/v1/routing-rules", {
          method: "PUT",
          json: { rules: [{ tier: "priority", sequenceId }], reEntry: { mode: "never" } },
        })
      ).status,
    ).toBe(200);

    const upload = await s.api("/v1/imports", { method: "POST", csv });
    expect(upload.status).toBe(202);
    await waitForImport(s, ((await upload.json()) as { id: string }).id);

    // Every priority account gets email 1 (personalized), the nurture one gets nothing.
    const first = await eventually(
      async () => {
        const all = await mail();
        return PRIORITY.every((d) => mailTo(all, d, "Intro").length === 1) ? all : undefined;
      },
      120_000,
      "email 1 to every priority account",
    );
    const alpha = mailTo(first, "alpha-e2e.io", "Intro")[0];
    expect(alpha?.subject).toBe("Intro for Alpha");
    expect(alpha?.text).toContain("Hi Alice, congrats on the $12M round.");
    expect(alpha?.headers["list-unsubscribe"]).toMatch(/<http[^>]+\/u\/[^>]+>/);
    expect(mailTo(first, "delta-e2e.io", "").length).toBe(0);

    // Alpha replies: its enrollment stops.
    const reply = await s.api("/v1/events", {
      method: "POST",
      json: { type: "replied", domain: "alpha-e2e.io", contactEmail: "alice@alpha-e2e.io" },
    });
    expect(reply.status).toBe(202);
    await eventually(
      async () => {
        const res = await s.api("/v1/accounts/alpha-e2e.io/enrollments");
        const items = ((await res.json()) as { items: Enrollment[] }).items;
        return items.length === 1 && items[0]?.status === "stopped" ? items : undefined;
      },
      60_000,
      "alpha's enrollment stopped",
    );

    // The others get the bump a minute later; alpha never does.
    const second = await eventually(
      async () => {
        const all = await mail();
        return ["bravo-e2e.io", "charlie-e2e.io"].every((d) => mailTo(all, d, "Following up").length === 1)
          ? all
          : undefined;
      },
      180_000,
      "email 2 to the accounts that did not reply",
    );
    expect(mailTo(second, "alpha-e2e.io", "Following up")).toEqual([]);
    for (const d of PRIORITY) expect(mailTo(second, d, "Intro").length).toBe(1); // nothing sent twice

    const timeline = await s.api("/v1/accounts/alpha-e2e.io/timeline");
    const types = ((await timeline.json()) as { items: { type: string }[] }).items.map((i) => i.type);
    expect(types).toEqual(expect.arrayContaining(["replied", "sent"]));
  }, 420_000);
});
