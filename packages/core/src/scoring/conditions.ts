import type { AccountFacts, Signal } from "../accounts/index.js";
import type { Condition } from "./icp.js";

export type ConditionResult = { matched: boolean; value: unknown };

const DAY_MS = 86_400_000;
const lc = (v: string) => v.toLowerCase();

/** Compiled form of a condition: lower-cased operand sets built once, not per account. */
export type CompiledCondition = (facts: AccountFacts, domain: string, now: number) => ConditionResult;

function fieldValue(facts: AccountFacts, field: Condition["field"], domain: string): unknown {
  return field === "domain" ? domain : facts[field];
}

function signalTime(s: Signal): number {
  return Date.parse(s.at);
}

export function compileCondition(c: Condition): CompiledCondition {
  switch (c.operator) {
    case "eq": {
      const want = typeof c.value === "string" ? lc(c.value) : c.value;
      return (f, d) => {
        const v = fieldValue(f, c.field, d);
        const got = typeof v === "string" ? lc(v) : v;
        return { matched: v !== undefined && got === want, value: v };
      };
    }
    case "in": {
      const set = new Set(c.values.map(lc));
      return (f, d) => {
        const v = fieldValue(f, c.field, d);
        return { matched: typeof v === "string" && set.has(lc(v)), value: v };
      };
    }
    case "range":
      return (f, d) => {
        const v = fieldValue(f, c.field, d);
        const ok = typeof v === "number" && (c.min === undefined || v >= c.min) && (c.max === undefined || v <= c.max);
        return { matched: ok, value: v };
      };
    case "contains-any": {
      const set = new Set(c.values.map(lc));
      return (f, d) => {
        const v = fieldValue(f, c.field, d);
        if (c.field === "signals") {
          const hits = (f.signals ?? []).filter((s) => set.has(s.type)).map((s) => s.type);
          return { matched: hits.length > 0, value: hits.length ? [...new Set(hits)] : undefined };
        }
        if (Array.isArray(v)) {
          const hits = (v as string[]).filter((x) => set.has(lc(x)));
          return { matched: hits.length > 0, value: hits.length ? hits : undefined };
        }
        // A plain text field "contains any" keyword: "B2B SaaS" contains "saas".
        const ok = typeof v === "string" && [...set].some((k) => lc(v).includes(k));
        return { matched: ok, value: v };
      };
    }
    case "exists":
      return (f, d) => {
        const v = fieldValue(f, c.field, d);
        const ok = Array.isArray(v) ? v.length > 0 : v !== undefined && v !== "";
        return { matched: ok, value: v };
      };
    case "within-days": {
      const types = c.values?.length ? new Set<string>(c.values) : undefined;
      const span = c.days * DAY_MS;
      return (f, _d, now) => {
        let best: Signal | undefined;
        for (const s of f.signals ?? []) {
          if (types && !types.has(s.type)) continue;
          const t = signalTime(s);
          if (t <= now && now - t <= span && (!best || t > signalTime(best))) best = s;
        }
        return { matched: best !== undefined, value: best };
      };
    }
  }
}
