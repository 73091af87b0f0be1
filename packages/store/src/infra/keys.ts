/**
 * Every key of the single table is built here and nowhere else. Tenant data always starts
 * with `W#<workspaceId>`; the API-key lookup is the one global item (it is how a request
 * finds its workspace): keyed by the key's id, it stores only a hash.
 */
const W = (ws: string) => {
  if (!ws || ws.includes("#")) throw new Error(`invalid workspace id "${ws}"`);
  return `W#${ws}`;
};

/** Partitions of the account enumeration and sweep indexes; work fans out one message per shard. */
export const SHARDS = 8;
const CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
export const accountShard = (accountId: string) => CROCKFORD.indexOf(accountId.slice(-1)) % SHARDS;

/** Partitions of the due-steps index (GSI5) and the claimed-steps index; the tick reads them in parallel. */
export const DUE_SHARDS = 16;
export const enrollmentShard = (enrollmentId: string) => CROCKFORD.indexOf(enrollmentId.slice(-1)) % DUE_SHARDS;

/** Scores sort descending in an index when stored as (1000 - score), zero-padded. */
const scoreDesc = (score: number) => String(1000 - Math.round(score)).padStart(4, "0");

export const keys = {
  apiKey: (keyId: string) => ({ pk: `KEY#${keyId}`, sk: "KEY" }),
  workspaceApiKey: (ws: string, keyId: string) => ({ pk: W(ws), sk: `APIKEY#${keyId}` }),
  workspaceApiKeyPrefix: (ws: string) => ({ pk: W(ws), skPrefix: "APIKEY#" }),
  workspace: (ws: string) => ({ pk: W(ws), sk: "WS" }),

  icpHead: (ws: string, icpId: string) => ({ pk: W(ws), sk: `ICP#${icpId}` }),
  icpHeadPrefix: (ws: string) => ({ pk: W(ws), skPrefix: "ICP#" }),
  icpVersion: (ws: string, icpId: string, version: number) => ({
    pk: W(ws),
    sk: `ICPV#${icpId}#${String(version).padStart(6, "0")}`,
  }),
  icpVersionPrefix: (ws: string, icpId: string) => ({ pk: W(ws), skPrefix: `ICPV#${icpId}#` }),

  importJob: (ws: string, importId: string) => ({ pk: W(ws), sk: `IMP#${importId}` }),
  importPrefix: (ws: string) => ({ pk: W(ws), skPrefix: "IMP#" }),
  importIdempotency: (ws: string, key: string) => ({ pk: W(ws), sk: `IDEM#IMP#${key}` }),
  importError: (ws: string, importId: string, line: number, field: string) => ({
    pk: `${W(ws)}#IMP#${importId}`,
    sk: `ERR#${String(line).padStart(7, "0")}#${field}`,
  }),
  importErrorPrefix: (ws: string, importId: string) => ({ pk: `${W(ws)}#IMP#${importId}`, skPrefix: "ERR#" }),

  account: (ws: string, accountId: string) => ({ pk: `${W(ws)}#A#${accountId}`, sk: "A" }),
  /** GSI1: accounts by tier, best score first. */
  accountByTier: (ws: string, tier: string, score: number, accountId: string) => ({
    gsi1pk: `${W(ws)}#TIER#${tier}`,
    gsi1sk: `${scoreDesc(score)}#${accountId}`,
  }),
  accountTierPartition: (ws: string, tier: string) => `${W(ws)}#TIER#${tier}`,
  /** GSI2: accounts by segment, best score first. */
  accountBySegment: (ws: string, segment: string, score: number, accountId: string) => ({
    gsi2pk: `${W(ws)}#SEG#${segment}`,
    gsi2sk: `${scoreDesc(score)}#${accountId}`,
  }),
  accountSegmentPartition: (ws: string, segment: string) => `${W(ws)}#SEG#${segment}`,
  /**
   * GSI3: every account of a workspace, spread over SHARDS partitions and keyed by id. Unlike
   * the tier and segment indexes it never changes for an account, so walking it while
   * accounts are re-scored neither skips nor repeats one.
   */
  accountByShard: (ws: string, accountId: string) => ({
    gsi3pk: `${W(ws)}#ASHARD#${accountShard(accountId)}`,
    gsi3sk: accountId,
  }),
  accountShardPartition: (ws: string, shard: number) => `${W(ws)}#ASHARD#${shard}`,
  /**
   * GSI4 (sparse): accounts whose score changes on its own at `agingAt` as signals age. The
   * signal sweep reads it across workspaces, so it is, with the API-key lookup, the only
   * index not partitioned by workspace; the sort key still carries the workspace.
   */
  accountAging: (ws: string, accountId: string, agingAt: string) => ({
    gsi4pk: `SWEEP#${accountShard(accountId)}`,
    gsi4sk: `${agingAt}#${ws}#${accountId}`,
  }),
  agingPartition: (shard: number) => `SWEEP#${shard}`,

  rescoreJob: (ws: string, jobId: string) => ({ pk: W(ws), sk: `RSC#${jobId}` }),
  rescoreShard: (ws: string, jobId: string, shard: number) => ({ pk: `${W(ws)}#RSC#${jobId}`, sk: `SHARD#${shard}` }),
  rescoreShardPrefix: (ws: string, jobId: string) => ({ pk: `${W(ws)}#RSC#${jobId}`, skPrefix: "SHARD#" }),
  /** Timeline entries sort by time; the event id keeps same-millisecond entries apart. */
  timelineEvent: (ws: string, accountId: string, at: string, eventId: string) => ({
    pk: `${W(ws)}#A#${accountId}`,
    sk: `E#${at}#${eventId}`,
  }),
  timelinePrefix: (ws: string, accountId: string) => ({ pk: `${W(ws)}#A#${accountId}`, skPrefix: "E#" }),

  // --- enrollments, routing and sending settings (packages/store/src/sequencing/enrollments.ts, routing.ts) ---
  enrollment: (ws: string, enrollmentId: string) => ({ pk: `${W(ws)}#ENR#${enrollmentId}`, sk: "ENR" }),
  /** GSI1: an account's enrollments, oldest first. */
  enrollmentByAccount: (ws: string, accountId: string, enrollmentId: string) => ({
    gsi1pk: `${W(ws)}#AENR#${accountId}`,
    gsi1sk: enrollmentId,
  }),
  accountEnrollmentsPartition: (ws: string, accountId: string) => `${W(ws)}#AENR#${accountId}`,
  /** GSI2: a workspace's enrollments by status, oldest first. */
  enrollmentByStatus: (ws: string, status: string, enrollmentId: string) => ({
    gsi2pk: `${W(ws)}#ENRST#${status}`,
    gsi2sk: enrollmentId,
  }),
  enrollmentStatusPartition: (ws: string, status: string) => `${W(ws)}#ENRST#${status}`,
  /** GSI3: a sequence's enrollments, oldest first. */
  enrollmentBySequence: (ws: string, sequenceId: string, enrollmentId: string) => ({
    gsi3pk: `${W(ws)}#ENRSEQ#${sequenceId}`,
    gsi3sk: enrollmentId,
  }),
  enrollmentSequencePartition: (ws: string, sequenceId: string) => `${W(ws)}#ENRSEQ#${sequenceId}`,
  /**
   * GSI5 (sparse, global like GSI4): active, unclaimed enrollments by when their next step is
   * due, spread over DUE_SHARDS partitions. The tick reads it across workspaces.
   */
  enrollmentDue: (ws: string, enrollmentId: string, dueAt: string) => ({
    gsi5pk: `DUE#${enrollmentShard(enrollmentId)}`,
    gsi5sk: `${dueAt}#${ws}#${enrollmentId}`,
  }),
  duePartition: (shard: number) => `DUE#${shard}`,
  /** GSI4 (sparse, global): claimed steps by claim time, so stale claims can be re-queued. */
  enrollmentClaimed: (ws: string, enrollmentId: string, claimedAt: string) => ({
    gsi4pk: `CLAIM#${enrollmentShard(enrollmentId)}`,
    gsi4sk: `${claimedAt}#${ws}#${enrollmentId}`,
  }),
  claimedPartition: (shard: number) => `CLAIM#${shard}`,
  /** The one open (active or paused) enrollment of an account in a track. */
  trackPointer: (ws: string, accountId: string, track: string) => ({
    pk: `${W(ws)}#A#${accountId}`,
    sk: `TRACK#${track}`,
  }),
  trackPointerPrefix: (ws: string, accountId: string) => ({ pk: `${W(ws)}#A#${accountId}`, skPrefix: "TRACK#" }),
  /** Tier-change events already routed for an account (dedupe and ordering). */
  routeState: (ws: string, accountId: string) => ({ pk: `${W(ws)}#A#${accountId}`, sk: "ROUTE" }),
  routingRules: (ws: string) => ({ pk: W(ws), sk: "SETTINGS#ROUTING" }),
  sendingSettings: (ws: string) => ({ pk: W(ws), sk: "SETTINGS#SENDING" }),

  // --- ingest lease (packages/store/src/accounts/ingest-lease.ts) ---
  /** Who may write new accounts without a condition (BatchWriteItem) in this workspace right now. */
  ingestLease: (ws: string) => ({ pk: W(ws), sk: "LEASE#INGEST" }),

  // --- sender (senders, cap usage, send records, tasks, outbound webhook secret, captured mail) ---
  sender: (ws: string, senderId: string) => ({ pk: W(ws), sk: `SENDER#${senderId}` }),
  senderPrefix: (ws: string) => ({ pk: W(ws), skPrefix: "SENDER#" }),
  /** Cap usage of one sender on one channel in one bucket (`D#<day>` or `W#<monday>`, UTC). */
  senderUsage: (ws: string, senderId: string, channel: string, bucket: string) => ({
    pk: `${W(ws)}#SND#${senderId}`,
    sk: `U#${channel}#${bucket}`,
  }),
  /** One send record per enrollment step, ever: the idempotency key of every outbound effect. */
  sendRecord: (ws: string, enrollmentId: string, stepId: string) => ({
    pk: `${W(ws)}#SEND#${enrollmentId}`,
    sk: `STEP#${stepId}`,
  }),
  task: (ws: string, taskId: string) => ({ pk: W(ws), sk: `TASK#${taskId}` }),
  /** GSI1: tasks by status, oldest first. */
  taskByStatus: (ws: string, status: string, createdAt: string, taskId: string) => ({
    gsi1pk: `${W(ws)}#TASKS#${status}`,
    gsi1sk: `${createdAt}#${taskId}`,
  }),
  taskStatusPartition: (ws: string, status: string) => `${W(ws)}#TASKS#${status}`,
  webhookSecret: (ws: string) => ({ pk: W(ws), sk: "SETTINGS#WEBHOOK_SECRET" }),
  capturedMail: (ws: string, receivedAt: string, mailId: string) => ({
    pk: `${W(ws)}#MAIL`,
    sk: `M#${receivedAt}#${mailId}`,
  }),
  capturedMailPrefix: (ws: string) => ({ pk: `${W(ws)}#MAIL`, skPrefix: "M#" }),

  // --- engagement (packages/store/src/events/record-events.ts, suppression.ts, reports.ts) ---
  /** Per-account engagement state: first-seen markers, processed event ids, decayed score. */
  engagement: (ws: string, accountId: string) => ({ pk: `${W(ws)}#A#${accountId}`, sk: "ENG" }),
  /** GSI1 on timeline entries: the workspace's events by day, spread over a few shards, newest first. */
  eventByDay: (ws: string, day: string, shard: number, at: string, eventId: string) => ({
    gsi1pk: `${W(ws)}#EVD#${day}#${shard}`,
    gsi1sk: `${at}#${eventId}`,
  }),
  eventDayPartition: (ws: string, day: string, shard: number) => `${W(ws)}#EVD#${day}#${shard}`,
  /** Pre-aggregated counters: one partition per scope (all, icp, segment) and dimension, sorted by day. */
  counter: (ws: string, scope: string, dim: string, day: string, value: string, shard: number) => ({
    pk: `${W(ws)}#CNT#${scope}#${dim}`,
    sk: `${day}#${value}#${shard}`,
  }),
  counterPartition: (ws: string, scope: string, dim: string) => `${W(ws)}#CNT#${scope}#${dim}`,
  /** Marks one part of one event batch's counter increments as applied (exactly once). */
  counterBatch: (ws: string, batch: string, part: number) => ({ pk: `${W(ws)}#CNTB#${batch}`, sk: `P#${part}` }),
  suppression: (ws: string, kind: "email" | "domain", value: string) => ({
    pk: `${W(ws)}#SUP`,
    sk: `${kind === "email" ? "E" : "D"}#${value}`,
  }),
  suppressionPartition: (ws: string) => `${W(ws)}#SUP`,
  inboundWebhookSecret: (ws: string) => ({ pk: W(ws), sk: "SETTINGS#INBOUND_WEBHOOK_SECRET" }),
  /** A webhook signature already used (replay protection within the 5-minute window). */
  inboundWebhookSignature: (ws: string, sig: string) => ({ pk: `${W(ws)}#WHSIG#${sig.slice(0, 16)}`, sk: sig }),

  // --- sequence templates (packages/store/src/sequencing/sequences.ts): head + immutable versions, like ICPs ---
  sequenceHead: (ws: string, sequenceId: string) => ({ pk: W(ws), sk: `SEQ#${sequenceId}` }),
  sequenceHeadPrefix: (ws: string) => ({ pk: W(ws), skPrefix: "SEQ#" }),
  sequenceVersion: (ws: string, sequenceId: string, version: number) => ({
    pk: W(ws),
    sk: `SEQV#${sequenceId}#${String(version).padStart(6, "0")}`,
  }),
  sequenceVersionPrefix: (ws: string, sequenceId: string) => ({ pk: W(ws), skPrefix: `SEQV#${sequenceId}#` }),

  // --- event intake (packages/store/src/events/record-events.ts) ---
  /** One EventQueue message (by content hash): who is recording it, and whether it is fully recorded. */
  eventBatch: (ws: string, batch: string) => ({ pk: `${W(ws)}#EVB#${batch}`, sk: "B" }),
};
