export { buildEmail, type EmailSettings } from "./deliver/email.js";
export { type PostFailure, type PostResult, type Resolver, safePost } from "./deliver/safe-post.js";
export { WEBHOOK_MAX_ATTEMPTS } from "./deliver/webhook.js";
export { RetryLaterError } from "./errors.js";
export { closedGate, type Gate } from "./gates.js";
export type { SendDeps, SendJob, SendOutcome, SendStepResult } from "./job.js";
export type { Recipient } from "./load-recipient.js";
export {
  type CapturedMail,
  listCapturedMail,
  type MailTransport,
  mailTransport,
  mailTransportFromEnv,
  type OutboundMail,
  provablyUnsent,
  putCapturedMail,
  sesTransport,
  smtpTransport,
  WORKSPACE_HEADER,
} from "./mail-transport.js";
export { beginSend, finishSend, getSendRecord, type SendRecord, SendStatus, stepMessageId } from "./send-records.js";
export { sendStep } from "./send-step.js";
export {
  CAPPED_CHANNELS,
  type ChannelUsage,
  createSender,
  getSender,
  listSenders,
  pickSender,
  type Reservation,
  reserveCapacity,
  senderUsage,
} from "./sender-pool.js";
export { priorSendSettlement, SENDING_LIVE_MS, type Settlement } from "./settle-prior-send.js";
export {
  completeTask,
  createTask,
  getTask,
  listTasks,
  type Task,
  TaskAlreadyCompletedError,
  type TaskStatus,
  taskId,
} from "./tasks.js";
