import { UpdateCommand } from "@aws-sdk/lib-dynamodb";
import { type Enrollment, nextWindowOpening } from "@icp/core";
import type { Store } from "../infra/index.js";
import { conditionFailed, keys } from "../infra/index.js";
import { getStored, isOpenEnrollment, openEnrollments, publicView } from "./enrollment-record.js";
import { getSendingSettings } from "./settings.js";
import { windowIn } from "./step-schedule.js";
import { transition, unclaimed } from "./transition.js";

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
