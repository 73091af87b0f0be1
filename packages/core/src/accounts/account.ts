import { z } from "zod";
import { amount, TimeZone } from "../shared/index.js";

/** Kinds of intent signal an account can carry (from imports or the signals API). */
export const SignalType = z.enum([
  "funding",
  "hiring",
  "new_sales_leader",
  "site_visit",
  "content_download",
  "tool_change",
  "custom",
]);
export type SignalType = z.infer<typeof SignalType>;

export const Signal = z.object({
  type: SignalType,
  /** ISO date (or date-time) the signal happened. */
  at: z.iso.date().or(z.iso.datetime({ offset: true })),
  amount: amount().optional(),
  detail: z.string().max(500).optional(),
});
export type Signal = z.infer<typeof Signal>;

export const Contact = z.object({
  email: z.email().max(320).toLowerCase().optional(),
  firstName: z.string().trim().max(100).optional(),
  lastName: z.string().trim().max(100).optional(),
  title: z.string().trim().max(200).optional(),
  linkedinUrl: z.url().max(500).optional(),
  /** IANA zone of the person (sending windows use it first). */
  timezone: TimeZone.optional(),
});
export type Contact = z.infer<typeof Contact>;

export const GrowthStage = z.enum(["seed", "early", "growth", "scale", "mature", "enterprise"]);

/** One account as it arrives in an import (after column aliasing and type coercion). */
export const AccountInput = z.object({
  domain: z.string().min(1).max(253),
  name: z.string().trim().min(1).max(300).optional(),
  industry: z.string().trim().max(200).optional(),
  employees: z.number().int().nonnegative().max(10_000_000).optional(),
  revenue: amount().optional(),
  country: z.string().trim().max(100).optional(),
  growthStage: GrowthStage.optional(),
  technologies: z.array(z.string().trim().min(1).max(100)).max(500).optional(),
  techMaturity: z.enum(["low", "medium", "high"]).optional(),
  signals: z.array(Signal).max(200).optional(),
  contacts: z.array(Contact).max(500).optional(),
  /** IANA zone of the company (sending windows fall back to it when a contact has none). */
  timezone: TimeZone.optional(),
});
export type AccountInput = z.infer<typeof AccountInput>;

/** The facts scoring looks at: an account's firmographic, technographic and behavioral data. */
export type AccountFacts = Omit<AccountInput, "contacts">;

export const Tier = z.enum(["priority", "nurture", "generic", "disqualified"]);
export type Tier = z.infer<typeof Tier>;
