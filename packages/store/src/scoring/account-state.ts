import {
  type AccountInput,
  type CompiledIcp,
  type Contact,
  DEFAULT_SEGMENT,
  matchPersona,
  mergeAccounts,
  mergeContacts,
  nextAgingAt,
  scoreBest,
} from "@icp/core";
import {
  type AccountRecord,
  contactKey,
  MAX_CONTACTS,
  type StoredContact,
  TIER_HISTORY_LIMIT,
} from "../accounts/index.js";

/** A contact with its id and the persona its title matches (first active ICP that has one). */
function withPersona(c: Contact, icps: readonly CompiledIcp[]): StoredContact {
  const persona = icps.map((i) => matchPersona(i.icp.personas, c)).find((p) => p !== undefined);
  return { ...c, id: contactKey(c), ...(persona ? { persona } : {}) };
}

/** Pure: the account after merging `row` into `prev` and re-scoring it. */
export function nextAccountState(
  id: string,
  prev: AccountRecord | undefined,
  row: AccountInput,
  icps: readonly CompiledIcp[],
  now: number,
  source: string,
  at: string,
): AccountRecord {
  const { contacts, ...rowFacts } = row;
  // Merged even for a new account, so that duplicate signals or technologies in one row collapse
  // the same way on the first write as on any later one.
  const { contacts: _c, ...facts } = mergeAccounts(prev?.facts ?? { domain: row.domain }, rowFacts);
  const s = scoreBest(icps, facts, row.domain, now);
  const aging = nextAgingAt(icps, facts, now);
  const tier = s?.tier ?? "generic";
  const history = [...(prev?.tierHistory ?? [])];
  if (prev?.tier !== tier) {
    history.push({
      eventId: `${source.replace(/[:#]/g, "_")}_${id}`,
      from: prev?.tier ?? null,
      to: tier,
      score: s?.score ?? 0,
      icpId: s?.icpId ?? null,
      icpVersion: s?.icpVersion ?? null,
      at,
      source,
    });
  }
  const record: AccountRecord = {
    id,
    domain: row.domain,
    facts,
    score: s?.score ?? 0,
    tier,
    qualified: s?.qualified ?? false,
    breakdown: s?.breakdown ?? [],
    icpId: s?.icpId ?? null,
    icpVersion: s?.icpVersion ?? null,
    segment: s?.segment ?? DEFAULT_SEGMENT,
    tierHistory: history.slice(-TIER_HISTORY_LIMIT),
    lastSource: source,
    rev: (prev?.rev ?? 0) + 1,
    contacts: mergeContacts(
      prev?.contacts,
      (contacts ?? []).map((c) => withPersona(c, icps)),
    ).slice(-MAX_CONTACTS) as StoredContact[],
    createdAt: prev?.createdAt ?? at,
    updatedAt: at,
  };
  if (s?.disqualifiedBy) record.disqualifiedBy = s.disqualifiedBy;
  if (aging !== undefined) record.agingAt = new Date(aging).toISOString();
  if (prev?.outcome) record.outcome = prev.outcome;
  return record;
}
