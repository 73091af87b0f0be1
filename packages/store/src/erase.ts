import { deleteAccount } from "./accounts/index.js";
import type { Store } from "./infra/index.js";
import { batchDelete, keys, queryAll } from "./infra/index.js";
import { taskId } from "./sending/index.js";
import { accountEnrollments } from "./sequencing/index.js";

/**
 * Erase an account on request: its enrollments with their send records and tasks (rendered
 * bodies name the contact), then the account partition (contacts, timeline, markers, routing
 * state). Deleting an enrollment also drops it from the due index, so nothing more is sent; a
 * send already queued finds no enrollment and is dropped. Report counters stay (anonymous).
 */
export async function eraseAccount(store: Store, ws: string, accountId: string): Promise<number> {
  const enrollments = await accountEnrollments(store, ws, accountId);
  const doomed: { pk: string; sk: string }[] = [];
  for (const e of enrollments) {
    doomed.push(keys.enrollment(ws, e.id));
    const sendPk = keys.sendRecord(ws, e.id, "x").pk;
    doomed.push(...((await queryAll(store, sendPk, "STEP#")) as { pk: string; sk: string }[]));
    const stepIds = new Set([...e.history.map((h) => h.stepId), ...(e.stepId ? [e.stepId] : [])]);
    for (const stepId of stepIds) doomed.push(keys.task(ws, taskId(e.id, stepId)));
  }
  await batchDelete(store, doomed);
  return doomed.length + (await deleteAccount(store, ws, accountId));
}
