import type { AccountFacts, Tier } from "../accounts/index.js";
import type { Icp } from "./icp.js";
import { type BacktestStats, backtestStats, type Coverage, coverage, type Outcome } from "./lift.js";
import { compileIcp } from "./scoring.js";

export type LabelledAccount = { domain: string; facts: AccountFacts; outcome: Outcome };

/** Score labelled past accounts with one ICP version and measure how well it separates won from lost. */
export function backtest(icp: Icp, accounts: readonly LabelledAccount[], now: number): BacktestStats {
  const c = compileIcp(icp);
  return backtestStats(
    accounts.map((a) => {
      const s = c.score(a.facts, a.domain, now);
      return { tier: s.tier, qualified: s.qualified, outcome: a.outcome };
    }),
  );
}

export type VersionReview = {
  version: number;
  createdAt: string;
  tiers: Record<Tier, number>;
  coverage: Coverage;
  outcomes: BacktestStats;
};

/**
 * One version's picture of a workspace: how it tiers every account, how much of the market it
 * qualifies, and how its tiers converted among accounts whose outcome falls in the period.
 */
export function reviewVersion(
  icp: Icp & { createdAt: string },
  accounts: readonly { domain: string; facts: AccountFacts; outcome?: { outcome: Outcome; at: string } }[],
  period: { from: string; to: string },
  now: number,
): VersionReview {
  const c = compileIcp(icp);
  const tiers: Record<Tier, number> = { priority: 0, nurture: 0, generic: 0, disqualified: 0 };
  let qualified = 0;
  const labelled: { tier: Tier; qualified: boolean; outcome: Outcome }[] = [];
  for (const a of accounts) {
    const s = c.score(a.facts, a.domain, now);
    tiers[s.tier]++;
    if (s.qualified) qualified++;
    if (a.outcome && a.outcome.at >= period.from && a.outcome.at <= period.to)
      labelled.push({ tier: s.tier, qualified: s.qualified, outcome: a.outcome.outcome });
  }
  return {
    version: icp.version,
    createdAt: icp.createdAt,
    tiers,
    coverage: coverage(accounts.length, qualified),
    outcomes: backtestStats(labelled),
  };
}

export const REVIEW_AFTER_DAYS = 90;

/** Versions are hypotheses to revisit each quarter. */
export function reviewReminder(activatedAt: string, now: number): { versionAgeDays: number; reviewDue: boolean } {
  const versionAgeDays = Math.floor((now - Date.parse(activatedAt)) / 86_400_000);
  return { versionAgeDays, reviewDue: versionAgeDays > REVIEW_AFTER_DAYS };
}
