import { parse } from "csv-parse/sync";
import type { z } from "zod";
import { AccountInput, type Contact, normalizeDomain, type Signal, SignalType } from "../accounts/index.js";
import { type ImportField, resolveColumn } from "./columns.js";

export const MAX_IMPORT_ROWS = 100_000;

export type RowError = { line: number; field: string; message: string };
/** An accepted row: the account it describes and the file lines it came from. */
export type ImportRow = { line: number; account: AccountInput };

/** Thrown for a file that cannot be read at all (as opposed to one bad row). */
export class ImportFileError extends Error {
  constructor(
    message: string,
    readonly line?: number,
    readonly status: 400 | 413 | 422 = 400,
  ) {
    super(message);
  }
}

const FREE_MAIL = new Set([
  "gmail.com",
  "googlemail.com",
  "yahoo.com",
  "hotmail.com",
  "outlook.com",
  "live.com",
  "icloud.com",
  "aol.com",
  "proton.me",
  "protonmail.com",
  "gmx.com",
  "mail.com",
]);

/** "1,200" -> 1200, "10k" -> 10000, "$2.5M" -> 2500000, "51-200" -> 126 (midpoint), "1000+" -> 1000. */
export function parseAmount(raw: string): number | undefined {
  const s = raw
    .trim()
    .toLowerCase()
    .replace(/[$€£¥\s]|usd|eur|gbp/g, "");
  if (!s) return undefined;
  const range = /^([\d.,]+[kmb]?)-([\d.,]+[kmb]?)$/.exec(s);
  if (range) {
    const lo = parseAmount(range[1] ?? "");
    const hi = parseAmount(range[2] ?? "");
    return lo !== undefined && hi !== undefined ? Math.round((lo + hi) / 2) : undefined;
  }
  const m = /^(\d+(?:,\d{3})*(?:\.\d+)?|\d*\.\d+)([kmb])?\+?$/.exec(s);
  if (!m) return undefined;
  const n = Number((m[1] ?? "").replace(/,/g, ""));
  const mult = { k: 1e3, m: 1e6, b: 1e9 }[m[2] as "k" | "m" | "b"] ?? 1;
  return Number.isFinite(n) ? n * mult : undefined;
}

const splitList = (raw: string) =>
  raw
    .split(/[;,|]/)
    .map((s) => s.trim())
    .filter(Boolean);

/**
 * Signals in a CSV cell: `type:YYYY-MM-DD[:detail]` separated by `;` or `|`,
 * e.g. `funding:2026-10-01:5000000; hiring:2026-11-02:VP Sales`. A funding detail that
 * is an amount becomes `amount`. Without a date the signal is dated `now` (the upload).
 */
export function parseSignals(raw: string, now: Date): Signal[] | string {
  const out: Signal[] = [];
  for (const part of raw.split(/[;|]/)) {
    const p = part.trim();
    if (!p) continue;
    const [typeRaw = "", dateRaw, ...rest] = p.split(":");
    const type = SignalType.safeParse(
      typeRaw
        .trim()
        .toLowerCase()
        .replace(/[\s-]+/g, "_"),
    );
    if (!type.success) return `unknown signal type "${typeRaw.trim()}" (use ${SignalType.options.join(", ")})`;
    const date = dateRaw?.trim() || now.toISOString().slice(0, 10);
    // Round-trip so that 2026-02-30 is refused here rather than rolled over to March.
    if (
      !/^\d{4}-\d{2}-\d{2}$/.test(date) ||
      Number.isNaN(Date.parse(date)) ||
      new Date(date).toISOString().slice(0, 10) !== date
    )
      return `signal "${p}" needs a date as YYYY-MM-DD`;
    const detail = rest.join(":").trim();
    const sig: Signal = { type: type.data, at: date };
    const amount = type.data === "funding" && detail ? parseAmount(detail) : undefined;
    if (amount !== undefined) sig.amount = amount;
    else if (detail) sig.detail = detail.slice(0, 500);
    out.push(sig);
  }
  return out;
}

type Cells = Partial<Record<ImportField, string>>;

