import { randomUUID } from "node:crypto";
import { GetCommand, PutCommand, QueryCommand, TransactWriteCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import {
  addDelay,
  DEFAULT_SENDING_WINDOW,
  type Delay,
  type Enrollment,
  type EnrollmentStatus,
  newId,
  nextWindowOpening,
  type SendingWindow,
  type SendStepMessage,
  type StepOutcome,
  type Track,
  timeZoneFor,
} from "@icp/core";
import { type AccountRecord, getAccount, type StoredContact } from "../accounts/index.js";
import type { Store } from "../infra/index.js";
import { chunks, coalescing, conditionFailed, DUE_SHARDS, inParallel, keys, publish, sleep } from "../infra/index.js";
import { getIcpVersion } from "../scoring/index.js";
import { getSequence, getSequenceVersion } from "./sequences.js";

/*
 * Enrollments: one account in one sequence version. The item carries its next due time in the
 * sparse global GSI5 (only while active and unclaimed), so the tick finds due steps of every
 * workspace without scanning. A pointer item per account × track (in the account's partition)
 * is written in the same transaction as the enrollment, so an account has at most one open
 * (active or paused) enrollment per track. Every state change is a compare-and-set on `rev`.
 */

const OPEN: readonly EnrollmentStatus[] = ["active", "paused"];
export const isOpenEnrollment = (e: Pick<Enrollment, "status">) => OPEN.includes(e.status);

/** Claims older than this whose step has not completed are put on the send queue again. */
export const STALE_CLAIM_MS = 10 * 60_000;

/** What is stored: the contract plus the last completed claim (makes completeStep idempotent). */
type Stored = Enrollment & { lastClaim?: string };

function enrollmentItem(ws: string, e: Stored): Record<string, unknown> {
  const { claim, dueAt, claimedAt, ...rest } = e;
  return {
    ...keys.enrollment(ws, e.id),
    ...keys.enrollmentByAccount(ws, e.accountId, e.id),
    ...keys.enrollmentByStatus(ws, e.status, e.id),
    ...keys.enrollmentBySequence(ws, e.sequenceId, e.id),
    ...(e.status === "active" && claim === null && dueAt ? keys.enrollmentDue(ws, e.id, dueAt) : {}),
    ...(e.status === "active" && claim && claimedAt ? keys.enrollmentClaimed(ws, e.id, claimedAt) : {}),
    type: "enrollment",
    v: 1,
    ...rest,
    // Absent rather than null: the claim condition is attribute_not_exists(claim).
    ...(claim ? { claim } : {}),
    ...(claim && claimedAt ? { claimedAt } : {}),
    ...(dueAt ? { dueAt } : {}),
  };
}

function toStored(item: Record<string, unknown>): Stored {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(item)) if (!/^(pk|sk|type|v|gsi\d(pk|sk))$/.test(k)) out[k] = v;
  out.claim = item.claim ?? null;
  out.dueAt = item.dueAt ?? null;
  out.history = item.history ?? [];
  return out as Stored;
}

/** The public view of a stored enrollment. */
function publicView(s: Stored): Enrollment {
  const { lastClaim: _l, ...e } = s;
  return e;
}

async function getStored(store: Store, ws: string, id: string): Promise<Stored | undefined> {
  const res = await store.ddb.send(
    new GetCommand({ TableName: store.cfg.tableName, Key: keys.enrollment(ws, id), ConsistentRead: true }),
  );
  return res.Item ? toStored(res.Item) : undefined;
}

export async function getEnrollment(store: Store, ws: string, id: string): Promise<Enrollment | undefined> {
  if (!/^enr_[0-9A-Z]{26}$/.test(id)) return undefined;
  const s = await getStored(store, ws, id);
  return s ? publicView(s) : undefined;
}

// ---------------------------------------------------------------- sending settings

