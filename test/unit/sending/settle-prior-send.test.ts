import { priorSendSettlement, SENDING_LIVE_MS } from "@icp/store";
import { describe, expect, it } from "vitest";
import { job, record } from "./fixtures.js";

const NOW = new Date("2026-01-01T12:00:00.000Z");
const EMAIL = { id: "s1", channel: "email" as const, content: { subject: "Hi", body: "Hello" } };
const at = (msAgo: number) => new Date(NOW.getTime() - msAgo).toISOString();
const emailJob = (delivery?: { receiveCount: number; maxReceives: number }) =>
  job(EMAIL, {
    deps: { transport: () => Promise.reject(new Error("unused")), now: () => NOW, ...(delivery ? { delivery } : {}) },
  });

describe("settle-prior-send: a delivery that finds the step's send record never sends again", () => {
  it("a sent record: publishes the event again (same id) and completes the step with the channel's outcome", () => {
    expect(priorSendSettlement(emailJob(), record({ status: "sent", senderId: "snd_1" }))).toEqual({
      kind: "settle",
      publishSent: true,
      complete: { outcome: "sent", detail: "completed after redelivery" },
      result: { outcome: "dropped", detail: "already sent; step completed", senderId: "snd_1" },
    });
    const task = job({ id: "s1", channel: "call_task", content: { body: "x" } });
    expect(priorSendSettlement(task, record({ status: "sent" }))).toMatchObject({
      publishSent: false,
      complete: { outcome: "task" },
    });
    const hook = job({
      id: "s1",
      channel: "webhook",
      webhookUrl: "https://hooks.example.com/x",
      content: { body: "x" },
    });
    expect(priorSendSettlement(hook, record({ status: "sent" }))).toMatchObject({
      publishSent: true,
      complete: { outcome: "webhook" },
    });
  });

  it("a young sending record belongs to a live worker: come back later", () => {
    const s = priorSendSettlement(emailJob({ receiveCount: 1, maxReceives: 5 }), record({ updatedAt: at(1000) }));
    expect(s).toEqual({ kind: "retry-later", why: "step enr_1/s1 is being sent by another delivery" });
  });

  it("an old sending record, or a young one on the last receive before the DLQ, is settled uncertain", () => {
    const why = "uncertain: a previous attempt stopped between send and acknowledgement; not resent";
    const settled = {
      kind: "settle",
      markUncertain: why,
      publishSent: false,
      complete: { outcome: "failed", detail: why },
      result: { outcome: "uncertain", detail: why },
    };
    expect(priorSendSettlement(emailJob(), record({ updatedAt: at(SENDING_LIVE_MS + 1) }))).toEqual(settled);
    expect(priorSendSettlement(emailJob({ receiveCount: 4, maxReceives: 5 }), record({ updatedAt: at(10) }))).toEqual(
      settled,
    );
  });

  it("an uncertain or failed record completes the step as failed with the record's detail", () => {
    expect(priorSendSettlement(emailJob(), record({ status: "uncertain", detail: "uncertain: timeout" }))).toEqual({
      kind: "settle",
      publishSent: false,
      complete: { outcome: "failed", detail: "uncertain: timeout" },
      result: { outcome: "dropped", detail: "record uncertain; step completed" },
    });
    expect(priorSendSettlement(emailJob(), record({ status: "failed" }))).toMatchObject({
      complete: { outcome: "failed", detail: "failed" },
    });
  });

  it("a retryable record another attempt took over: leave it to that attempt", () => {
    expect(priorSendSettlement(emailJob(), record({ status: "retryable" }))).toEqual({
      kind: "settle",
      publishSent: false,
      result: { outcome: "dropped", detail: "retryable record owned by another attempt" },
    });
  });
});