/** Turn one row of text cells into a validated account, or the errors that name its bad fields. */
export function rowToAccount(cells: Cells, line: number, now: Date): ImportRow | RowError[] {
  const errors: RowError[] = [];
  const err = (field: string, message: string) => errors.push({ line, field, message });
  const get = (f: ImportField) => {
    const v = cells[f]?.trim();
    return v ? v : undefined;
  };

  let domain: string | undefined;
  const rawDomain = get("domain");
  if (rawDomain) {
    domain = normalizeDomain(rawDomain);
    if (!domain) err("domain", `"${rawDomain.slice(0, 100)}" is not a domain or website`);
  } else {
    const emailDomain = get("email")?.split("@")[1]?.toLowerCase();
    if (emailDomain && !FREE_MAIL.has(emailDomain)) domain = normalizeDomain(emailDomain);
    if (!domain) err("domain", "domain or website is required");
  }

  const candidate: Record<string, unknown> = { domain };
  for (const f of ["name", "industry", "country"] as const) {
    const v = get(f);
    if (v) candidate[f] = v;
  }
  for (const f of ["employees", "revenue"] as const) {
    const v = get(f);
    if (!v) continue;
    const n = parseAmount(v);
    if (n === undefined) err(f, `"${v.slice(0, 50)}" is not a number`);
    else candidate[f] = f === "employees" ? Math.round(n) : n;
  }
  const stage = get("growthStage");
  if (stage) candidate.growthStage = stage.toLowerCase();
  const maturity = get("techMaturity");
  if (maturity) candidate.techMaturity = maturity.toLowerCase();
  const tech = get("technologies");
  if (tech) candidate.technologies = [...new Set(splitList(tech))];
  const sig = get("signals");
  if (sig) {
    const parsed = parseSignals(sig, now);
    if (typeof parsed === "string") err("signals", parsed);
    else candidate.signals = parsed;
  }
  const contact: Record<string, string> = {};
  for (const f of ["email", "firstName", "lastName", "title", "linkedinUrl"] as const) {
    const v = get(f);
    if (v) contact[f] = v;
  }
  // A row's zone is the company's, and its contact's when the row names one.
  const timezone = get("timezone");
  if (timezone) candidate.timezone = timezone;
  if (Object.keys(contact).length) candidate.contacts = [timezone ? { ...contact, timezone } : contact];
  return validateAccount(candidate, line, errors);
}

function validateAccount(candidate: unknown, line: number, errors: RowError[]): ImportRow | RowError[] {
  const parsed = AccountInput.safeParse(candidate);
  if (!parsed.success) errors.push(...zodRowErrors(parsed.error, line));
  if (errors.length || !parsed.success) return dedupeErrors(errors);
  return { line, account: parsed.data };
}

