import { TransactWriteCommand } from "@aws-sdk/lib-dynamodb";
import { type Delay, type Enrollment, newId, type SendingWindow, type Track, timeZoneFor } from "@icp/core";
import { type AccountRecord, getAccount, type StoredContact } from "../accounts/index.js";
import type { Store } from "../infra/index.js";
import { backoff, keys } from "../infra/index.js";
import { getIcpVersion } from "../scoring/index.js";
import { enrollmentItem, openInTrack, publicView, type Stored } from "./enrollment-record.js";
import { getSendingSettings } from "./settings.js";
import { dueAfter, type SeqSteps, sequenceSteps, windowIn } from "./step-schedule.js";

export type EnrollInput = {
  accountId: string;
  sequenceId: string;
  /** Sequence version; the latest when absent. */
  version?: number;
  track: Track;
  /** `route:<eventId>` or `manual`. */
  source: string;
  /** Address this contact; otherwise the best persona match with an email, else the first with an email. */
  contactId?: string;
};

export class EnrollError extends Error {
  constructor(
    readonly code: "account-not-found" | "sequence-not-found" | "contact-not-found" | "empty-sequence",
    message: string,
  ) {
    super(message);
  }
}

export type EnrollResult = {
  enrollment: Enrollment;
  /** False when the account already had an open enrollment in the track (returned instead). */
  created: boolean;
};

/** The contact to address: the best persona match (ICP persona order) with an email, else the first with one. */
export async function pickContact(
  store: Store,
  ws: string,
  account: AccountRecord,
): Promise<StoredContact | undefined> {
  const withEmail = (account.contacts ?? []).filter((c) => c.email);
  if (withEmail.length <= 1) return withEmail[0];
  let order: string[] = [];
  if (account.icpId && account.icpVersion && withEmail.some((c) => c.persona)) {
    const icp = await getIcpVersion(store, ws, account.icpId, account.icpVersion);
    order = icp?.definition.personas.map((p) => p.name) ?? [];
  }
  const rank = (c: StoredContact) => {
    if (!c.persona) return Number.MAX_SAFE_INTEGER;
    const i = order.indexOf(c.persona);
    return i < 0 ? Number.MAX_SAFE_INTEGER - 1 : i;
  };
  return withEmail.reduce((best, c) => (rank(c) < rank(best) ? c : best));
}

/**
 * Enroll an account in a sequence. At most one open enrollment per account per track: when the
 * track is taken, nothing is written and the open enrollment is returned with `created: false`.
 * The first step is due after its delay, at the next opening of the recipient's window.
 */
export async function enroll(
  store: Store,
  ws: string,
  input: EnrollInput,
  now: Date = new Date(),
): Promise<EnrollResult> {
  const existing = await openInTrack(store, ws, input.accountId, input.track);
  if (existing) return { enrollment: publicView(existing), created: false }; // the track is taken
  const target = await loadTarget(store, ws, input); // account, sequence version, contact, window; or EnrollError
  const e = newEnrollment(ws, target, input, now); // active at step 0, due at the window's next opening
  return takeTrack(store, ws, e); // pointer + enrollment in one transaction; a lost race returns the winner
}

type Target = {
  account: AccountRecord;
  seq: SeqSteps;
  first: { id: string; delay: Delay };
  contact: StoredContact | undefined;
  settings: SendingWindow;
};

/** What the enrollment needs, each piece checked: a missing one is an EnrollError. */
async function loadTarget(store: Store, ws: string, input: EnrollInput): Promise<Target> {
  const account = await getAccount(store, ws, input.accountId);
  if (!account) throw new EnrollError("account-not-found", `no account ${input.accountId} in this workspace`);
  const seq = await sequenceSteps(store, ws, input.sequenceId, input.version);
  if (!seq)
    throw new EnrollError(
      "sequence-not-found",
      `no sequence ${input.sequenceId}${input.version ? ` version ${input.version}` : ""} in this workspace`,
    );
  const first = seq.steps[0];
  if (!first) throw new EnrollError("empty-sequence", `sequence ${input.sequenceId} has no steps`);
  let contact: StoredContact | undefined;
  if (input.contactId) {
    contact = account.contacts?.find((c) => c.id === input.contactId);
    if (!contact) throw new EnrollError("contact-not-found", `account ${account.id} has no contact ${input.contactId}`);
  } else contact = await pickContact(store, ws, account);
  const settings = await getSendingSettings(store, ws);
  return { account, seq, first, contact, settings };
}

/** The new enrollment, in the recipient's time zone, its first step due after its delay. */
function newEnrollment(
  ws: string,
  { account, seq, first, contact, settings }: Target,
  input: EnrollInput,
  now: Date,
): Stored {
  const tz = timeZoneFor(contact, account.facts, settings);
  const id = newId("enr");
  const at = now.toISOString();
  return {
    id,
    workspaceId: ws,
    accountId: account.id,
    ...(contact ? { contactId: contact.id } : {}),
    sequenceId: input.sequenceId,
    sequenceVersion: seq.version,
    track: input.track,
    status: "active",
    stepIndex: 0,
    stepId: first.id,
    dueAt: dueAfter(now, first.delay, windowIn(settings, tz), tz, `${id}#0`).toISOString(),
    claim: null,
    enrolledAt: at,
    updatedAt: at,
    history: [],
    source: input.source,
    rev: 1,
    timezone: tz,
  };
}

/** Write the track pointer and the enrollment together; when the track was taken meanwhile, theirs stands. */
async function takeTrack(store: Store, ws: string, e: Stored): Promise<EnrollResult> {
  try {
    await store.ddb.send(
      new TransactWriteCommand({
        TransactItems: [
          {
            Put: {
              TableName: store.cfg.tableName,
              Item: {
                ...keys.trackPointer(ws, e.accountId, e.track),
                type: "track-pointer",
                v: 1,
                enrollmentId: e.id,
                sequenceId: e.sequenceId,
                enrolledAt: e.enrolledAt,
              },
              ConditionExpression: "attribute_not_exists(pk)",
            },
          },
          {
            Put: {
              TableName: store.cfg.tableName,
              Item: enrollmentItem(ws, e),
              ConditionExpression: "attribute_not_exists(pk)",
            },
          },
        ],
      }),
    );
    return { enrollment: publicView(e), created: true };
  } catch (err) {
    const name = (err as Error).name;
    if (name !== "TransactionCanceledException" && name !== "TransactionConflictException") throw err;
    // Someone enrolled the account in this track meanwhile; theirs stands.
    for (let attempt = 0; attempt < 5; attempt++) {
      const open = await openInTrack(store, ws, e.accountId, e.track);
      if (open) return { enrollment: publicView(open), created: false };
      await backoff(attempt + 1, { baseMs: 20, capMs: Infinity, growth: "linear", jitter: "none" });
    }
    throw err;
  }
}
