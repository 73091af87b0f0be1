export { LANGUAGES as INBOUND_LANGUAGES, type Language as InboundLanguage } from "./auto-reply-patterns.js";
export {
  type BounceDetails,
  BouncedRecipient,
  BounceType,
  InboundClassification,
  InboundKind,
} from "./classification.js";
export { type ClassifyOptions, classifyInbound } from "./classify.js";
export { CLASSIFICATION_HEADERS, InboundAddress, InboundMessage, InboundReport, parseInbound } from "./message.js";
export { candidateMessageIds, messageIdsIn, normalizeMessageId } from "./message-ids.js";
export { replyText } from "./reply-text.js";
export { findReturnDate } from "./return-date.js";
export { parseSesNotification, SesEventType, type SesNotification } from "./ses-notification.js";
