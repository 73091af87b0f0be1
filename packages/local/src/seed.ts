import {
  DEMO_ENGAGEMENT_SEQUENCES,
  DEMO_ICP,
  DEMO_SEQUENCES,
  type DemoEngagementSequence,
  demoAccountsCsv,
  demoEngagement,
  demoRoutingRules,
  type EngagementEventsMessage,
  IcpDefinition,
  parseCsv,
  sequenceFor,
  Track,
} from "@icp/core";
import {
  allAccounts,
  createIcp,
  createSender,
  createSequence,
  ensureWorkspace,
  getImport,
  getRoutingRules,
  getSequence,
  listIcps,
  listImports,
  listSequences,
  putApiKey,
  putRoutingRules,
  putSendingSettings,
  recordEvents,
  type Store,
  sleep,
  submitImport,
} from "@icp/store";

export const DEMO_WORKSPACE = "demo";
export const DEMO_ACCOUNTS = 300;

/**
 * First start: the demo workspace, its API key, the seeds' example ICP and a demo account
 * list (imported through the same queue as any upload). Later starts with --persist find
 * them and add nothing.
 */
export async function seedDemo(store: Store, apiKey: string): Promise<{ icpCreated: boolean; importId?: string }> {
  await ensureWorkspace(store, DEMO_WORKSPACE, "Demo workspace");
  await putApiKey(store, DEMO_WORKSPACE, apiKey, "local demo key");
  const icpCreated = (await listIcps(store, DEMO_WORKSPACE)).length === 0;
  if (icpCreated) await createIcp(store, DEMO_WORKSPACE, IcpDefinition.parse(DEMO_ICP), "seed");
  await seedDemoOutbound(store);
  if ((await listImports(store, DEMO_WORKSPACE, 1)).length > 0) return { icpCreated };
  const parsed = parseCsv(demoAccountsCsv(DEMO_ACCOUNTS), new Date());
  const { job } = await submitImport(store, DEMO_WORKSPACE, parsed, {
    format: "csv",
    filename: "demo-accounts.csv",
    idempotencyKey: "demo-seed",
  });
  return { icpCreated, importId: job.id };
}

/**
 * The demo's outbound setup, before its accounts are imported so that their tier changes
 * enroll them: a sequence per track, routing rules, two warming-up mailboxes and a LinkedIn
 * seat, and a sending window open every day (a demo should show mail on a Sunday too).
 */
async function seedDemoOutbound(store: Store): Promise<void> {
  if ((await listSequences(store, DEMO_WORKSPACE)).length > 0) return;
  const ids = {} as Record<Track, string>;
  for (const track of Track.options)
    ids[track] = (await createSequence(store, DEMO_WORKSPACE, DEMO_SEQUENCES[track], "seed")).id;
  await putRoutingRules(store, DEMO_WORKSPACE, demoRoutingRules(ids));
  await putSendingSettings(store, DEMO_WORKSPACE, {
    timezone: "UTC",
    days: [1, 2, 3, 4, 5, 6, 7],
    start: "00:00",
    end: "24:00",
    holidays: [],
  });
  await createSender(store, DEMO_WORKSPACE, { kind: "mailbox", name: "Sam Seller", email: "sam@demo.example" });
  await createSender(store, DEMO_WORKSPACE, { kind: "mailbox", name: "Alex Account", email: "alex@demo.example" });
  await createSender(store, DEMO_WORKSPACE, { kind: "linkedin", name: "Sam Seller (LinkedIn)" });
}

/** Events per recorded batch: the size of one EventQueue message. */
const DEMO_EVENTS_PER_BATCH = 1000;

/**
 * The demo's sequences per track: the ones the workspace's routing rules name (tier-wide
 * rules), else the built-in demo set (same shape, ids `seq_demo_*`).
 */
async function demoSequences(store: Store, ws: string): Promise<DemoEngagementSequence[]> {
  const rules = await getRoutingRules(store, ws);
  const out: DemoEngagementSequence[] = [];
  for (const track of Track.options) {
    const rule = sequenceFor(rules, track, undefined, undefined);
    const seq = rule ? await getSequence(store, ws, rule.sequenceId) : undefined;
    if (!seq) continue;
    out.push({
      id: seq.id,
      version: seq.version,
      track,
      steps: seq.steps.map((st) => ({
        id: st.id,
        channel: st.channel,
        // Only the A/B split: engagement is spread over the variants a test compares.
        ...(st.abVariants.length ? { variants: st.abVariants.map((v) => v.id) } : {}),
      })),
    });
  }
  return out.length === Track.options.length ? out : DEMO_ENGAGEMENT_SEQUENCES;
}

/**
 * First start, once the demo import is scored: ~60 days of engagement for the demo accounts
 * (sends, opens, clicks, replies, meetings, deals won and lost; ICP accounts converting ~3-4x
 * better), deterministic for a given day. Recorded by the EventQueue worker's own code path
 * (recordEvents: timelines, markers, counters and effects agree), in batches of 1,000 with
 * stable event ids, so running it twice records nothing new.
 */
export async function seedDemoEngagement(
  store: Store,
  importId: string,
  o: { now?: Date; timeoutMs?: number } = {},
): Promise<{ accounts: number; events: number; recorded: number } | undefined> {
  const until = Date.now() + (o.timeoutMs ?? 120_000);
  for (;;) {
    const job = await getImport(store, DEMO_WORKSPACE, importId);
    if (job?.status === "completed") break;
    if (!job || job.status === "failed" || Date.now() > until) return undefined;
    await sleep(250);
  }
  const accounts = await allAccounts(store, DEMO_WORKSPACE);
  // Midnight UTC: the same day gives the same events (and ids), whenever in the day it runs.
  const now = o.now ?? new Date(new Date().toISOString().slice(0, 10));
  const events = demoEngagement(
    accounts.map((a) => ({
      id: a.id,
      tier: a.tier,
      qualified: a.qualified,
      segment: a.segment,
      contacts: (a.contacts ?? []).map((c) => ({ id: c.id, ...(c.email ? { email: c.email } : {}) })),
    })),
    { now, sequences: await demoSequences(store, DEMO_WORKSPACE) },
  );
  let recorded = 0;
  for (let i = 0; i < events.length; i += DEMO_EVENTS_PER_BATCH) {
    const msg: EngagementEventsMessage = {
      kind: "engagement-events",
      workspaceId: DEMO_WORKSPACE,
      events: events.slice(i, i + DEMO_EVENTS_PER_BATCH),
    };
    recorded += (await recordEvents(store, msg)).recorded;
  }
  return { accounts: new Set(events.map((e) => e.accountId)).size, events: events.length, recorded };
}
