export { type CompleteStepInput, type CompleteStepResult, completeStep, deferStep } from "./complete.js";
export { EnrollError, type EnrollInput, type EnrollResult, enroll, pickContact } from "./enroll.js";
export { getEnrollment, isOpenEnrollment, openEnrollments } from "./enrollment-record.js";
export { accountEnrollments, decodeEnrollmentCursor, type EnrollmentFilter, listEnrollments } from "./list.js";
export {
  createSequence,
  getSequence,
  getSequenceVersion,
  listSequences,
  listSequenceVersions,
  putSequenceVersion,
  SEQUENCE_MAX_BYTES,
  SequenceConflictError,
  SequenceTooLargeError,
  type SequenceVersionRecord,
  type StoredSequence,
  sequenceDefinition,
} from "./sequences.js";
export { getSendingSettings, putSendingSettings } from "./settings.js";
export {
  assignSender,
  pauseEnrollment,
  resumeEnrollment,
  stopAccountEnrollments,
  stopEnrollment,
} from "./status-changes.js";
export { type ClaimOptions, claimDueSteps, runTick, STALE_CLAIM_MS, staleClaims, type TickResult } from "./tick.js";
