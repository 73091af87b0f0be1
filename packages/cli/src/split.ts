/**
 * Splitting big files into uploads every deployment accepts: the local API takes 25 MB per
 * request, but API Gateway + Lambda in AWS cap a request near 6 MB, so parts stay under 5 MB. Parts are whole rows; CSV parts repeat the header. `lineOffset` maps a line number
 * the API reports for a part back to the line of the original file.
 */
export type Part = { body: Uint8Array; rows: number; lineOffset: number };
export type Limits = { maxBytes: number; maxRows: number };

export const DEFAULT_LIMITS: Limits = { maxBytes: 5 * 1024 * 1024, maxRows: 90_000 };

/** Env overrides exist for tests and for servers configured with other limits. */
export function limitsFromEnv(env: NodeJS.ProcessEnv = process.env): Limits {
  const num = (v: string | undefined, fallback: number) => (v && Number(v) > 0 ? Math.floor(Number(v)) : fallback);
  return {
    maxBytes: num(env.ICP_CLI_MAX_BYTES_PER_UPLOAD, DEFAULT_LIMITS.maxBytes),
    maxRows: num(env.ICP_CLI_MAX_ROWS_PER_UPLOAD, DEFAULT_LIMITS.maxRows),
  };
}

const QUOTE = 0x22;
const COMMA = 0x2c;
const LF = 0x0a;
const CR = 0x0d;
const SPACE = 0x20;
const TAB = 0x09;

/**
 * Byte offsets where CSV records end (just after their newline), honouring quoted fields that
 * contain newlines. Works on raw UTF-8: these ASCII bytes never occur inside multi-byte characters.
 */
export function csvRecordEnds(buf: Uint8Array): number[] {
  const ends: number[] = [];
  let inQuotes = false;
  let fieldStart = true;
  for (let i = 0; i < buf.length; i++) {
    const b = buf[i];
    if (inQuotes) {
      if (b === QUOTE) {
        if (buf[i + 1] === QUOTE) i++;
        else inQuotes = false;
      }
    } else if (b === QUOTE && fieldStart) {
      inQuotes = true;
      fieldStart = false;
    } else if (b === COMMA) {
      fieldStart = true;
    } else if (b === LF) {
      ends.push(i + 1);
      fieldStart = true;
    } else if (b !== SPACE && b !== TAB && b !== CR) {
      // A quote later in an unquoted field is a literal character, not the start of a quoted one.
      fieldStart = false;
    }
  }
  if (ends.at(-1) !== buf.length && buf.length > 0) ends.push(buf.length);
  return ends;
}

const countLf = (buf: Uint8Array, from: number, to: number) => {
  let n = 0;
  for (let i = from; i < to; i++) if (buf[i] === LF) n++;
  return n;
};

const isBlank = (buf: Uint8Array, from: number, to: number) => {
  for (let i = from; i < to; i++) if (buf[i] !== LF && buf[i] !== CR) return false;
  return true;
};

export function splitCsv(buf: Uint8Array, limits: Limits): Part[] {
  const ends = csvRecordEnds(buf);
  const headerEnd = ends[0] ?? buf.length;
  const header = buf.subarray(0, headerEnd);
  const headerLines = countLf(buf, 0, headerEnd);
  const parts: Part[] = [];
  let partStart = headerEnd;
  let partRows = 0;
  let linesBefore = headerLines; // newlines before partStart: maps part lines back to file lines
  const close = (end: number) => {
    const body = parts.length === 0 ? buf.subarray(0, end) : Buffer.concat([header, buf.subarray(partStart, end)]);
    parts.push({ body, rows: partRows, lineOffset: linesBefore - headerLines });
    linesBefore += countLf(buf, partStart, end);
    partStart = end;
    partRows = 0;
  };
  let recStart = headerEnd;
  for (const end of ends.slice(1)) {
    const blank = isBlank(buf, recStart, end);
    const tooBig = header.length + (end - partStart) > limits.maxBytes || partRows + 1 > limits.maxRows;
    if (!blank && tooBig && partRows > 0) close(recStart);
    if (!blank) partRows++;
    recStart = end;
  }
  if (partRows > 0 || parts.length === 0) close(buf.length);
  return parts;
}

export function splitJson(buf: Uint8Array, limits: Limits): Part[] {
  let accounts: unknown;
  try {
    accounts = (JSON.parse(Buffer.from(buf).toString("utf8")) as { accounts?: unknown } | null)?.accounts;
  } catch {
    accounts = undefined;
  }
  // Not the expected shape: upload as is and let the API explain what is wrong.
  if (!Array.isArray(accounts)) return [{ body: buf, rows: 0, lineOffset: 0 }];
  if (buf.length <= limits.maxBytes && accounts.length <= limits.maxRows)
    return [{ body: buf, rows: accounts.length, lineOffset: 0 }];
  const parts: Part[] = [];
  let items: string[] = [];
  let bytes = 0;
  let start = 0;
  const close = () => {
    parts.push({ body: Buffer.from(`{"accounts":[${items.join(",")}]}`), rows: items.length, lineOffset: start });
    start += items.length;
    items = [];
    bytes = 0;
  };
  for (const a of accounts) {
    const json = JSON.stringify(a) ?? "null";
    const size = Buffer.byteLength(json) + 1;
    if (items.length > 0 && (bytes + size + 16 > limits.maxBytes || items.length + 1 > limits.maxRows)) close();
    items.push(json);
    bytes += size;
  }
  if (items.length > 0) close();
  return parts;
}
