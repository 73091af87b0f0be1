import { randomUUID } from "node:crypto";
import { GetCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import type { Store } from "../infra/index.js";
import { backoff, conditionFailed, keys } from "../infra/index.js";

/**
 * The ingest lease: lets the chunks of one import write accounts that did not exist at their
 * consistent read with plain BatchWriteItem (no condition; on DynamoDB Local ~2x cheaper than a
 * conditional transaction), without ever overwriting an account someone else created.
 *
 * One item per workspace: `holder` (import id), `term` (random, new at every takeover),
 * `until` (epoch ms the grants of the term are valid to), `inFlight` (number set: chunks of the
 * holder that are on the fast path now) and `waiting` (epoch ms; someone else needs to create
 * accounts, so no new grants until then).
 *
 * Rules that make it safe:
 * - A fast chunk is granted (joins `inFlight`) before it reads the accounts and sends its
 *   unconditional writes only before its `deadline` (= grant time + LEASE_TTL_MS - LEASE_MARGIN_MS,
 *   its own clock), then leaves `inFlight`. A chunk already in `inFlight` cannot be granted
 *   again: a duplicate delivery of it takes the conditional path.
 * - Every other creation of an account is a transaction with `creationGuard`, which passes only
 *   when no chunk is in flight or the term has run out (or the creator is that fast chunk itself,
 *   whose conditional writes touch only its own domains). So between a fast chunk's grant and
 *   its deadline, nobody else can create an account of the workspace: an account absent at its
 *   read stays absent until its own write. Updates of existing accounts need no guard (the fast
 *   path never blind-writes an account it read).
 * - A creator the guard refuses marks `waiting` and polls; grants stop, the chunks in flight
 *   finish (or their term runs out), and it goes ahead: waits are bounded by LEASE_TTL_MS.
 * Assumes clocks agree and a request arrives within LEASE_MARGIN_MS of being sent (requests are
 * aborted at the deadline), the usual premises of a lease.
 *
 * A workspace's first import skips even the read (`IngestGrant.fresh`). The lease item of a
 * workspace created by `ensureWorkspace` starts `pristine`; the first takeover records its term
 * as `firstTerm`, and `granted` keeps the chunks granted in the current term. While `pristine`
 * holds, every account of the workspace was created by a chunk of `firstTerm`:
 * - creations outside the fast path carry `creationGuard` without `self`, which removes
 *   `pristine` in the same transaction (a fast chunk's own conditional leftovers keep it);
 * - a later term never equals `firstTerm` (it is set once, by `if_not_exists`).
 * The chunks of one import hold disjoint domains, so a chunk granted in `firstTerm` for the first
 * time (not in `granted`: no earlier delivery of it wrote anything) while `pristine` holds cannot
 * find any of its accounts: it writes them without reading. A chunk granted again (a redelivery
 * after a failure) reads as usual, since its own earlier writes may have been changed since.
 */
export const LEASE_TTL_MS = 30_000;
export const LEASE_MARGIN_MS = 5_000;
/** How long a blocked creator's mark holds off new grants after its last refresh. */
const WAITING_MS = 3_000;
/** Longest a creator waits for the fast chunks to drain before giving up (the message is retried). */
const MAX_WAIT_MS = LEASE_TTL_MS + 10_000;

export type IngestGrant = {
  ws: string;
  importId: string;
  chunk: number;
  term: string;
  /** Local epoch ms: no unconditional write may be sent after this. */
  deadline: number;
  /** None of this chunk's accounts can exist yet (see above): it need not read them. */
  fresh: boolean;
};

const NAMES = {
  "#holder": "holder",
  "#term": "term",
  "#until": "until",
  "#inFlight": "inFlight",
  "#waiting": "waiting",
  "#pristine": "pristine",
  "#firstTerm": "firstTerm",
  "#granted": "granted",
};
const names = (expr: string) => Object.fromEntries(Object.entries(NAMES).filter(([k]) => expr.includes(k)));
const NOT_WAITING = "(attribute_not_exists(#waiting) OR #waiting < :now)";

const LEASE_TYPE = "ingest-lease";

/**
 * Put this chunk on the fast path: join the current term if its import holds the lease, or
 * start a new term if the lease is free (no chunk in flight, or expired). Undefined when another
 * import's chunks are in flight, someone waits to create accounts, or this very chunk is
 * already in flight (a duplicate delivery).
 */
export async function acquireIngestLease(
  store: Store,
  ws: string,
  importId: string,
  chunk: number,
): Promise<IngestGrant | undefined> {
  const req: LeaseRequest = { store, ws, importId, chunk, now: Date.now() };
  // Join first (the common case); the chunks of a new import race for the takeover, and the
  // losers join the winner's term.
  return (await joinTerm(req)) ?? (await takeOver(req)) ?? (await joinTerm(req));
}

/** One chunk asking for a grant; `now` is fixed for all its attempts. */
type LeaseRequest = { store: Store; ws: string; importId: string; chunk: number; now: number };

const grantOf = ({ ws, importId, chunk, now }: LeaseRequest, term: string, fresh: boolean): IngestGrant => ({
  ws,
  importId,
  chunk,
  term,
  deadline: now + LEASE_TTL_MS - LEASE_MARGIN_MS,
  fresh,
});

/** Join the live term of this chunk's import (unless the chunk is in flight already, or someone waits). */
async function joinTerm(req: LeaseRequest): Promise<IngestGrant | undefined> {
  const { store, importId, chunk, now } = req;
  const expr = "SET #until = :until ADD #inFlight :c, #granted :c";
  const cond = `#holder = :imp AND NOT contains(#inFlight, :n) AND ${NOT_WAITING}`;
  try {
    const res = await store.ddb.send(
      new UpdateCommand({
        TableName: store.cfg.tableName,
        Key: keys.ingestLease(req.ws),
        UpdateExpression: expr,
        ConditionExpression: cond,
        ExpressionAttributeNames: names(expr + cond),
        ExpressionAttributeValues: {
          ":until": now + LEASE_TTL_MS,
          ":c": new Set([chunk]),
          ":imp": importId,
          ":n": chunk,
          ":now": now,
        },
        ReturnValues: "ALL_OLD",
      }),
    );
    const old = res.Attributes ?? {};
    const first = !(old.granted as Set<number> | undefined)?.has(chunk);
    return grantOf(req, String(old.term), old.pristine === true && old.firstTerm === old.term && first);
  } catch (e) {
    if (!conditionFailed(e)) throw e;
    return undefined;
  }
}

/** Start a new term for this chunk's import when the lease is free. */
async function takeOver(req: LeaseRequest): Promise<IngestGrant | undefined> {
  const { store, importId, chunk, now } = req;
  const term = randomUUID();
  const expr =
    "SET #holder = :imp, #term = :term, #until = :until, #inFlight = :c, #granted = :c, #firstTerm = if_not_exists(#firstTerm, :term), #type = :type, v = :v";
  // Not from our own import's live term, even when none of its chunks is in flight: we join it
  // (a new term would end the first term's fast path for the rest of the import).
  const cond = `(attribute_not_exists(#holder) OR (attribute_not_exists(#inFlight) AND #holder <> :imp) OR #until < :now) AND ${NOT_WAITING}`;
  try {
    const res = await store.ddb.send(
      new UpdateCommand({
        TableName: store.cfg.tableName,
        Key: keys.ingestLease(req.ws),
        UpdateExpression: expr,
        ConditionExpression: cond,
        ExpressionAttributeNames: { ...names(expr + cond), "#type": "type" },
        ExpressionAttributeValues: {
          ":imp": importId,
          ":term": term,
          ":until": now + LEASE_TTL_MS,
          ":c": new Set([chunk]),
          ":now": now,
          ":type": LEASE_TYPE,
          ":v": 1,
        },
        ReturnValues: "ALL_OLD",
      }),
    );
    const old = res.Attributes ?? {};
    return grantOf(req, term, old.pristine === true && old.firstTerm === undefined);
  } catch (e) {
    if (!conditionFailed(e)) throw e;
    return undefined;
  }
}

/** Leave the fast path (idempotent; a no-op once the term changed hands). */
export async function releaseIngestLease(store: Store, g: IngestGrant): Promise<void> {
  const expr = "DELETE #inFlight :c";
  const cond = "#term = :term";
  await store.ddb
    .send(
      new UpdateCommand({
        TableName: store.cfg.tableName,
        Key: keys.ingestLease(g.ws),
        UpdateExpression: expr,
        ConditionExpression: cond,
        ExpressionAttributeNames: names(expr + cond),
        ExpressionAttributeValues: { ":c": new Set([g.chunk]), ":term": g.term },
      }),
    )
    .catch((e) => {
      if (!conditionFailed(e)) throw e;
    });
}

/**
 * The first item of every transaction that creates an account: no chunk of the workspace may be
 * writing unconditionally, unless it is `self`. A creator other than a fast chunk (whose leftovers
 * are its own domains) also ends the workspace's `pristine` state: later chunks must read.
 */
export function creationGuard(store: Store, ws: string, self?: IngestGrant) {
  const expr = `attribute_not_exists(#holder) OR attribute_not_exists(#inFlight) OR #until < :now${
    self ? " OR (#term = :term AND contains(#inFlight, :n))" : ""
  }`;
  const check = {
    TableName: store.cfg.tableName,
    Key: keys.ingestLease(ws),
    ConditionExpression: expr,
    ExpressionAttributeValues: { ":now": Date.now(), ...(self ? { ":term": self.term, ":n": self.chunk } : {}) },
  };
  if (self) return { ConditionCheck: { ...check, ExpressionAttributeNames: names(expr) } };
  const update = "SET #type = :type REMOVE #pristine";
  return {
    Update: {
      ...check,
      UpdateExpression: update,
      ExpressionAttributeNames: { ...names(expr + update), "#type": "type" },
      ExpressionAttributeValues: { ...check.ExpressionAttributeValues, ":type": LEASE_TYPE },
    },
  };
}

/**
 * The lease item of a new workspace: no account exists yet, so its first import's chunks need
 * not read (see above). Put by `ensureWorkspace` in the transaction that creates the workspace.
 */
export function pristineLease(store: Store, ws: string) {
  return {
    Put: {
      TableName: store.cfg.tableName,
      Item: { ...keys.ingestLease(ws), type: LEASE_TYPE, v: 1, pristine: true },
      ConditionExpression: "attribute_not_exists(pk)",
    },
  };
}

/** Hold off new grants and wait until the chunks in flight are done (or their term ran out). */
export async function waitForCreation(store: Store, ws: string): Promise<void> {
  const started = Date.now();
  for (let i = 0; ; i++) {
    const now = Date.now();
    if (now - started > MAX_WAIT_MS) throw new Error(`the ingest lease of workspace ${ws} stayed busy`);
    await store.ddb.send(
      new UpdateCommand({
        TableName: store.cfg.tableName,
        Key: keys.ingestLease(ws),
        UpdateExpression: "SET #waiting = :w",
        ExpressionAttributeNames: { "#waiting": "waiting" },
        ExpressionAttributeValues: { ":w": now + WAITING_MS },
      }),
    );
    const res = await store.ddb.send(
      new GetCommand({ TableName: store.cfg.tableName, Key: keys.ingestLease(ws), ConsistentRead: true }),
    );
    const l = res.Item;
    if (!l?.holder || !l.inFlight || (l.until as number) < Date.now()) return;
    await backoff(i + 1, { baseMs: 25, capMs: 500, jitter: "equal" }); // 50, 100, … 500 ms, less up to half
  }
}
