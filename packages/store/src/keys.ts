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
  importChunk: (ws: string, importId: string, chunk: number) => ({
    pk: `${W(ws)}#IMP#${importId}`,
    sk: `CHUNK#${String(chunk).padStart(6, "0")}`,
  }),

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
};
