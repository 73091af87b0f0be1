import { AccountInput, Contact, IngestChunkMessage, Signal, TierChangedEvent } from "@icp/core";
import { describe, expect, it } from "vitest";

const chunk = (over: Record<string, unknown> = {}) => ({
  kind: "ingest-chunk",
  workspaceId: "ws_1",
  importId: "imp_1",
  chunk: 0,
  rows: [{ line: 2, account: { domain: "acme.com", employees: 10 } }],
  at: "2026-11-20T09:30:00.000Z",
  ...over,
});

const event = (over: Record<string, unknown> = {}) => ({
  kind: "tier-changed",
  eventId: "evt_1",
  workspaceId: "ws_1",
  accountId: "acc_1",
  domain: "acme.com",
  from: null,
  to: "priority",
  score: 80,
  icpId: "icp_1",
  icpVersion: 2,
  segment: "saas",
  at: "2026-11-20T09:30:00Z",
  source: "import:imp_1#0",
  ...over,
});

const fails = (schema: { safeParse(v: unknown): { success: boolean } }, v: unknown) =>
  expect(schema.safeParse(v).success).toBe(false);

describe("IngestChunkMessage", () => {
  it("accepts a chunk and keeps the optional rowCount", () => {
    expect(IngestChunkMessage.parse(chunk())).toEqual(chunk());
    expect(IngestChunkMessage.parse(chunk({ rowCount: 3 })).rowCount).toBe(3);
  });

  it("rejects empty rows, bad lines, bad chunk numbers, bad dates and a wrong kind", () => {
    fails(IngestChunkMessage, chunk({ rows: [] }));
    fails(IngestChunkMessage, chunk({ rows: [{ line: 0, account: { domain: "a.com" } }] }));
    fails(IngestChunkMessage, chunk({ rows: [{ line: 2, account: { domain: "" } }] }));
    fails(IngestChunkMessage, chunk({ chunk: -1 }));
    fails(IngestChunkMessage, chunk({ chunk: 1.5 }));
    fails(IngestChunkMessage, chunk({ rowCount: 0 }));
    fails(IngestChunkMessage, chunk({ at: "2026-11-20" }));
    fails(IngestChunkMessage, chunk({ workspaceId: "" }));
    fails(IngestChunkMessage, chunk({ kind: "tier-changed" }));
  });

  it("survives a JSON round trip (what the queue does)", () => {
    const m = IngestChunkMessage.parse(chunk());
    expect(IngestChunkMessage.parse(JSON.parse(JSON.stringify(m)))).toEqual(m);
  });
});

describe("TierChangedEvent", () => {
  it("accepts a first tier (from null) and a change between tiers", () => {
    expect(TierChangedEvent.parse(event())).toEqual(event());
    expect(
      TierChangedEvent.parse(event({ from: "nurture", to: "disqualified", icpId: null, icpVersion: null })).to,
    ).toBe("disqualified");
  });

  it("rejects unknown tiers, a missing source and a fractional version", () => {
    fails(TierChangedEvent, event({ to: "hot" }));
    fails(TierChangedEvent, event({ from: undefined }));
    fails(TierChangedEvent, event({ source: undefined }));
    fails(TierChangedEvent, event({ icpVersion: 1.5 }));
    fails(TierChangedEvent, event({ at: "yesterday" }));
  });
});

describe("account schemas", () => {
  it("Signal accepts a date or a date-time with offset, and a non-negative amount", () => {
    expect(Signal.safeParse({ type: "hiring", at: "2026-11-20" }).success).toBe(true);
    expect(Signal.safeParse({ type: "hiring", at: "2026-11-20T10:00:00+02:00" }).success).toBe(true);
    expect(Signal.safeParse({ type: "hiring", at: "2026-11-20T10:00:00Z" }).success).toBe(true);
    fails(Signal, { type: "hiring", at: "20/11/2026" });
    fails(Signal, { type: "hiring", at: "2026-02-30" });
    fails(Signal, { type: "webinar", at: "2026-11-20" });
    fails(Signal, { type: "funding", at: "2026-11-20", amount: -1 });
    fails(Signal, { type: "custom", at: "2026-11-20", detail: "x".repeat(501) });
  });

  it("Contact lower-cases the email and trims names", () => {
    expect(Contact.parse({ email: "Ann@Acme.COM", firstName: "  Ann ", title: " CEO " })).toEqual({
      email: "ann@acme.com",
      firstName: "Ann",
      title: "CEO",
    });
    fails(Contact, { email: "not-an-email" });
    fails(Contact, { linkedinUrl: "linkedin/ann" });
  });

  it("AccountInput bounds", () => {
    expect(AccountInput.safeParse({ domain: "a.com", employees: 10_000_000 }).success).toBe(true);
    fails(AccountInput, { domain: "a.com", employees: 10_000_001 });
    fails(AccountInput, { domain: "a.com", employees: 1.5 });
    fails(AccountInput, { domain: "a.com", revenue: -1 });
    fails(AccountInput, { domain: "a.com", name: "   " });
    fails(AccountInput, { domain: "a.com", technologies: [" "] });
    fails(AccountInput, { domain: "a.com", growthStage: "unicorn" });
    fails(AccountInput, {});
  });
});
