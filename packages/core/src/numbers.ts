import { z } from "zod";

/**
 * A number DynamoDB can store: it keeps 38 significant digits between 1e-130 and 1e126, and
 * refuses the rest (a ValidationException, i.e. a 500, if it got that far). Business numbers
 * (amounts, revenue, thresholds) stay within ±1e18 with no more precision than 1e-6.
 */
export const storableNumber = () =>
  z
    .number()
    .finite()
    .min(-1e18)
    .max(1e18)
    .refine((n) => n === 0 || Math.abs(n) >= 1e-6, { message: "too small: use 0 or a number of at least 0.000001" });

export const amount = () => storableNumber().refine((n) => n >= 0, { message: "must be 0 or more" });
