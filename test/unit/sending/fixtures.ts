import { type Enrollment, type SequenceDefinition, Step } from "@icp/core";
import type { Recipient, SendJob, SendRecord, SequenceVersionRecord } from "@icp/store";
import type { z } from "zod";

/** Plain-data pieces of a send job: the pure stages read these, never the store. */
export const enrollment = (over: Partial<Enrollment> = {}): Enrollment => ({
  id: "enr_1",
  workspaceId: "ws1",
  accountId: "acc_1",
  contactId: "con_1",
  sequenceId: "seq_1",
  sequenceVersion: 1,
  track: "priority",
  status: "active",
  stepIndex: 0,
  dueAt: null,
  claim: "claim-1",
  enrolledAt: "2026-01-01T00:00:00.000Z",
  updatedAt: "2026-01-01T00:00:00.000Z",
  history: [],
  source: "manual",
  rev: 1,
  ...over,
});

export const step = (s: z.input<typeof Step>) => Step.parse(s);

export function job(
  stepInput: z.input<typeof Step>,
  opts: { steps?: z.input<typeof Step>[]; stopOnAccountReply?: boolean; deps?: SendJob["deps"] } = {},
): Pick<SendJob, "enrollment" | "version" | "step" | "deps"> {
  const s = step(stepInput);
  const steps = [s, ...(opts.steps ?? []).map(step)];
  const def: SequenceDefinition = { name: "t", steps, stopOnAccountReply: opts.stopOnAccountReply ?? true };
  const version = { ...def, id: "seq_1", version: 1, createdAt: "", createdBy: "test", changes: [] };
  return {
    enrollment: enrollment(),
    version: version as SequenceVersionRecord,
    step: s,
    deps: opts.deps ?? { transport: () => Promise.reject(new Error("no transport in unit tests")) },
  };
}

export function recipient(over: Partial<Recipient> = {}): Recipient {
  return {
    account: { id: "acc_1", domain: "acme.com", contacts: [], facts: {} } as unknown as Recipient["account"],
    contact: { id: "con_1", email: "ann@acme.com" } as Recipient["contact"] & object,
    markers: { account: {}, byContact: {}, byEnrollment: {} },
    suppression: { suppressed: false },
    ...over,
  };
}

export function record(over: Partial<SendRecord> = {}): SendRecord {
  return {
    enrollmentId: "enr_1",
    stepId: "s1",
    stepIndex: 0,
    channel: "email",
    status: "sending",
    messageId: "<enr_1.s1@icp-sequencer>",
    claim: "claim-1",
    attempts: 1,
    createdAt: "2026-01-01T00:00:00.000Z",
    updatedAt: "2026-01-01T00:00:00.000Z",
    ...over,
  };
}