/** The workspace's sending window and holidays (defaults: Mon-Fri 08:00-18:00 UTC). */
export async function getSendingSettings(store: Store, ws: string): Promise<SendingWindow> {
  const res = await store.ddb.send(
    new GetCommand({ TableName: store.cfg.tableName, Key: keys.sendingSettings(ws), ConsistentRead: true }),
  );
  if (!res.Item) return { ...DEFAULT_SENDING_WINDOW };
  return res.Item.settings as SendingWindow;
}

export async function putSendingSettings(store: Store, ws: string, settings: SendingWindow): Promise<SendingWindow> {
  await store.ddb.send(
    new PutCommand({
      TableName: store.cfg.tableName,
      Item: {
        ...keys.sendingSettings(ws),
        type: "sending-settings",
        v: 1,
        settings,
        updatedAt: new Date().toISOString(),
      },
    }),
  );
  return settings;
}

// ---------------------------------------------------------------- sequences (immutable versions, cached)

type SeqSteps = { version: number; steps: { id: string; delay: Delay }[] };
const versionCache = new Map<string, SeqSteps>();

async function sequenceSteps(
  store: Store,
  ws: string,
  sequenceId: string,
  version?: number,
): Promise<SeqSteps | undefined> {
  const key = `${store.cfg.tableName}|${ws}|${sequenceId}|${version}`;
  if (version !== undefined) {
    const hit = versionCache.get(key);
    if (hit) return hit;
  }
  const seq =
    version === undefined
      ? await getSequence(store, ws, sequenceId)
      : await getSequenceVersion(store, ws, sequenceId, version);
  if (!seq) return undefined;
  const out: SeqSteps = {
    version: seq.version,
    steps: seq.steps.map((s) => ({ id: s.id, delay: s.delay ?? { amount: 0, unit: "minutes" } })),
  };
  if (versionCache.size > 5000) versionCache.clear();
  versionCache.set(`${store.cfg.tableName}|${ws}|${sequenceId}|${out.version}`, out);
  return out;
}

/** When step `index` is due if the previous one finished at `from`: its delay, then the window. */
function dueAfter(from: Date, delay: Delay, window: SendingWindow, tz: string, seed: string): Date {
  return nextWindowOpening(addDelay(from, delay, window, tz), window, tz, seed);
}

const windowIn = (settings: SendingWindow, tz: string): SendingWindow => ({ ...settings, timezone: tz });

