export { type AccountFacts, AccountInput, Contact, GrowthStage, Signal, SignalType, Tier } from "./account.js";
export { normalizeDomain } from "./domain.js";
