export {
  ApiKeyConflictError,
  type ApiKeyInfo,
  createApiKey,
  keyIdOf,
  listApiKeys,
  putApiKey,
  revokeApiKey,
  SCOPES,
  type Scope,
  touchApiKey,
  verifyApiKey,
} from "./api-keys.js";
export {
  addSuppression,
  isSuppressed,
  listSuppressions,
  removeSuppression,
  type Suppression,
  type SuppressionTarget,
} from "./suppression.js";
export {
  claimWebhookSignature,
  ensureWebhookSecret,
  getInboundWebhookSecret,
  getWebhookSecret,
  rotateInboundWebhookSecret,
  rotateWebhookSecret,
  type WebhookSecret,
} from "./webhook-secrets.js";
export { ensureWorkspace } from "./workspaces.js";
