import type { Tier } from "../accounts/index.js";

/**
 * The ICP method's yardsticks: ICP accounts should convert at least 2x better than non-ICP
 * ones (3-4x good, 5x+ excellent); an ICP that qualifies more than half the market is too
 * broad (a good one excludes 70-80%); test it on at least ~50 labelled leads.
 */
export const LIFT_BANDS = ["below-2x", "2x", "3-4x", "5x+"] as const;
export type LiftBand = (typeof LIFT_BANDS)[number] | "insufficient-data";
export const MIN_LABELLED = 50;
export const TOO_BROAD_SHARE = 0.5;
export const TOO_NARROW_SHARE = 0.05;

export function liftBand(lift: number | null): LiftBand {
  if (lift === null || Number.isNaN(lift)) return "insufficient-data";
  if (lift >= 5) return "5x+";
  if (lift >= 3) return "3-4x";
  if (lift >= 2) return "2x";
  return "below-2x";
}

export type Outcome = "won" | "lost";
export type Rate = { accounts: number; won: number; conversion: number | null };

const rate = (accounts: number, won: number): Rate => ({
  accounts,
  won,
  conversion: accounts ? won / accounts : null,
});

/**
 * ICP conversion over non-ICP conversion. When no non-ICP account converted but ICP ones
 * did, the lift is unbounded: reported as null with band 5x+.
 */
export function icpLift(icp: Rate, nonIcp: Rate): { lift: number | null; band: LiftBand } {
  if (icp.conversion === null || nonIcp.conversion === null) return { lift: null, band: "insufficient-data" };
  if (nonIcp.conversion === 0)
    return icp.conversion > 0 ? { lift: null, band: "5x+" } : { lift: null, band: "insufficient-data" };
  // Banded on the rounded ratio: 0.6 / 0.2 is 2.9999999999999996 in floating point, and is 3x.
  const lift = Math.round((icp.conversion / nonIcp.conversion) * 100) / 100;
  return { lift, band: liftBand(lift) };
}

export type LabelledResult = { tier: Tier; qualified: boolean; outcome: Outcome };

export type BacktestStats = {
  labelled: number;
  won: number;
  lost: number;
  qualified: number;
  icp: Rate;
  nonIcp: Rate;
  lift: number | null;
  band: LiftBand;
  byTier: Record<Tier, Rate>;
  /** The priority tier as a predictor of "won". */
  priority: { precision: number | null; recall: number | null };
  warnings: string[];
};

export function backtestStats(rows: readonly LabelledResult[]): BacktestStats {
  const tiers: Tier[] = ["priority", "nurture", "generic", "disqualified"];
  const count = (f: (r: LabelledResult) => boolean) => rows.filter(f).length;
  const won = count((r) => r.outcome === "won");
  const icp = rate(
    count((r) => r.qualified),
    count((r) => r.qualified && r.outcome === "won"),
  );
  const nonIcp = rate(
    count((r) => !r.qualified),
    count((r) => !r.qualified && r.outcome === "won"),
  );
  const byTier = Object.fromEntries(
    tiers.map((t) => [
      t,
      rate(
        count((r) => r.tier === t),
        count((r) => r.tier === t && r.outcome === "won"),
      ),
    ]),
  ) as Record<Tier, Rate>;
  const prio = byTier.priority;
  const warnings: string[] = [];
  if (rows.length < MIN_LABELLED)
    warnings.push(`only ${rows.length} labelled accounts: test an ICP on at least ${MIN_LABELLED} recent leads`);
  const cov = coverage(rows.length, icp.accounts);
  if (cov.warning) warnings.push(cov.message);
  return {
    labelled: rows.length,
    won,
    lost: rows.length - won,
    qualified: icp.accounts,
    icp,
    nonIcp,
    ...icpLift(icp, nonIcp),
    byTier,
    priority: {
      precision: prio.accounts ? prio.won / prio.accounts : null,
      recall: won ? prio.won / won : null,
    },
    warnings,
  };
}

export type Coverage = {
  accounts: number;
  qualified: number;
  share: number | null;
  warning: "too-broad" | "too-narrow" | null;
  message: string;
};

export function coverage(accounts: number, qualified: number): Coverage {
  const share = accounts ? qualified / accounts : null;
  const pct = share === null ? "n/a" : `${Math.round(share * 1000) / 10}%`;
  if (share !== null && share > TOO_BROAD_SHARE)
    return {
      accounts,
      qualified,
      share,
      warning: "too-broad",
      message: `${pct} of accounts qualify: the ICP is too broad (a good ICP excludes 70-80%)`,
    };
  if (share !== null && accounts > 0 && share < TOO_NARROW_SHARE)
    return {
      accounts,
      qualified,
      share,
      warning: "too-narrow",
      message: `only ${pct} of accounts qualify: the ICP is too narrow`,
    };
  return { accounts, qualified, share, warning: null, message: `${pct} of accounts qualify` };
}
