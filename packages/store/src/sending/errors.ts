/**
 * A queue signal, not an API error: the step could not be settled now and must come back on a
 * later SQS delivery (the send handler lets it fail its batch item; SQS redelivers it).
 */
export class RetryLaterError extends Error {
  override name = "RetryLaterError";
}