// ---------------------------------------------------------------- enroll

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
  if (existing) return { enrollment: publicView(existing), created: false };
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
  const tz = timeZoneFor(contact, account.facts, settings);
  const id = newId("enr");
  const at = now.toISOString();
  const e: Stored = {
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
  try {
    await store.ddb.send(
      new TransactWriteCommand({
        TransactItems: [
          {
            Put: {
              TableName: store.cfg.tableName,
              Item: {
                ...keys.trackPointer(ws, account.id, input.track),
                type: "track-pointer",
                v: 1,
                enrollmentId: id,
                sequenceId: input.sequenceId,
                enrolledAt: at,
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
      const open = await openInTrack(store, ws, input.accountId, input.track);
      if (open) return { enrollment: publicView(open), created: false };
      await sleep(20 * (attempt + 1));
    }
    throw err;
  }
}

/** The open enrollment of an account in a track, through its pointer. */
async function openInTrack(store: Store, ws: string, accountId: string, track: Track): Promise<Stored | undefined> {
  const res = await store.ddb.send(
    new GetCommand({
      TableName: store.cfg.tableName,
      Key: keys.trackPointer(ws, accountId, track),
      ConsistentRead: true,
    }),
  );
  const id = res.Item?.enrollmentId as string | undefined;
  return id ? getStored(store, ws, id) : undefined;
}

/** The open (active or paused) enrollments of an account, one per track at most; strongly consistent. */
export async function openEnrollments(store: Store, ws: string, accountId: string): Promise<Enrollment[]> {
  const where = keys.trackPointerPrefix(ws, accountId);
  const res = await store.ddb.send(
    new QueryCommand({
      TableName: store.cfg.tableName,
      KeyConditionExpression: "pk = :pk AND begins_with(sk, :p)",
      ExpressionAttributeValues: { ":pk": where.pk, ":p": where.skPrefix },
      ConsistentRead: true,
    }),
  );
  const out: Enrollment[] = [];
  for (const p of res.Items ?? []) {
    const e = await getStored(store, ws, String(p.enrollmentId));
    if (e && isOpenEnrollment(e)) out.push(publicView(e));
  }
  return out;
}

// ---------------------------------------------------------------- compare-and-set transitions

type Change = { next: Stored; deletePointer?: boolean } | { result: Stored | undefined };

/**
 * Read, decide, write conditioned on the revision read; on a lost race read again and decide
 * again. `decide` returns the new state, or `{result}` to stop without writing.
 */
async function transition(
  store: Store,
  ws: string,
  id: string,
  decide: (e: Stored) => Change,
  first?: Stored,
): Promise<Stored | undefined> {
  for (let attempt = 0; ; attempt++) {
    // A state just read by the caller saves the first read; a lost race reads again.
    const cur = attempt === 0 && first ? first : await getStored(store, ws, id);
    if (!cur) return undefined;
    const change = decide(cur);
    if ("result" in change) return change.result;
    const next: Stored = { ...change.next, rev: cur.rev + 1 };
    const put = {
      TableName: store.cfg.tableName,
      Item: enrollmentItem(ws, next),
      ConditionExpression: "rev = :rev",
      ExpressionAttributeValues: { ":rev": cur.rev },
    };
    try {
      if (change.deletePointer)
        await store.ddb.send(
          new TransactWriteCommand({
            TransactItems: [
              { Put: put },
              {
                Delete: {
                  TableName: store.cfg.tableName,
                  Key: keys.trackPointer(ws, cur.accountId, cur.track),
                  ConditionExpression: "attribute_not_exists(pk) OR enrollmentId = :id",
                  ExpressionAttributeValues: { ":id": id },
                },
              },
            ],
          }),
        );
      else await store.ddb.send(new PutCommand(put));
      return next;
    } catch (err) {
      const name = (err as Error).name;
      const lost =
        name === "ConditionalCheckFailedException" ||
        name === "TransactionCanceledException" ||
        name === "TransactionConflictException";
      if (!lost || attempt >= 20) throw err;
      await sleep(Math.random() * 10 * (attempt + 1));
    }
  }
}

const unclaimed = (e: Stored): Stored => {
  const { claimedAt: _c, ...rest } = e;
  return { ...rest, claim: null };
};

export type CompleteStepInput = {
  stepId: string;
  outcome: StepOutcome;
  /** When the step finished; the next step's delay counts from here. */
  at: Date;
  detail?: string;
  /** The step to run next (a condition's `goto`); default the following one. Past the end completes. */
  nextStepIndex?: number;
};

export type CompleteStepResult =
  | { ok: true; duplicate: boolean; enrollment: Enrollment }
  | { ok: false; reason: "not-found" | "stale-claim" | "wrong-step" };

/**
 * Record the outcome of the claimed step and schedule the next one (its delay, then the window),
 * or complete the enrollment after the last step. Conditioned on the claim: a second call with
 * the same claim is a no-op reported as `duplicate`; a call with a claim that is no longer
 * current (stopped, paused, re-claimed) changes nothing. `opts.after` is awaited (and its
 * failure thrown) before anything is written.
 */
export async function completeStep(
  store: Store,
  ws: string,
  enrollmentId: string,
  claim: string,
  input: CompleteStepInput,
  opts: { after?: Promise<unknown> } = {},
): Promise<CompleteStepResult> {
  const [cur, settings] = await Promise.all([getStored(store, ws, enrollmentId), getSendingSettings(store, ws)]);
  if (!cur) {
    await opts.after;
    return { ok: false, reason: "not-found" };
  }
  const seq = await sequenceSteps(store, ws, cur.sequenceId, cur.sequenceVersion);
  // What must be done before the step counts as completed (the send record, the event): its
  // writes go out alongside the reads above, the completion only after them.
  await opts.after;
  let verdict: CompleteStepResult | undefined;
  const out = await transition(
    store,
    ws,
    enrollmentId,
    (e) => {
      if (e.lastClaim === claim) {
        verdict = { ok: true, duplicate: true, enrollment: publicView(e) };
        return { result: e };
      }
      if (e.claim !== claim || e.status !== "active") {
        verdict = { ok: false, reason: "stale-claim" };
        return { result: e };
      }
      if (e.stepId !== undefined && e.stepId !== input.stepId) {
        verdict = { ok: false, reason: "wrong-step" };
        return { result: e };
      }
      verdict = undefined;
      const at = input.at.toISOString();
      const history = [
        ...e.history,
        {
          stepId: input.stepId,
          at,
          outcome: input.outcome,
          ...(input.detail ? { detail: input.detail.slice(0, 1000) } : {}),
        },
      ];
      const nextIndex = input.nextStepIndex ?? e.stepIndex + 1;
      const nextStep = seq?.steps[nextIndex];
      const base = { ...unclaimed(e), history, lastClaim: claim, updatedAt: new Date().toISOString() };
      delete base.deferReason;
      if (!nextStep) {
        const { stepId: _s, ...done } = base;
        return { next: { ...done, status: "completed", stepIndex: nextIndex, dueAt: null }, deletePointer: true };
      }
      const tz = e.timezone ?? settings.timezone;
      const due = dueAfter(input.at, nextStep.delay, windowIn(settings, tz), tz, `${e.id}#${nextIndex}`);
      return { next: { ...base, stepIndex: nextIndex, stepId: nextStep.id, dueAt: due.toISOString() } };
    },
    cur,
  );
  if (!out) return { ok: false, reason: "not-found" };
  return verdict ?? { ok: true, duplicate: false, enrollment: publicView(out) };
}

/**
 * Give the claimed step back, due again at the first opening of the recipient's window at or
 * after `notBefore` (over a cap, outside the window…). False when the claim is no longer current.
 */
export async function deferStep(
  store: Store,
  ws: string,
  enrollmentId: string,
  claim: string,
  notBefore: Date,
  reason: string,
): Promise<Enrollment | undefined> {
  const settings = await getSendingSettings(store, ws);
  let ok = false;
  const out = await transition(store, ws, enrollmentId, (e) => {
    if (e.claim !== claim || e.status !== "active") return { result: undefined };
    ok = true;
    const tz = e.timezone ?? settings.timezone;
    const due = nextWindowOpening(
      notBefore,
      windowIn(settings, tz),
      tz,
      `${e.id}#${e.stepIndex}#${notBefore.toISOString()}`,
    );
    return {
      next: {
        ...unclaimed(e),
        dueAt: due.toISOString(),
        deferReason: reason.slice(0, 500),
        updatedAt: new Date().toISOString(),
      },
    };
  });
  return ok && out ? publicView(out) : undefined;
}

/** Fix the sender (mailbox / LinkedIn seat) of an enrollment if none is set yet; returns the effective one. */
export async function assignSender(
  store: Store,
  ws: string,
  enrollmentId: string,
  senderId: string,
): Promise<string | undefined> {
  try {
    await store.ddb.send(
      new UpdateCommand({
        TableName: store.cfg.tableName,
        Key: keys.enrollment(ws, enrollmentId),
        UpdateExpression: "SET #sender = :s, #rev = #rev + :one",
        ConditionExpression: "attribute_exists(pk) AND attribute_not_exists(#sender)",
        ExpressionAttributeNames: { "#sender": "senderId", "#rev": "rev" },
        ExpressionAttributeValues: { ":s": senderId, ":one": 1 },
      }),
    );
    return senderId;
  } catch (e) {
    if (!conditionFailed(e)) throw e;
    return (await getStored(store, ws, enrollmentId))?.senderId;
  }
}

/** Stop an open enrollment (frees its track). Ended enrollments are returned unchanged. */
export async function stopEnrollment(
  store: Store,
  ws: string,
  id: string,
  reason: string,
): Promise<Enrollment | undefined> {
  const out = await transition(store, ws, id, (e) => {
    if (!isOpenEnrollment(e)) return { result: e };
    return {
      next: {
        ...unclaimed(e),
        status: "stopped",
        stopReason: reason.slice(0, 500),
        dueAt: null,
        updatedAt: new Date().toISOString(),
      },
      deletePointer: true,
    };
  });
  return out ? publicView(out) : undefined;
}

/** Pause an active enrollment: nothing is due until it is resumed (it keeps its track). */
export async function pauseEnrollment(store: Store, ws: string, id: string): Promise<Enrollment | undefined> {
  const out = await transition(store, ws, id, (e) => {
    if (e.status !== "active") return { result: e };
    return { next: { ...unclaimed(e), status: "paused", dueAt: null, updatedAt: new Date().toISOString() } };
  });
  return out ? publicView(out) : undefined;
}

/** Resume a paused enrollment: its current step is due at the next opening of the window from now. */
export async function resumeEnrollment(
  store: Store,
  ws: string,
  id: string,
  now: Date = new Date(),
): Promise<Enrollment | undefined> {
  const settings = await getSendingSettings(store, ws);
  const out = await transition(store, ws, id, (e) => {
    if (e.status !== "paused") return { result: e };
    const tz = e.timezone ?? settings.timezone;
    const due = nextWindowOpening(now, windowIn(settings, tz), tz, `${e.id}#${e.stepIndex}#resume`);
    return { next: { ...e, status: "active", dueAt: due.toISOString(), updatedAt: now.toISOString() } };
  });
  return out ? publicView(out) : undefined;
}

/** Stop every open enrollment of an account (reply, meeting, unsubscribe, bounce, disqualified). */
export async function stopAccountEnrollments(
  store: Store,
  ws: string,
  accountId: string,
  reason: string,
): Promise<Enrollment[]> {
  const open = await openEnrollments(store, ws, accountId);
  const out: Enrollment[] = [];
  for (const e of open) {
    const stopped = await stopEnrollment(store, ws, e.id, reason);
    if (stopped) out.push(stopped);
  }
  return out;
}

// ---------------------------------------------------------------- listing

export type EnrollmentFilter = {
  accountId?: string;
  status?: EnrollmentStatus;
  sequenceId?: string;
  limit: number;
  cursor?: string;
};

const STATUS_ORDER: EnrollmentStatus[] = ["active", "paused", "completed", "stopped"];
type Cursor = { s: number; k?: Record<string, unknown> };
const encodeCursor = (c: Cursor) => Buffer.from(JSON.stringify(c)).toString("base64url");

export function decodeEnrollmentCursor(s: string): { s: number; k?: Record<string, unknown> } | undefined {
  try {
    const c = JSON.parse(Buffer.from(s, "base64url").toString()) as Cursor;
    if (typeof c !== "object" || c === null || typeof c.s !== "number" || c.s < 0 || c.s >= STATUS_ORDER.length)
      return undefined;
    if (c.k !== undefined && (typeof c.k !== "object" || c.k === null)) return undefined;
    return c;
  } catch {
    return undefined;
  }
}

/**
 * Enrollments newest first: of an account (GSI1), of a sequence (GSI3) or by status (GSI2);
 * without a filter, status by status (active, paused, completed, stopped).
 */
export async function listEnrollments(
  store: Store,
  ws: string,
  f: EnrollmentFilter,
): Promise<{ items: Enrollment[]; nextCursor?: string }> {
  const c: Cursor = f.cursor ? (decodeEnrollmentCursor(f.cursor) ?? { s: 0 }) : { s: 0 };
  let index: "gsi1" | "gsi2" | "gsi3";
  let partition: (s: number) => string;
  const filters: string[] = [];
  const names: Record<string, string> = {};
  const values: Record<string, unknown> = {};
  const walkStatuses = !f.accountId && !f.sequenceId && !f.status;
  if (f.accountId) {
    index = "gsi1";
    partition = () => keys.accountEnrollmentsPartition(ws, f.accountId as string);
  } else if (f.sequenceId) {
    index = "gsi3";
    partition = () => keys.enrollmentSequencePartition(ws, f.sequenceId as string);
  } else {
    index = "gsi2";
    partition = (s) => keys.enrollmentStatusPartition(ws, f.status ?? (STATUS_ORDER[s] as EnrollmentStatus));
  }
  if (f.status && index !== "gsi2") {
    filters.push("#st = :st");
    names["#st"] = "status";
    values[":st"] = f.status;
  }
  if (f.sequenceId && index !== "gsi3") {
    filters.push("#seq = :seq");
    names["#seq"] = "sequenceId";
    values[":seq"] = f.sequenceId;
  }
  const items: Enrollment[] = [];
  let s = walkStatuses ? c.s : 0;
  let start = c.k;
  for (;;) {
    const res = await store.ddb.send(
      new QueryCommand({
        TableName: store.cfg.tableName,
        IndexName: index,
        KeyConditionExpression: `#pk = :pk`,
        ExpressionAttributeNames: { ...names, "#pk": `${index}pk` },
        ExpressionAttributeValues: { ...values, ":pk": partition(s) },
        ...(filters.length ? { FilterExpression: filters.join(" AND ") } : {}),
        ScanIndexForward: false,
        Limit: Math.max(1, f.limit - items.length),
        ...(start ? { ExclusiveStartKey: start } : {}),
      }),
    );
    items.push(...(res.Items ?? []).map((i) => publicView(toStored(i))));
    start = res.LastEvaluatedKey;
    if (items.length >= f.limit) {
      if (start) return { items, nextCursor: encodeCursor({ s, k: start }) };
      if (walkStatuses && s + 1 < STATUS_ORDER.length) return { items, nextCursor: encodeCursor({ s: s + 1 }) };
      return { items };
    }
    if (!start) {
      if (!walkStatuses || s + 1 >= STATUS_ORDER.length) return { items };
      s += 1;
    }
  }
}

/** Every enrollment of an account (open and ended), from the account index (eventually consistent). */
export async function accountEnrollments(store: Store, ws: string, accountId: string): Promise<Enrollment[]> {
  const out: Enrollment[] = [];
  let cursor: string | undefined;
  do {
    const page = await listEnrollments(store, ws, { accountId, limit: 100, ...(cursor ? { cursor } : {}) });
    out.push(...page.items);
    cursor = page.nextCursor;
  } while (cursor);
  return out;
}

// ---------------------------------------------------------------- the tick: claiming due steps

export type ClaimOptions = {
  /** Most steps claimed by this call. */
  limit: number;
  /** Partitions of the due index to read (default all). */
  shards?: readonly number[];
  /** Conditional updates in flight at once (default 100). */
  concurrency?: number;
};

/**
 * Claim steps due at or before `now`, across workspaces, from the due index. Each claim is a
 * conditional update (active, unclaimed, due) that sets a fresh claim token and takes the
 * enrollment out of the due index: two ticks racing on one step never both win it.
 */
export async function claimDueSteps(store: Store, now: Date | number, opts: ClaimOptions): Promise<SendStepMessage[]> {
  const nowIso = new Date(now).toISOString();
  const shards = opts.shards ?? Array.from({ length: DUE_SHARDS }, (_, i) => i);
  // Start at a random shard so concurrent ticks spread over different partitions first.
  const offset = Math.floor(Math.random() * shards.length);
  const order = shards.map((_, i) => shards[(i + offset) % shards.length] as number);
  const claimed: SendStepMessage[] = [];
  let reserved = 0;
  // Claims in flight together are merged into transactions (coalesce.ts): one request for many.
  const tx = coalescing(store);
  const perShard = Math.max(1, Math.ceil((opts.concurrency ?? 100) / Math.min(order.length, 4)));
  await inParallel(order, Math.min(order.length, 4), async (shard) => {
    let start: Record<string, unknown> | undefined;
    do {
      if (reserved >= opts.limit) return;
      const res = await store.ddb.send(
        new QueryCommand({
          TableName: store.cfg.tableName,
          IndexName: "gsi5",
          KeyConditionExpression: "gsi5pk = :pk AND gsi5sk < :bound",
          ExpressionAttributeValues: { ":pk": keys.duePartition(shard), ":bound": `${nowIso}$` },
          ProjectionExpression: "gsi5sk, stepId, stepIndex",
          Limit: Math.min(200, Math.max(10, opts.limit - reserved)),
          ...(start ? { ExclusiveStartKey: start } : {}),
        }),
      );
      start = res.LastEvaluatedKey;
      await inParallel(res.Items ?? [], perShard, async (item) => {
        if (reserved >= opts.limit) return;
        const [, ws, id] = String(item.gsi5sk).split("#");
        if (!ws || !id || typeof item.stepId !== "string" || typeof item.stepIndex !== "number") return;
        reserved++;
        const msg = await claimOne(tx, ws, id, nowIso, item.stepIndex, item.stepId);
        if (msg) claimed.push(msg);
        else reserved--;
      });
    } while (start);
  });
  return claimed;
}

/**
 * The claim: a conditional update (active, unclaimed, due, and still at the step the index
 * showed, which is eventually consistent) with a fresh claim token.
 */
async function claimOne(
  store: Store,
  ws: string,
  id: string,
  nowIso: string,
  stepIndex: number,
  stepId: string,
): Promise<SendStepMessage | undefined> {
  const claim = randomUUID();
  try {
    await store.ddb.send(
      new UpdateCommand({
        TableName: store.cfg.tableName,
        Key: keys.enrollment(ws, id),
        UpdateExpression:
          "SET #claim = :claim, #claimedAt = :now, #rev = #rev + :one, gsi4pk = :cpk, gsi4sk = :csk REMOVE gsi5pk, gsi5sk",
        ConditionExpression:
          "#st = :active AND attribute_not_exists(#claim) AND #due <= :now AND #si = :si AND #sid = :sid",
        ExpressionAttributeNames: {
          "#claim": "claim",
          "#claimedAt": "claimedAt",
          "#rev": "rev",
          "#st": "status",
          "#due": "dueAt",
          "#si": "stepIndex",
          "#sid": "stepId",
        },
        ExpressionAttributeValues: {
          ":claim": claim,
          ":now": nowIso,
          ":one": 1,
          ":active": "active",
          ":cpk": keys.enrollmentClaimed(ws, id, nowIso).gsi4pk,
          ":csk": keys.enrollmentClaimed(ws, id, nowIso).gsi4sk,
          ":si": stepIndex,
          ":sid": stepId,
        },
      }),
    );
    return { kind: "send-step", workspaceId: ws, enrollmentId: id, stepIndex, stepId, claim };
  } catch (e) {
    if (conditionFailed(e)) return undefined; // another tick won it, or it changed since indexed
    throw e;
  }
}

/**
 * Claims older than `olderThanMs` whose step never completed (a send worker crashed, or the
 * tick died between claiming and publishing): refresh their claim time and return their
 * messages to publish again with the same claim. The sender's send record (one per enrollment
 * step) makes a second delivery harmless.
 */
export async function staleClaims(
  store: Store,
  now: Date | number,
  opts: { olderThanMs?: number; limit?: number } = {},
): Promise<SendStepMessage[]> {
  const nowIso = new Date(now).toISOString();
  const cutoff = new Date(new Date(now).getTime() - (opts.olderThanMs ?? STALE_CLAIM_MS)).toISOString();
  const limit = opts.limit ?? 1000;
  const out: SendStepMessage[] = [];
  await inParallel(
    Array.from({ length: DUE_SHARDS }, (_, i) => i),
    4,
    async (shard) => {
      let start: Record<string, unknown> | undefined;
      do {
        if (out.length >= limit) return;
        const res = await store.ddb.send(
          new QueryCommand({
            TableName: store.cfg.tableName,
            IndexName: "gsi4",
            KeyConditionExpression: "gsi4pk = :pk AND gsi4sk < :bound",
            ExpressionAttributeValues: { ":pk": keys.claimedPartition(shard), ":bound": `${cutoff}$` },
            ProjectionExpression: "gsi4sk, #claim, claimedAt, stepId, stepIndex",
            ExpressionAttributeNames: { "#claim": "claim" },
            Limit: 100,
            ...(start ? { ExclusiveStartKey: start } : {}),
          }),
        );
        start = res.LastEvaluatedKey;
        for (const item of res.Items ?? []) {
          const [, ws, id] = String(item.gsi4sk).split("#");
          if (!ws || !id || typeof item.claim !== "string" || typeof item.stepId !== "string") continue;
          try {
            const sk = keys.enrollmentClaimed(ws, id, nowIso);
            await store.ddb.send(
              new UpdateCommand({
                TableName: store.cfg.tableName,
                Key: keys.enrollment(ws, id),
                UpdateExpression: "SET #claimedAt = :now, gsi4sk = :csk, #rev = #rev + :one",
                ConditionExpression: "#claim = :claim AND #claimedAt = :old AND #st = :active",
                ExpressionAttributeNames: {
                  "#claim": "claim",
                  "#claimedAt": "claimedAt",
                  "#rev": "rev",
                  "#st": "status",
                },
                ExpressionAttributeValues: {
                  ":now": nowIso,
                  ":csk": sk.gsi4sk,
                  ":one": 1,
                  ":claim": item.claim,
                  ":old": item.claimedAt,
                  ":active": "active",
                },
              }),
            );
            out.push({
              kind: "send-step",
              workspaceId: ws,
              enrollmentId: id,
              stepIndex: Number(item.stepIndex),
              stepId: item.stepId,
              claim: item.claim,
            });
          } catch (e) {
            if (!conditionFailed(e)) throw e;
          }
        }
      } while (start);
    },
  );
  return out;
}

export type TickResult = { claimed: number; requeued: number; pages: number };

/**
 * One scheduler tick: claim due steps page by page (all shards) and put them on the send queue,
 * until nothing more is due or the time budget is spent; then re-queue stale claims. Delays
 * live in the table, never in SQS: a message is only published for a step that is due.
 */
export async function runTick(
  store: Store,
  now: () => Date = () => new Date(),
  opts: { pageSize?: number; budgetMs?: number; concurrency?: number } = {},
): Promise<TickResult> {
  const pageSize = opts.pageSize ?? 500;
  const until = Date.now() + (opts.budgetMs ?? 40_000);
  let claimed = 0;
  let pages = 0;
  for (;;) {
    const batch = await claimDueSteps(store, now(), {
      limit: pageSize,
      ...(opts.concurrency ? { concurrency: opts.concurrency } : {}),
    });
    // SQS takes 10 per request: a few requests in flight keep publishing off the critical path.
    await inParallel(chunks(batch, 50), 4, (part) => publish(store, "SendQueue", part));
    claimed += batch.length;
    pages++;
    if (batch.length < pageSize || Date.now() > until) break;
  }
  const stale = await staleClaims(store, now());
  if (stale.length) await publish(store, "SendQueue", stale);
  return { claimed, requeued: stale.length, pages };
}
