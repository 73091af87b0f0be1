export {
  backtest,
  type LabelledAccount,
  REVIEW_AFTER_DAYS,
  reviewReminder,
  reviewVersion,
  type VersionReview,
} from "./backtest.js";
export { type CompiledCondition, type ConditionResult, compileCondition } from "./conditions.js";
export {
  Condition,
  ConditionField,
  Criterion,
  Disqualifier,
  type Icp,
  IcpDefinition,
  type IcpDefinitionInput,
  Persona,
  QualificationRule,
  Segment,
  TierThresholds,
} from "./icp.js";
export { diffIcp, type IcpChange } from "./icp-diff.js";
export {
  type BacktestStats,
  backtestStats,
  type Coverage,
  coverage,
  icpLift,
  type LabelledResult,
  LIFT_BANDS,
  type LiftBand,
  liftBand,
  MIN_LABELLED,
  type Outcome,
  type Rate,
  TOO_BROAD_SHARE,
  TOO_NARROW_SHARE,
} from "./lift.js";
export {
  type BreakdownLine,
  type CompiledIcp,
  compileIcp,
  DEFAULT_SEGMENT,
  matchPersona,
  nextAgingAt,
  type Score,
  scoreAll,
  scoreBest,
  TIER_RANK,
  tierForScore,
} from "./scoring.js";