function dedupeErrors(errors: RowError[]): RowError[] {
  const seen = new Set<string>();
  return errors.filter((e) => {
    const k = e.field;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

export function zodRowErrors(error: z.ZodError, line: number): RowError[] {
  return error.issues.map((i) => {
    // contacts.0.email -> email: a CSV row carries one contact, users know the column. Other
    // list positions stay (signals.1.at names the second signal of a JSON row).
    const path = i.path.map(String);
    const field = (path[0] === "contacts" ? path.slice(2) : path).join(".") || "row";
    return { line, field, message: i.message };
  });
}

export type ParsedImport = { total: number; rows: ImportRow[]; errors: RowError[] };

/** The header row's most frequent separator: Excel writes ";" in many locales and tabs as "Unicode text". */
function sniffDelimiter(text: string): string {
  const start = Math.max(0, text.search(/\S/));
  const end = text.indexOf("\n", start);
  const header = text.slice(start, end < 0 ? start + 65_536 : Math.min(end, start + 65_536)).replace(/"[^"]*"/g, "");
  let best = ",";
  let most = 0;
  for (const d of [",", ";", "\t"]) {
    const n = header.split(d).length - 1;
    if (n > most) [best, most] = [d, n];
  }
  return best;
}

/** Parse a CSV upload; the header row is line 1 and data lines keep their file line numbers. */
export function parseCsv(input: string, now: Date): ParsedImport {
  // One line ending: csv-parse counts a CRLF inside a quoted cell as two lines and lone CRs oddly.
  const text = input.replace(/\r\n?/g, "\n");
  let records: { record: string[]; info: { lines: number }; raw: string }[];
  let lastRecordEnd = 0;
  try {
    records = parse(text, {
      bom: true,
      delimiter: sniffDelimiter(text),
      // `Acme "The" Co` unquoted is a cell with quotes in it, not a reason to refuse the whole file.
      relax_quotes: true,
      info: true,
      raw: true,
      relax_column_count: true,
      skip_empty_lines: true,
      trim: true,
      on_record: (record, context) => {
        lastRecordEnd = context.lines;
        return record;
      },
    }) as never;
  } catch (e) {
    const { code, lines } = e as { code?: string; lines?: number };
    const fileLines = text.split("\n");
    if (code === "CSV_QUOTE_NOT_CLOSED") {
      // csv-parse reports the end of the file; the quote opened in the record after the last complete one.
      let i = lastRecordEnd;
      while (i < fileLines.length - 1 && !fileLines[i]?.trim()) i++;
      throw new ImportFileError(
        `CSV could not be parsed: the quote opened in the row at line ${i + 1} is never closed`,
        i + 1,
      );
    }
    const line = lines === undefined ? undefined : Math.min(Math.max(lines, 1), fileLines.length);
    throw new ImportFileError(`CSV could not be parsed: ${(e as Error).message}`, line);
  }
  const header = records[0];
  if (!header) throw new ImportFileError("the file is empty: expected a header row and data rows");
  const columns = header.record.map(resolveColumn);
  if (!columns.includes("domain") && !columns.includes("email"))
    throw new ImportFileError(
      `no domain column: the header row must name one of Domain, Website, Company Domain or Email (found: ${header.record
        .slice(0, 20)
        .join(", ")})`,
      header.info.lines,
      422,
    );
  const data = records.slice(1);
  if (data.length === 0) throw new ImportFileError("the file has a header row but no data rows", 1, 422);
  if (data.length > MAX_IMPORT_ROWS)
    throw new ImportFileError(
      `${data.length} rows is more than ${MAX_IMPORT_ROWS} per import: split the file (see README, chunked upload)`,
      undefined,
      413,
    );
  const rows: ImportRow[] = [];
  const errors: RowError[] = [];
  // info.lines is where a record ends; a quoted cell spanning lines starts it earlier.
  const startLine = (r: { info: { lines: number }; raw: string }) =>
    r.info.lines -
    (r.raw
      .replace(/^\s*\n/, "") // skipped blank (or whitespace-only) lines before the record
      .replace(/\r?\n$/, "")
      .match(/\n/g)?.length ?? 0);
  for (const { record, info, raw } of data) {
    const cells: Cells = {};
    record.forEach((v, i) => {
      const col = columns[i];
      if (col && v && !cells[col]) cells[col] = v;
    });
    const r = rowToAccount(cells, startLine({ info, raw }), now);
    if (Array.isArray(r)) errors.push(...r);
    else rows.push(r);
  }
  return { total: data.length, rows, errors };
}

/**
 * Parse a JSON upload `{accounts: [...]}`. Objects use our field names (or the CSV aliases);
 * "line" in errors is the 1-based position in the array.
 */
export function parseJsonAccounts(accounts: unknown[], now: Date): ParsedImport {
  if (accounts.length === 0) throw new ImportFileError("accounts is empty", undefined, 422);
  if (accounts.length > MAX_IMPORT_ROWS)
    throw new ImportFileError(`${accounts.length} accounts is more than ${MAX_IMPORT_ROWS} per import`, undefined, 413);
  const rows: ImportRow[] = [];
  const errors: RowError[] = [];
  accounts.forEach((raw, i) => {
    const line = i + 1;
    if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
      errors.push({ line, field: "row", message: "expected an object" });
      return;
    }
    const r = jsonToAccount(raw as Record<string, unknown>, line, now);
    if (Array.isArray(r)) errors.push(...r);
    else rows.push(r);
  });
  return { total: accounts.length, rows, errors };
}

function jsonToAccount(obj: Record<string, unknown>, line: number, now: Date): ImportRow | RowError[] {
  // Structured fields pass through as-is; flat text fields take the same path as CSV cells.
  const cells: Cells = {};
  const structured: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(obj)) {
    if (
      k === "contacts" ||
      k === "contact" ||
      (k === "signals" && Array.isArray(v)) ||
      (k === "technologies" && Array.isArray(v))
    ) {
      structured[k] = v;
      continue;
    }
    // hasOwn, not `in`: "__proto__" or "constructor" are inherited keys, not columns.
    const col = resolveColumn(k) ?? (Object.hasOwn(ALIAS_PASSTHROUGH, k) ? (k as ImportField) : undefined);
    // Whole numbers are written out in full: String(1e21) is "1e+21", which is no amount.
    if (typeof v === "number" && col)
      cells[col] = Number.isSafeInteger(v) || !Number.isInteger(v) ? String(v) : BigInt(v).toString();
    else if (col && typeof v === "string") cells[col] = v;
    else if (col && v != null) return [{ line, field: col, message: `expected text or a number` }];
  }
  const base = rowToAccount(cells, line, now);
  if (Array.isArray(base)) return base;
  const merged: Record<string, unknown> = { ...base.account };
  if (structured.technologies) merged.technologies = structured.technologies;
  if (structured.signals) merged.signals = structured.signals;
  const contacts = [
    ...(base.account.contacts ?? []),
    ...(structured.contact ? [structured.contact] : []),
    ...(Array.isArray(structured.contacts) ? structured.contacts : structured.contacts ? [structured.contacts] : []),
  ];
  if (contacts.length) merged.contacts = contacts;
  return validateAccount(merged, line, []);
}

const ALIAS_PASSTHROUGH: Record<string, true> = { growthStage: true, techMaturity: true, linkedinUrl: true };

/**
 * Rows of the same domain become one account: later non-empty fields win, lists are
 * unioned and contacts merged by email (or name). Keeps the first line for reference.
 */
export function mergeByDomain(rows: readonly ImportRow[]): ImportRow[] {
  const byDomain = new Map<string, ImportRow>();
  for (const row of rows) {
    const prev = byDomain.get(row.account.domain);
    byDomain.set(
      row.account.domain,
      prev ? { line: prev.line, account: mergeAccounts(prev.account, row.account) } : row,
    );
  }
  return [...byDomain.values()];
}

/** What makes two contacts of an account the same person: email, else LinkedIn, else name, else title. */
export const contactIdentity = (c: Contact) =>
  c.email ??
  c.linkedinUrl ??
  (`${c.firstName ?? ""} ${c.lastName ?? ""}`.trim().toLowerCase() ||
    (c.title ? `title:${c.title.toLowerCase()}` : ""));

export function mergeContacts(a: readonly Contact[] = [], b: readonly Contact[] = []): Contact[] {
  const out = new Map<string, Contact>();
  for (const c of [...a, ...b]) {
    const k = contactIdentity(c);
    if (!k) continue;
    out.set(k, { ...out.get(k), ...c });
  }
  return [...out.values()];
}

export function mergeSignals(a: readonly Signal[] = [], b: readonly Signal[] = []): Signal[] {
  const out = new Map<string, Signal>();
  for (const s of [...a, ...b]) out.set(`${s.type}|${s.at}|${s.detail ?? ""}`, s);
  return [...out.values()];
}

/** Newer data wins field by field; lists accumulate. Used for in-file duplicates and re-imports. */
export function mergeAccounts(older: AccountInput, newer: AccountInput): AccountInput {
  const merged: AccountInput = { ...older };
  for (const [k, v] of Object.entries(newer)) if (v !== undefined) (merged as Record<string, unknown>)[k] = v;
  if (older.technologies || newer.technologies)
    merged.technologies = [...new Set([...(older.technologies ?? []), ...(newer.technologies ?? [])])];
  if (older.signals || newer.signals) merged.signals = mergeSignals(older.signals, newer.signals);
  if (older.contacts || newer.contacts) merged.contacts = mergeContacts(older.contacts, newer.contacts);
  return merged;
}
