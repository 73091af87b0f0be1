import { GetCommand, PutCommand } from "@aws-sdk/lib-dynamodb";
import {
  DEFAULT_ROUTING_RULES,
  type RoutedEnrollment,
  type RoutingAction,
  RoutingRules,
  routeTierChange,
  type TierChangedEvent,
} from "@icp/core";
import type { Store } from "../infra/index.js";
import { backoff, conditionFailed, inParallel, keys } from "../infra/index.js";
import {
  accountEnrollments,
  EnrollError,
  enroll,
  isOpenEnrollment,
  openEnrollments,
  stopEnrollment,
} from "../sequencing/index.js";

/** The workspace's routing rules (defaults: no rules, re-entry never, stop on reply and meeting). */
export async function getRoutingRules(store: Store, ws: string): Promise<RoutingRules> {
  const res = await store.ddb.send(
    new GetCommand({ TableName: store.cfg.tableName, Key: keys.routingRules(ws), ConsistentRead: true }),
  );
  if (!res.Item) return structuredClone(DEFAULT_ROUTING_RULES);
  return RoutingRules.parse(res.Item.rules);
}

export async function putRoutingRules(store: Store, ws: string, rules: RoutingRules): Promise<RoutingRules> {
  await store.ddb.send(
    new PutCommand({
      TableName: store.cfg.tableName,
      Item: { ...keys.routingRules(ws), type: "routing-rules", v: 1, rules, updatedAt: new Date().toISOString() },
    }),
  );
  return rules;
}

/** Per account: the tier-change events already routed (bounded) and the newest one's time. */
type RouteState = { lastAt: string; seen: string[]; rev: number };
const SEEN_LIMIT = 50;

export type RouteOutcome = {
  eventId: string;
  accountId: string;
  /** `duplicate`: routed before; `stale`: older than an event already routed for the account. */
  status: "routed" | "duplicate" | "stale";
  actions: RoutingAction[];
  enrolled: string[];
  stopped: string[];
};

export type RouteResult = {
  routed: number;
  skipped: number;
  enrolled: number;
  stopped: number;
  outcomes: RouteOutcome[];
};

/**
 * Apply routing rules to tier-change events (a route-queue message). Idempotent under
 * redelivery: each account remembers the events it routed (dedupe by event id) and the time of
 * the newest one, so a late or repeated older event never undoes a newer change. Events of
 * one account are routed in order, accounts in parallel.
 */
export async function routeTierChanges(
  store: Store,
  events: readonly TierChangedEvent[],
  now: () => Date = () => new Date(),
): Promise<RouteResult> {
  const byAccount = new Map<string, TierChangedEvent[]>();
  for (const e of events) {
    const k = `${e.workspaceId}|${e.accountId}`;
    byAccount.set(k, [...(byAccount.get(k) ?? []), e]);
  }
  const rulesByWs = new Map<string, Promise<RoutingRules>>();
  const rulesOf = (ws: string) => {
    let r = rulesByWs.get(ws);
    if (!r) {
      r = getRoutingRules(store, ws);
      rulesByWs.set(ws, r);
    }
    return r;
  };
  const outcomes: RouteOutcome[] = [];
  await inParallel([...byAccount.values()], 8, async (list) => {
    const sorted = [...list].sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : 0));
    for (const evt of sorted) outcomes.push(await routeOne(store, evt, await rulesOf(evt.workspaceId), now));
  });
  const routed = outcomes.filter((o) => o.status === "routed");
  return {
    routed: routed.length,
    skipped: outcomes.length - routed.length,
    enrolled: routed.reduce((n, o) => n + o.enrolled.length, 0),
    stopped: routed.reduce((n, o) => n + o.stopped.length, 0),
    outcomes,
  };
}

