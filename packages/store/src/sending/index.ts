export {
  type CapturedMail,
  listCapturedMail,
  type MailTransport,
  mailTransportFromEnv,
  type OutboundMail,
  provablyUnsent,
  putCapturedMail,
  sesTransport,
  smtpTransport,
  WORKSPACE_HEADER,
} from "./mail-transport.js";
export { beginSend, finishSend, getSendRecord, type SendRecord, SendStatus, stepMessageId } from "./send-records.js";
export {
  buildEmail,
  defaultFrom,
  RetryLaterError,
  SENDING_LIVE_MS,
  type SendDeps,
  type SendOutcome,
  type SendStepResult,
  sendStep,
  WEBHOOK_MAX_ATTEMPTS,
} from "./send-step.js";
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
