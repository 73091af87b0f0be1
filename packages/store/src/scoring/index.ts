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
export {
  getRescore,
  processRescorePage,
  RESCORE_PAGE,
  type RescoreJob,
  type RescoreOutcome,
  rescoreAccount,
  resumeRescore,
  startRescore,
} from "./rescore.js";
export { type SweepResult, sweepAgedAccounts } from "./sweep.js";
