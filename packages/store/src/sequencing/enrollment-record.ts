import { GetCommand, QueryCommand } from "@aws-sdk/lib-dynamodb";
import type { Enrollment, EnrollmentStatus, Track } from "@icp/core";
import type { Store } from "../infra/index.js";
import { keys } from "../infra/index.js";

/*
 * Enrollments: one account in one sequence version. The item carries its next due time in the
 * sparse global GSI5 (only while active and unclaimed), so the tick finds due steps of every
 * workspace without scanning. A pointer item per account × track (in the account's partition)
 * is written in the same transaction as the enrollment, so an account has at most one open
 * (active or paused) enrollment per track. Every state change is a compare-and-set on `rev`.
 */

const OPEN: readonly EnrollmentStatus[] = ["active", "paused"];
export const isOpenEnrollment = (e: Pick<Enrollment, "status">) => OPEN.includes(e.status);

/** What is stored: the contract plus the last completed claim (makes completeStep idempotent). */
export type Stored = Enrollment & { lastClaim?: string };

export function enrollmentItem(ws: string, e: Stored): Record<string, unknown> {
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

export function toStored(item: Record<string, unknown>): Stored {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(item)) if (!/^(pk|sk|type|v|gsi\d(pk|sk))$/.test(k)) out[k] = v;
  out.claim = item.claim ?? null;
  out.dueAt = item.dueAt ?? null;
  out.history = item.history ?? [];
  return out as Stored;
}

/** The public view of a stored enrollment. */
export function publicView(s: Stored): Enrollment {
  const { lastClaim: _l, ...e } = s;
  return e;
}

export async function getStored(store: Store, ws: string, id: string): Promise<Stored | undefined> {
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
/** The open enrollment of an account in a track, through its pointer. */
export async function openInTrack(
  store: Store,
  ws: string,
  accountId: string,
  track: Track,
): Promise<Stored | undefined> {
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
