import { createHash } from "node:crypto";
import { GetCommand, PutCommand, QueryCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import type { TaskChannel, TaskOutcome } from "@icp/core";
import type { Store } from "../infra/index.js";
import { conditionFailed, keys, withoutKeys } from "../infra/index.js";

/**
 * Tasks: LinkedIn, call and manual steps handed to a person. One task per enrollment step
 * (its id derives from both), so a redelivered send message finds the task it already made.
 */
export type TaskStatus = "open" | "done";

export type Task = {
  id: string;
  status: TaskStatus;
  channel: TaskChannel;
  enrollmentId: string;
  accountId: string;
  contactId?: string;
  sequenceId: string;
  sequenceVersion: number;
  stepId: string;
  variant?: string;
  senderId?: string;
  /** Who to reach, as far as known. */
  contact: { name?: string; email?: string; title?: string; linkedinUrl?: string };
  company?: string;
  domain?: string;
  /** Rendered step content: the message to paste, the call script. */
  subject?: string;
  body: string;
  createdAt: string;
  completedAt?: string;
  outcome?: TaskOutcome;
  note?: string;
};

const CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
/** `tsk_` + 26 Crockford characters derived from the enrollment step. */
export function taskId(enrollmentId: string, stepId: string): string {
  const h = createHash("sha256").update(`${enrollmentId}\n${stepId}`).digest();
  let out = "";
  for (let i = 0; i < 26; i++) out += CROCKFORD[(h[i] ?? 0) % 32];
  return `tsk_${out}`;
}

const toTask = (item: Record<string, unknown>) => withoutKeys(item) as Task;

/** Create the step's task (or return the one a previous delivery created). */
export async function createTask(
  store: Store,
  ws: string,
  t: Omit<Task, "id" | "status" | "createdAt"> & { createdAt?: string },
): Promise<{ task: Task; created: boolean }> {
  const task: Task = {
    ...t,
    id: taskId(t.enrollmentId, t.stepId),
    status: "open",
    createdAt: t.createdAt ?? new Date().toISOString(),
  };
  try {
    await store.ddb.send(
      new PutCommand({
        TableName: store.cfg.tableName,
        Item: {
          ...keys.task(ws, task.id),
          ...keys.taskByStatus(ws, "open", task.createdAt, task.id),
          type: "task",
          v: 1,
          ...task,
        },
        ConditionExpression: "attribute_not_exists(pk)",
      }),
    );
    return { task, created: true };
  } catch (e) {
    if (!conditionFailed(e)) throw e;
    const existing = await getTask(store, ws, task.id);
    if (!existing) throw e;
    return { task: existing, created: false };
  }
}

export async function getTask(store: Store, ws: string, id: string): Promise<Task | undefined> {
  const res = await store.ddb.send(
    new GetCommand({ TableName: store.cfg.tableName, Key: keys.task(ws, id), ConsistentRead: true }),
  );
  return res.Item ? toTask(res.Item) : undefined;
}

/** Tasks by status, oldest first, optionally of one channel; `cursor` continues a page. */
export async function listTasks(
  store: Store,
  ws: string,
  q: { status: TaskStatus; channel?: TaskChannel; limit: number; cursor?: string },
): Promise<{ items: Task[]; nextCursor?: string }> {
  const items: Task[] = [];
  let start: Record<string, unknown> | undefined = q.cursor
    ? (JSON.parse(Buffer.from(q.cursor, "base64url").toString("utf8")) as Record<string, unknown>)
    : undefined;
  do {
    const res = await store.ddb.send(
      new QueryCommand({
        TableName: store.cfg.tableName,
        IndexName: "gsi1",
        KeyConditionExpression: "gsi1pk = :p",
        ExpressionAttributeValues: {
          ":p": keys.taskStatusPartition(ws, q.status),
          ...(q.channel ? { ":ch": q.channel } : {}),
        },
        ...(q.channel ? { FilterExpression: "#ch = :ch", ExpressionAttributeNames: { "#ch": "channel" } } : {}),
        Limit: q.limit - items.length,
        ExclusiveStartKey: start,
      }),
    );
    items.push(...(res.Items ?? []).map(toTask));
    start = res.LastEvaluatedKey;
  } while (start && items.length < q.limit);
  return {
    items,
    ...(start ? { nextCursor: Buffer.from(JSON.stringify(start)).toString("base64url") } : {}),
  };
}

export class TaskAlreadyCompletedError extends Error {
  constructor(readonly task: Task) {
    super(`task ${task.id} was already completed (${task.outcome})`);
  }
}

/** Close an open task with its outcome; a second completion is refused with the first one's result. */
export async function completeTask(
  store: Store,
  ws: string,
  id: string,
  c: { outcome: TaskOutcome; note?: string },
  now = new Date(),
): Promise<Task | undefined> {
  const at = now.toISOString();
  try {
    const res = await store.ddb.send(
      new UpdateCommand({
        TableName: store.cfg.tableName,
        Key: keys.task(ws, id),
        UpdateExpression: `SET #s = :done, outcome = :outcome, completedAt = :at, gsi1pk = :gpk, gsi1sk = :gsk${c.note ? ", note = :note" : ""}`,
        ConditionExpression: "#s = :open",
        ExpressionAttributeNames: { "#s": "status" },
        ExpressionAttributeValues: {
          ":done": "done",
          ":open": "open",
          ":outcome": c.outcome,
          ":at": at,
          ":gpk": keys.taskStatusPartition(ws, "done"),
          ":gsk": `${at}#${id}`,
          ...(c.note ? { ":note": c.note } : {}),
        },
        ReturnValues: "ALL_NEW",
      }),
    );
    return toTask(res.Attributes ?? {});
  } catch (e) {
    if (!conditionFailed(e)) throw e;
    const existing = await getTask(store, ws, id);
    if (!existing) return undefined;
    throw new TaskAlreadyCompletedError(existing);
  }
}
