/** How DynamoDB says a condition did not hold, for the store's conditional writes. */

/** A single write's ConditionExpression failed. */
export const conditionFailed = (e: unknown) => (e as Error).name === "ConditionalCheckFailedException";

/** A cancelled transaction's item `i` failed its condition (reasons are listed in item order). */
export const cancelledBy = (e: unknown, i: number) =>
  (e as { CancellationReasons?: { Code?: string }[] }).CancellationReasons?.[i]?.Code === "ConditionalCheckFailed";
