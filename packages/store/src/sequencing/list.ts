import { QueryCommand } from "@aws-sdk/lib-dynamodb";
import type { Enrollment, EnrollmentStatus } from "@icp/core";
import type { Store } from "../infra/index.js";
import { keys } from "../infra/index.js";
import { publicView, toStored } from "./enrollment-record.js";

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
