export { nextAccountState } from "./account-state.js";
export {
  activateIcpVersion,
  activeIcps,
  compiledIcp,
  createIcp,
  getIcp,
  getIcpVersion,
  type IcpVersionRecord,
  listIcps,
  listIcpVersions,
  type StoredIcp,
  saveIcpVersion,
  setIcpVersionCoverage,
  VersionConflictError,
} from "./icps.js";
export { type RescoreOutcome, rescoreAccount } from "./rescore-account.js";
export { getRescore, RESCORE_PAGE, type RescoreJob, resumeRescore, startRescore } from "./rescore-job.js";
export { processRescorePage } from "./rescore-page.js";
export { type SweepResult, sweepAgedAccounts } from "./sweep.js";