async function routeOne(
  store: Store,
  evt: TierChangedEvent,
  rules: RoutingRules,
  now: () => Date,
): Promise<RouteOutcome> {
  const ws = evt.workspaceId;
  const base = { eventId: evt.eventId, accountId: evt.accountId, enrolled: [], stopped: [] };
  for (let attempt = 0; ; attempt++) {
    const state = await getRouteState(store, ws, evt.accountId);
    if (state?.seen.includes(evt.eventId)) return { ...base, status: "duplicate", actions: [] };
    if (state && state.lastAt > evt.at) {
      if (await saveRouteState(store, ws, evt, state, state.lastAt)) return { ...base, status: "stale", actions: [] };
      continue;
    }
    const open = await openEnrollments(store, ws, evt.accountId);
    const openIds = new Set(open.map((e) => e.id));
    const at = now();
    const past: RoutedEnrollment[] = (await accountEnrollments(store, ws, evt.accountId))
      .filter((e) => !openIds.has(e.id))
      // Ended but the index has not caught up yet: it ended just now.
      .map((e) => (isOpenEnrollment(e) ? { ...e, updatedAt: at.toISOString() } : e));
    const actions = routeTierChange(evt, rules, open, past, at);
    const enrolled: string[] = [];
    const stopped: string[] = [];
    for (const a of actions) {
      if (a.kind === "stop") {
        const e = await stopEnrollment(store, ws, a.enrollmentId, a.reason);
        if (e?.status === "stopped") stopped.push(e.id);
      } else if (a.kind === "enroll") {
        try {
          const r = await enroll(
            store,
            ws,
            { accountId: evt.accountId, sequenceId: a.sequenceId, track: a.track, source: `route:${evt.eventId}` },
            at,
          );
          if (r.created) enrolled.push(r.enrollment.id);
        } catch (e) {
          // A rule naming a deleted sequence (or an erased account) cannot be routed; retrying won't help.
          if (!(e instanceof EnrollError)) throw e;
          actions.push({ kind: "skip", track: a.track, reason: e.message });
        }
      }
    }
    if (
      await saveRouteState(store, ws, evt, state, evt.at > (state?.lastAt ?? "") ? evt.at : (state?.lastAt ?? evt.at))
    )
      return { ...base, status: "routed", actions, enrolled, stopped };
    // A concurrent route of the same account won the state write: decide again (actions are idempotent).
    if (attempt >= 10) throw new Error(`routing state of account ${evt.accountId} stays contended`);
    await backoff(attempt + 1, { baseMs: 20, capMs: Infinity, growth: "linear" });
  }
}

async function getRouteState(store: Store, ws: string, accountId: string): Promise<RouteState | undefined> {
  const res = await store.ddb.send(
    new GetCommand({ TableName: store.cfg.tableName, Key: keys.routeState(ws, accountId), ConsistentRead: true }),
  );
  return res.Item
    ? { lastAt: String(res.Item.lastAt), seen: (res.Item.seen as string[]) ?? [], rev: Number(res.Item.rev) }
    : undefined;
}

async function saveRouteState(
  store: Store,
  ws: string,
  evt: TierChangedEvent,
  prev: RouteState | undefined,
  lastAt: string,
): Promise<boolean> {
  try {
    await store.ddb.send(
      new PutCommand({
        TableName: store.cfg.tableName,
        Item: {
          ...keys.routeState(ws, evt.accountId),
          type: "route-state",
          v: 1,
          lastAt,
          seen: [...(prev?.seen ?? []), evt.eventId].slice(-SEEN_LIMIT),
          rev: (prev?.rev ?? 0) + 1,
        },
        ConditionExpression: prev ? "#rev = :rev" : "attribute_not_exists(pk)",
        ...(prev
          ? { ExpressionAttributeNames: { "#rev": "rev" }, ExpressionAttributeValues: { ":rev": prev.rev } }
          : {}),
      }),
    );
    return true;
  } catch (e) {
    if (conditionFailed(e)) return false;
    throw e;
  }
}
