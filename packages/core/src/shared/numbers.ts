import { z } from "zod";

/**
 * A number we can store: DynamoDB refuses magnitudes under 1e-130 (a ValidationException, i.e. a
 * 500, if it got that far) and the document client refuses integers beyond 2^53. Business
 * numbers (amounts, revenue, thresholds) stay within ±2^53 with no more precision than 1e-6.
 */
export const storableNumber = () =>
  z
    .number()
    .finite()
    .min(-Number.MAX_SAFE_INTEGER)
    .max(Number.MAX_SAFE_INTEGER)
    .refine((n) => n === 0 || Math.abs(n) >= 1e-6, { message: "too small: use 0 or a number of at least 0.000001" });

export const amount = () => storableNumber().refine((n) => n >= 0, { message: "must be 0 or more" });
