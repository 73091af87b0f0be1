import { closedGate } from "@icp/store";
import { describe, expect, it } from "vitest";
import { job, recipient } from "./fixtures.js";

const EMAIL = { id: "s1", channel: "email" as const, content: { subject: "Hi", body: "Hello" } };
const TASK = { id: "s1", channel: "call_task" as const, content: { body: "Call" } };

describe("gates: the checks between a claimed step and its send", () => {
  it("lets a step through when nothing closes a gate", () => {
    expect(closedGate(job(EMAIL), recipient())).toBeUndefined();
  });

  it("stops the enrollment on an account-level reply or meeting, meeting named first", () => {
    const replied = recipient({ markers: { account: { replied: "t" }, byContact: {}, byEnrollment: {} } });
    expect(closedGate(job(EMAIL), replied)).toEqual({
      result: { outcome: "stopped", detail: "account replied" },
      effect: { stop: "account replied" },
    });
    const both = recipient({
      markers: { account: { replied: "t", meeting_booked: "t" }, byContact: {}, byEnrollment: {} },
    });
    expect(closedGate(job(EMAIL), both)?.result).toEqual({ outcome: "stopped", detail: "meeting booked" });
    // Unless the sequence opts out of account-level stops.
    expect(closedGate(job(EMAIL, { stopOnAccountReply: false }), replied)).toBeUndefined();
  });

  it("suppresses (and stops) on the suppression list, then the contact's unsubscribe or bounce", () => {
    expect(closedGate(job(EMAIL), recipient({ suppression: { suppressed: true, reason: "domain" } }))).toEqual({
      result: { outcome: "suppressed", detail: "domain" },
      effect: { stop: "suppressed: domain" },
    });
    const marks = (m: Record<string, string>) =>
      recipient({ markers: { account: {}, byContact: { con_1: m }, byEnrollment: {} } });
    expect(closedGate(job(TASK), marks({ unsubscribed: "t" }))?.result).toEqual({
      outcome: "suppressed",
      detail: "unsubscribed",
    });
    expect(closedGate(job(TASK), marks({ bounced: "t" }))?.result).toEqual({
      outcome: "suppressed",
      detail: "bounced",
    });
  });

  it("checks the account stop before suppression", () => {
    const to = recipient({
      markers: { account: { replied: "t" }, byContact: {}, byEnrollment: {} },
      suppression: { suppressed: true, reason: "email" },
    });
    expect(closedGate(job(EMAIL), to)?.result.outcome).toBe("stopped");
  });

  it("branches on a condition: skip, stop, or goto a later step", () => {
    const cond = (otherwise: "skip" | "stop" | { goto: string }) => ({
      ...TASK,
      condition: { event: "opened" as const, happened: true, otherwise },
    });
    expect(closedGate(job(cond("skip")), recipient())).toEqual({
      result: { outcome: "skipped", detail: "condition: opened did not happen" },
      effect: { skip: "condition: opened did not happen" },
    });
    expect(closedGate(job(cond("stop")), recipient())?.effect).toEqual({ stop: "condition: opened did not happen" });
    const later = [{ id: "s2", channel: "manual_task" as const, content: { body: "x" } }];
    expect(closedGate(job(cond({ goto: "s2" }), { steps: later }), recipient())).toEqual({
      result: { outcome: "skipped", detail: "condition: opened did not happen; goto s2" },
      effect: { skip: "condition: opened did not happen; goto s2", nextStepIndex: 1 },
    });
    // Happened in this enrollment: the gate is open.
    const opened = recipient({ markers: { account: {}, byContact: {}, byEnrollment: { enr_1: { opened: "t" } } } });
    expect(closedGate(job(cond("skip")), opened)).toBeUndefined();
  });

  it("skips an email step whose contact has no address, but not a task step", () => {
    const noEmail = recipient({ contact: { id: "con_1" } as never });
    expect(closedGate(job(EMAIL), noEmail)).toEqual({
      result: { outcome: "skipped", detail: "no contact email" },
      effect: { skip: "no contact email" },
    });
    expect(closedGate(job(TASK), noEmail)).toBeUndefined();
  });
});
