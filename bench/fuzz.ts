/**
 * Fuzz the public API and the upload parsers with fast-check generators (shared with
 * test/security/fuzz.test.ts, which runs a few hundred of them in `npm test`):
 *
 * - API: requests on every documented path of /openapi.json (documented or random method),
 *   path params that are real, valid-looking or garbage, random query strings, bodies shaped
 *   by the route's own JSON schema (then mutated), fc.json / fc.anything, random CSV, random
 *   content types and headers; sent in-process with `app.request` and a valid admin key.
 *   Every answer must be 2xx or a documented 4xx, and every error valid problem+json.
 * - Parsers: `parseCsv` and `parseJsonAccounts` never throw anything but ImportFileError and
 *   every row error names a field and a line inside the input.
 *
 *   npx tsx bench/fuzz.ts [--record] [--json bench/out/fuzz.json]
 *   env: FUZZ_API_RUNS (10000), FUZZ_PARSER_RUNS (10000 each), FUZZ_SEED, FUZZ_CONCURRENCY (8)
 *   --record replaces the "## Fuzz" section of bench/RESULTS.md with this run's summary.
 */
import { readFileSync, writeFileSync } from "node:fs";
import type { App } from "@icp/api";
import { DEMO_ICP, demoAccountsCsv, ImportFileError, parseCsv, parseJsonAccounts, SignalType } from "@icp/core";
import { type Stack, startStack } from "@icp/local";
import { ensureWorkspace, putApiKey } from "@icp/store";
import fc from "fast-check";
import { type BenchResult, fmt, isMain, log, machine, runAsScript } from "./lib.js";

// ---------------------------------------------------------------------------------------------
// OpenAPI-driven request generator

type JsonSchema = {
  $ref?: string;
  type?: string | string[];
  enum?: unknown[];
  const?: unknown;
  oneOf?: JsonSchema[];
  anyOf?: JsonSchema[];
  allOf?: JsonSchema[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  additionalProperties?: boolean | JsonSchema;
  items?: JsonSchema;
  minItems?: number;
  maxItems?: number;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  format?: string;
  minimum?: number;
  maximum?: number;
};
type Parameter = { name: string; in: "path" | "query" | "header"; schema?: JsonSchema };
type Operation = {
  parameters?: Parameter[];
  requestBody?: { content: Record<string, { schema?: JsonSchema }> };
  responses: Record<string, unknown>;
};
export type OpenApiDoc = {
  paths: Record<string, Record<string, Operation>>;
  components?: { schemas?: Record<string, JsonSchema> };
};

/** Real values the workspace holds, by path-parameter name (id, ref, version). */
export type FuzzContext = { doc: OpenApiDoc; apiKey: string; real: Record<string, string[]> };

export type FuzzRequest = {
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: string | Uint8Array<ArrayBuffer>;
  /** Which generator made the body, for the report. */
  bodyKind: string;
};

/** What the API may answer: 2xx or one of these documented 4xx; anything else is a finding. */
export const DOCUMENTED_4XX = new Set([400, 401, 403, 404, 409, 413, 415, 422]);

const printable = fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)) });
const isoDate = fc
  .date({ min: new Date("1990-01-01"), max: new Date("2100-01-01"), noInvalidDate: true })
  .map((d) => d.toISOString());

/** A value matching a JSON schema (most of the time: bounds are honoured loosely, mutation does the rest). */
export function schemaArb(s: JsonSchema, doc: OpenApiDoc, depth = 0): fc.Arbitrary<unknown> {
  if (depth > 8) return fc.constant(null);
  if (s.$ref) {
    const ref = doc.components?.schemas?.[s.$ref.replace("#/components/schemas/", "")];
    return ref ? schemaArb(ref, doc, depth + 1) : fc.jsonValue({ maxDepth: 2 });
  }
  if (s.enum?.length) return fc.constantFrom(...s.enum);
  if (s.const !== undefined) return fc.constant(s.const);
  const alts = s.oneOf ?? s.anyOf;
  if (alts?.length) return fc.oneof(...alts.map((a) => schemaArb(a, doc, depth + 1)));
  if (s.allOf?.length)
    return fc
      .tuple(...s.allOf.map((a) => schemaArb(a, doc, depth + 1)))
      .map((parts) => Object.assign({}, ...parts.filter((p) => p && typeof p === "object" && !Array.isArray(p))));
  const type = Array.isArray(s.type) ? s.type[0] : s.type;
  switch (type) {
    case "object": {
      const props = s.properties ?? {};
      const model = Object.fromEntries(Object.entries(props).map(([k, v]) => [k, schemaArb(v, doc, depth + 1)]));
      const requiredKeys = (s.required ?? []).filter((k) => k in props);
      return fc.record(model, { requiredKeys });
    }
    case "array": {
      const minLength = Math.min(s.minItems ?? 0, 3);
      return fc.array(schemaArb(s.items ?? {}, doc, depth + 1), {
        minLength,
        maxLength: Math.max(minLength, Math.min(s.maxItems ?? 4, 4)),
      });
    }
    case "string": {
      if (s.pattern) return fc.stringMatching(new RegExp(s.pattern), { size: "small" });
      if (s.format === "date") return isoDate.map((d) => d.slice(0, 10));
      if (s.format === "date-time") return isoDate;
      if (s.format === "email") return fc.emailAddress();
      if (s.format === "uri") return fc.webUrl();
      const minLength = Math.min(s.minLength ?? 0, 20);
      return fc.string({ minLength, maxLength: Math.max(minLength, Math.min(s.maxLength ?? 30, 30)) });
    }
    case "integer":
      return fc.integer({ min: Math.max(s.minimum ?? -1e6, -1e9), max: Math.min(s.maximum ?? 1e6, 1e9) });
    case "number":
      return fc.double({ min: s.minimum ?? -1e9, max: s.maximum ?? 1e9, noNaN: true });
    case "boolean":
      return fc.boolean();
    case "null":
      return fc.constant(null);
    default:
      return fc.jsonValue({ maxDepth: 2 });
  }
}

/** Replace the n-th node (depth first, the root is 0) of a JSON-like value with `junk`. */
export function replaceNode(value: unknown, n: number, junk: unknown): unknown {
  let i = 0;
  const count = (v: unknown): number =>
    1 + (v && typeof v === "object" ? Object.values(v as object).reduce<number>((a, c) => a + count(c), 0) : 0);
  const target = n % count(value);
  const walk = (v: unknown): unknown => {
    if (i++ === target) return junk;
    if (Array.isArray(v)) return v.map(walk);
    if (v && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, c]) => [k, walk(c)]));
    return v;
  };
  return walk(value);
}

const junkArb = fc.oneof(
  fc.jsonValue({ maxDepth: 3 }),
  fc.constantFrom(null, "", -1, 0, 1e308, -1e308, 2 ** 53 + 1, "NaN", "1e400", [], {}, [[[[[]]]]], { __proto__: 1 }),
  fc.string({ unit: "binary", maxLength: 50 }),
);
const mutated = (base: fc.Arbitrary<unknown>) =>
  fc.tuple(base, fc.nat(), junkArb).map(([v, n, junk]) => replaceNode(v, n, junk));

/** `JSON.stringify` for anything fc.anything() makes (undefined, -0, sparse arrays…). */
const toJson = (v: unknown) => {
  try {
    return JSON.stringify(v) ?? "null";
  } catch {
    return "null";
  }
};

// ---------------------------------------------------------------------------------------------
// CSV and JSON-account generators (used for POST /v1/imports and the parser fuzz)

const HEADERS = [
  "Website",
  "Domain",
  "Company",
  "Company Name",
  "Industry",
  "# Employees",
  "Employees",
  "Annual Revenue",
  "Country",
  "Technologies",
  "Signals",
  "Email",
  "First Name",
  "Last Name",
  "Title",
  "Person Linkedin Url",
  "Growth Stage",
  "Tech Maturity",
];

const cellArb = fc.oneof(
  { weight: 3, arbitrary: fc.string({ maxLength: 20 }) },
  { weight: 1, arbitrary: fc.string({ unit: "binary", maxLength: 12 }) },
  { weight: 2, arbitrary: fc.domain() },
  { weight: 1, arbitrary: fc.webUrl() },
  { weight: 1, arbitrary: fc.emailAddress() },
  { weight: 1, arbitrary: fc.integer().map(String) },
  { weight: 1, arbitrary: fc.double().map(String) },
  {
    weight: 3,
    arbitrary: fc.constantFrom(
      '"',
      '""',
      ",",
      "\n",
      "\r\n",
      "\r",
      ";",
      "\t",
      " ",
      "",
      "=1+1",
      "@SUM(A1)",
      "\ufeff",
      "\0",
      "funding:2026-10-01:5m; hiring:2026-13-45",
      "site_visit:2026-02-30",
      "1,200",
      "10k",
      "$2.5M",
      "51-200",
      "1000+",
      "1e400",
      "NaN",
      "seed",
      "high",
    ),
  },
);

/** One CSV cell written the way a careful (`quote`) or a sloppy exporter would. */
const writeCell = (v: string, delimiter: string, quote: boolean) =>
  quote && (v.includes(delimiter) || /["\r\n]/.test(v)) ? `"${v.replaceAll('"', '""')}"` : v;

/** A generated CSV and, when it is well-formed, the line each data row starts on (the oracle for line numbers). */
export type CsvCase = { text: string; rowStarts?: number[] };

const LINE_BREAK = /\r\n|\r|\n/g;
const countBreaks = (s: string) => s.match(LINE_BREAK)?.length ?? 0;

/** Random CSV text: mostly header + rows (any delimiter, line ending, quoting), sometimes plain junk. */
export const csvCaseArb: fc.Arbitrary<CsvCase> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc
      .record({
        header: fc.array(fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...HEADERS) }, cellArb), {
          minLength: 1,
          maxLength: 8,
        }),
        rows: fc.array(fc.array(cellArb, { maxLength: 9 }), { maxLength: 12 }),
        eol: fc.constantFrom("\n", "\r\n", "\r"),
        delimiter: fc.constantFrom(",", ",", ";", "\t"),
        quote: fc.boolean(),
        bom: fc.boolean(),
      })
      .map(({ header, rows, eol, delimiter, quote, bom }): CsvCase => {
        const lines = [header, ...rows].map((r) => r.map((c) => writeCell(c, delimiter, quote)).join(delimiter));
        const text = (bom ? "\ufeff" : "") + lines.join(eol);
        // Line numbers are checked exactly when the file is well-formed and its delimiter unambiguous.
        const cleanHeader = header.every((h) => !/[,;\t"\r\n]/.test(h)) && (header.length > 1 || delimiter === ",");
        if (!quote || !cleanHeader) return { text };
        const rowStarts: number[] = [];
        let line = 1 + countBreaks(lines[0] ?? "") + 1;
        for (const l of lines.slice(1)) {
          rowStarts.push(line);
          line += countBreaks(l) + 1;
        }
        return { text, rowStarts };
      }),
  },
  { weight: 1, arbitrary: fc.string({ maxLength: 300 }).map((text) => ({ text })) },
  { weight: 1, arbitrary: fc.string({ unit: "binary", maxLength: 300 }).map((text) => ({ text })) },
  {
    weight: 2,
    arbitrary: fc
      .array(fc.oneof(fc.constantFrom('"', ",", "\n", "\r", "\r\n", "a.com", "Website", "x", " "), fc.string()), {
        maxLength: 60,
      })
      .map((parts) => ({ text: parts.join("") })),
  },
);

export const csvArb: fc.Arbitrary<string> = csvCaseArb.map((c) => c.text);

const textOrJunk = <T>(arb: fc.Arbitrary<T>) =>
  fc.oneof({ weight: 4, arbitrary: arb }, { weight: 1, arbitrary: junkArb }, { weight: 1, arbitrary: fc.string() });

const contactArb = fc.record(
  {
    email: textOrJunk(fc.emailAddress()),
    firstName: textOrJunk(fc.string()),
    lastName: textOrJunk(fc.string()),
    title: textOrJunk(fc.constantFrom("VP Sales", "CRO", "Head of RevOps", "Intern")),
    linkedinUrl: textOrJunk(fc.webUrl()),
  },
  { requiredKeys: [] },
);

/** Objects shaped like JSON-import accounts (field names and CSV aliases) with random, often wrong, values. */
export const jsonAccountArb: fc.Arbitrary<unknown> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record(
      {
        domain: textOrJunk(fc.oneof(fc.domain(), fc.webUrl())),
        Website: textOrJunk(fc.domain()),
        name: textOrJunk(fc.string()),
        industry: textOrJunk(fc.constantFrom("SaaS", "Fintech", "Manufacturing")),
        employees: textOrJunk(
          fc.oneof(fc.integer({ min: -10, max: 1e8 }), fc.double(), fc.constantFrom("1,200", "10k")),
        ),
        "# Employees": textOrJunk(fc.nat().map(String)),
        revenue: textOrJunk(fc.oneof(fc.nat(), fc.constantFrom("$2.5M", "1e21"))),
        country: textOrJunk(fc.constantFrom("France", "Germany", "US")),
        growthStage: textOrJunk(fc.constantFrom("seed", "growth", "scale", "mature")),
        techMaturity: textOrJunk(fc.constantFrom("low", "medium", "high")),
        technologies: textOrJunk(fc.oneof(fc.array(fc.string(), { maxLength: 5 }), fc.string())),
        signals: textOrJunk(
          fc.array(
            fc.record(
              {
                type: textOrJunk(fc.constantFrom(...SignalType.options)),
                at: textOrJunk(isoDate),
                amount: textOrJunk(fc.double({ min: -1, max: 1e12, noNaN: true })),
                detail: textOrJunk(fc.string()),
              },
              { requiredKeys: [] },
            ),
            { maxLength: 4 },
          ),
        ),
        contacts: textOrJunk(fc.array(contactArb, { maxLength: 3 })),
        contact: textOrJunk(contactArb),
      },
      { requiredKeys: [] },
    ),
  },
  { weight: 1, arbitrary: fc.anything() },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
);

export const jsonAccountsArb = fc.array(jsonAccountArb, { maxLength: 15 });

// ---------------------------------------------------------------------------------------------
// Requests

const RAW_SEGMENTS = ["%", "%zz", "%00", "..", "%2e%2e", "%2F", "a%2Fb", "%C0%AF", "%ff", "%E2%80%AE", "~", "@", "*"];
const ULID = /^[0-9A-HJKMNP-TV-Z]{26}$/;

function paramArb(p: Parameter, ctx: FuzzContext): fc.Arbitrary<string> {
  const real = ctx.real[p.name] ?? [];
  const enc = (a: fc.Arbitrary<string>) => a.map(encodeURIComponent);
  return fc.oneof(
    { weight: real.length ? 4 : 0, arbitrary: real.length ? fc.constantFrom(...real) : fc.constant("x") },
    { weight: 3, arbitrary: enc(schemaArb(p.schema ?? {}, ctx.doc).map(String)) },
    {
      weight: 2,
      arbitrary: fc
        .tuple(fc.constantFrom("acc_", "imp_", "icp_", "rsc_", "key_", ""), fc.stringMatching(ULID))
        .map(([prefix, id]) => prefix + id),
    },
    { weight: 2, arbitrary: fc.domain() },
    { weight: 1, arbitrary: enc(fc.webUrl()) },
    { weight: 1, arbitrary: fc.integer({ min: -5, max: 1e6 }).map(String) },
    { weight: 2, arbitrary: enc(fc.string({ minLength: 1, maxLength: 40 })) },
    { weight: 1, arbitrary: enc(fc.string({ unit: "binary", minLength: 1, maxLength: 20 })) },
    { weight: 1, arbitrary: enc(fc.string({ minLength: 250, maxLength: 600 })) },
    { weight: 1, arbitrary: fc.constantFrom(...RAW_SEGMENTS) },
  );
}

const queryValueArb = (p: Parameter | undefined, ctx: FuzzContext) =>
  fc.oneof(
    { weight: p ? 4 : 0, arbitrary: p ? schemaArb(p.schema ?? {}, ctx.doc).map(String) : fc.constant("") },
    { weight: 1, arbitrary: fc.string({ maxLength: 30 }) },
    { weight: 1, arbitrary: fc.constantFrom("", "-1", "0", "1e309", "NaN", "9007199254740993", "true", "null", "[]") },
    { weight: 1, arbitrary: fc.string({ unit: "binary", maxLength: 10 }) },
    { weight: 1, arbitrary: fc.string({ minLength: 2000, maxLength: 3000 }) },
  );

function queryArb(op: Operation, ctx: FuzzContext): fc.Arbitrary<string> {
  const declared = (op.parameters ?? []).filter((p) => p.in === "query");
  const known = fc.array(
    declared.length
      ? fc.constantFrom(...declared).chain((p) => queryValueArb(p, ctx).map((v) => [p.name, v] as const))
      : fc.constant(["", ""] as const),
    { maxLength: declared.length ? 4 : 0 },
  );
  const extra = fc.array(
    fc.tuple(
      fc.oneof(fc.string({ maxLength: 10 }), fc.constantFrom("tier", "limit", "cursor", "__proto__")),
      fc.string(),
    ),
    { maxLength: 2 },
  );
  return fc.tuple(known, extra).map(([a, b]) => {
    const q = new URLSearchParams([...a, ...b].filter(([k]) => k !== "").map(([k, v]) => [k, v]));
    const s = q.toString();
    return s ? `?${s}` : "";
  });
}

const CONTENT_TYPES = [
  "application/json",
  "application/json; charset=utf-8",
  "APPLICATION/JSON",
  "application/merge-patch+json",
  "text/csv",
  "text/csv; charset=utf-16",
  "application/csv",
  "text/plain",
  "application/x-www-form-urlencoded",
  "multipart/form-data; boundary=xyz",
  "application/xml",
  "application/octet-stream",
  "",
];

type Body = { body: string | Uint8Array<ArrayBuffer>; type?: string; kind: string };

function bodyArb(path: string, op: Operation, ctx: FuzzContext): fc.Arbitrary<Body | undefined> {
  const schema = op.requestBody?.content["application/json"]?.schema;
  const json = (kind: string, arb: fc.Arbitrary<string>) =>
    arb.map((body): Body => ({ body, type: "application/json", kind }));
  const options: fc.WeightedArbitrary<Body | undefined>[] = [
    { weight: op.requestBody ? 1 : 6, arbitrary: fc.constant(undefined) },
    { weight: 1, arbitrary: json("fc.json", fc.json({ maxDepth: 3 })) },
    { weight: 1, arbitrary: json("fc.anything", fc.anything({ maxDepth: 3 }).map(toJson)) },
    { weight: 1, arbitrary: json("not-json", fc.string({ maxLength: 50 })) },
    {
      weight: 1,
      arbitrary: fc
        .record({ body: fc.oneof(fc.json(), csvArb), type: fc.constantFrom(...CONTENT_TYPES) })
        .map(({ body, type }): Body => ({ body, type, kind: "random-type" })),
    },
  ];
  if (schema) {
    const shaped = schemaArb(schema, ctx.doc);
    options.push({ weight: 5, arbitrary: json("schema", shaped.map(toJson)) });
    options.push({ weight: 4, arbitrary: json("schema-mutated", mutated(shaped).map(toJson)) });
  }
  if (path.startsWith("/v1/icps"))
    options.push({ weight: 3, arbitrary: json("icp-mutated", mutated(fc.constant(DEMO_ICP)).map(toJson)) });
  if (path === "/v1/icps/{id}/dry-run" || path === "/v1/icps/{id}/backtest")
    options.push({
      weight: 2,
      arbitrary: json(
        "icp-definition",
        mutated(fc.constant(DEMO_ICP)).map((definition) => toJson({ definition, source: "history" })),
      ),
    });
  if (path === "/v1/imports") {
    options.push({
      weight: 6,
      arbitrary: fc
        .tuple(csvArb, fc.constantFrom("text/csv", "text/csv; charset=utf-8", "text/plain", "application/csv"))
        .map(([body, type]): Body => ({ body, type, kind: "csv" })),
    });
    options.push({
      weight: 1,
      arbitrary: fc
        .uint8Array({ maxLength: 2000 })
        .map((bytes): Body => ({ body: new Uint8Array(bytes), type: "text/csv", kind: "csv-bytes" })),
    });
    options.push({
      weight: 5,
      arbitrary: json(
        "accounts",
        jsonAccountsArb.map((accounts) => toJson({ accounts })),
      ),
    });
  }
  return fc.oneof(...options);
}

/** Random headers; `content-type` is a random variant, used when the body does not bring its own. */
function headersArb(ctx: FuzzContext): fc.Arbitrary<Record<string, string | undefined>> {
  const auth = fc.oneof(
    { weight: 30, arbitrary: fc.constant(`Bearer ${ctx.apiKey}`) },
    { weight: 1, arbitrary: fc.constant(undefined) },
    { weight: 1, arbitrary: printable.map((k) => `Bearer ${k}`) },
    {
      weight: 1,
      arbitrary: fc.constantFrom("Basic YWxhZGRpbjpvcGVuc2VzYW1l", "Bearer", "bearer  x y", `Token ${ctx.apiKey}`),
    },
  );
  return fc.record(
    {
      authorization: auth,
      "content-type": fc.constantFrom(...CONTENT_TYPES),
      "idempotency-key": fc.oneof(
        printable,
        fc.string({ minLength: 190, maxLength: 260 }).map((s) => s.replace(/[^ -~]/g, "x")),
      ),
      "x-request-id": printable,
      accept: fc.constantFrom("text/html", "*/*", "application/xml", "text/csv"),
    },
    { requiredKeys: ["authorization"] },
  );
}

function assemble(
  method: string,
  path: string,
  body: Body | undefined,
  headers: Record<string, string | undefined>,
): FuzzRequest {
  const sent = body && method !== "GET" ? body : undefined;
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) if (v) out[k] = v;
  if (sent?.type !== undefined) out["content-type"] = sent.type;
  if (!sent || !out["content-type"]) delete out["content-type"];
  return { method, path, headers: out, ...(sent ? { body: sent.body } : {}), bodyKind: sent?.kind ?? "none" };
}

/** A random request on the documented API (and, now and then, on paths that do not exist). */
export function requestArb(ctx: FuzzContext): fc.Arbitrary<FuzzRequest> {
  const ops = Object.entries(ctx.doc.paths).flatMap(([path, byMethod]) =>
    Object.entries(byMethod).map(([method, op]) => ({ path, method: method.toUpperCase(), op })),
  );
  // One arbitrary per operation, built once: building them per sample (fc.chain) is 20x slower.
  const perOp = ops.map(({ path, method, op }) => {
    const params = (op.parameters ?? []).filter((p) => p.in === "path");
    const pathArb = fc
      .tuple(...params.map((p) => paramArb(p, ctx).map((v) => [p.name, v] as const)))
      .map((pairs) => pairs.reduce((acc, [name, v]) => acc.replace(`{${name}}`, v), path));
    return fc
      .record({
        method: fc.oneof(
          { weight: 8, arbitrary: fc.constant(method) },
          { weight: 1, arbitrary: fc.constantFrom("GET", "POST", "PUT", "DELETE") },
        ),
        path: pathArb,
        query: queryArb(op, ctx),
        body: bodyArb(path, op, ctx),
        headers: headersArb(ctx),
      })
      .map(({ method: m, path: p, query, body, headers }) => assemble(m, p + query, body, headers));
  });
  const documented = fc.oneof(...perOp);
  const undocumented = fc
    .record({
      method: fc.constantFrom("GET", "POST", "PUT", "DELETE"),
      segments: fc.array(
        fc.oneof(fc.string({ minLength: 1, maxLength: 12 }).map(encodeURIComponent), fc.constantFrom(...RAW_SEGMENTS)),
        {
          minLength: 1,
          maxLength: 4,
        },
      ),
    })
    .map(
      ({ method, segments }): FuzzRequest => ({
        method,
        path: `/v1/${segments.join("/")}`,
        headers: { authorization: `Bearer ${ctx.apiKey}` },
        bodyKind: "none",
      }),
    );
  return fc.oneof({ weight: 19, arbitrary: documented }, { weight: 1, arbitrary: undocumented });
}

export function describeRequest(r: FuzzRequest): string {
  const type = r.headers["content-type"] ? `, ${r.headers["content-type"]}` : "";
  const body =
    typeof r.body === "string" ? JSON.stringify(r.body.slice(0, 300)) : r.body ? `<${r.body.length} bytes>` : "";
  return `${r.method} ${r.path.slice(0, 200)} [${r.bodyKind}${type}] ${body}`;
}

export async function send(app: App, r: FuzzRequest): Promise<Response> {
  return app.request(r.path, {
    method: r.method,
    headers: r.headers,
    ...(r.body !== undefined ? { body: r.body } : {}),
  });
}

/** A CSV cell a spreadsheet would run as a formula (=, +, -, @ first), or undefined. */
function csvInjection(text: string): string | undefined {
  for (const line of text.split(/\r\n|\n/))
    for (const cell of line.split(","))
      if (/^"?[=+\-@]/.test(cell) && !/^"?-?\d/.test(cell)) return `CSV cell a spreadsheet would execute: ${cell}`;
  return undefined;
}

/**
 * The documented answers that are not JSON, for people and mail clients rather than API
 * clients (see /openapi.json): the open pixel, the click redirect, the unsubscribe pages.
 */
const NON_JSON: { path: RegExp; status: number[]; check: (res: Response, text: string) => string | undefined }[] = [
  {
    path: /^\/t\/o\//,
    status: [200],
    check: (res, text) =>
      /^image\/gif\b/.test(res.headers.get("content-type") ?? "") && text.startsWith("GIF8") ? undefined : "not a GIF",
  },
  {
    path: /^\/t\/c\//,
    status: [302],
    check: (res) =>
      /^https?:\/\//.test(res.headers.get("location") ?? "") ? undefined : "302 without an http(s) Location",
  },
  {
    path: /^\/u\//,
    status: [200, 404],
    check: (res, text) =>
      /^text\/html\b/.test(res.headers.get("content-type") ?? "") && /^<!doctype html>/i.test(text)
        ? undefined
        : "not an HTML page",
  },
];

/** Why a response breaks the contract, or undefined when it is fine; `path`: the request's, for non-JSON answers. */
export async function checkResponse(res: Response, path?: string): Promise<string | undefined> {
  const type = res.headers.get("content-type") ?? "";
  const text = await res.text();
  const page =
    path === undefined ? undefined : NON_JSON.find((n) => n.path.test(path) && n.status.includes(res.status));
  // (A problem+json answer there, e.g. to an undocumented method, is checked like any other.)
  if (page && !/^application\/problem\+json\b/.test(type)) return page.check(res, text);
  if (res.status >= 200 && res.status < 300) {
    if (res.status === 204) return text ? "204 with a body" : undefined;
    // Reports document a CSV answer (format=csv): it must be safe to open in a spreadsheet.
    if (/^text\/csv\b/.test(type)) return csvInjection(text);
    if (!/^application\/json\b/.test(type)) return `${res.status} served as "${type}"`;
    try {
      JSON.parse(text);
    } catch {
      return `${res.status} body is not JSON`;
    }
    return undefined;
  }
  if (!DOCUMENTED_4XX.has(res.status)) return `status ${res.status}: ${text.slice(0, 500)}`;
  if (!/^application\/problem\+json\b/.test(type)) return `${res.status} served as "${type}", not problem+json`;
  let p: Record<string, unknown>;
  try {
    p = JSON.parse(text) as Record<string, unknown>;
  } catch {
    return `${res.status} problem body is not JSON: ${text.slice(0, 200)}`;
  }
  if (typeof p.type !== "string" || !p.type) return `problem without type: ${text.slice(0, 200)}`;
  if (typeof p.title !== "string" || !p.title) return `problem without title: ${text.slice(0, 200)}`;
  if (p.status !== res.status) return `problem status ${String(p.status)} on a ${res.status}`;
  if (typeof p.detail !== "string" || !p.detail) return `problem without detail: ${text.slice(0, 200)}`;
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// Parser properties

const NOW = new Date("2026-11-20T00:00:00Z");
const lineCount = (text: string) => text.split(/\r\n|\r|\n/).length;

/** Why parseCsv misbehaved on `text`, or undefined; with `rowStarts`, every line must be a row's first line. */
export function checkCsv(text: string, rowStarts?: readonly number[]): string | undefined {
  let parsed: ReturnType<typeof parseCsv>;
  const lines = lineCount(text);
  try {
    parsed = parseCsv(text, NOW);
  } catch (e) {
    if (!(e instanceof ImportFileError)) return `threw ${(e as Error)?.constructor?.name}: ${(e as Error)?.message}`;
    if (e.line !== undefined && !(Number.isInteger(e.line) && e.line >= 1 && e.line <= lines))
      return `file error at line ${e.line} of ${lines}: ${e.message}`;
    return undefined;
  }
  for (const err of parsed.errors) {
    if (!(Number.isInteger(err.line) && err.line >= 1 && err.line <= lines))
      return `row error at line ${err.line} of ${lines}: ${JSON.stringify(err)}`;
    if (typeof err.field !== "string" || !err.field) return `row error without a field: ${JSON.stringify(err)}`;
    if (!err.message) return `row error without a message: ${JSON.stringify(err)}`;
  }
  for (const row of parsed.rows)
    if (!(row.line >= 2 && row.line <= lines)) return `row at line ${row.line} of ${lines}`;
  if (rowStarts) {
    const starts = new Set(rowStarts);
    const wrong = [...parsed.errors, ...parsed.rows].find((r) => !starts.has(r.line));
    if (wrong) return `line ${wrong.line} is not where a row starts (rows start at ${rowStarts.join(", ")})`;
  }
  const rejected = new Set(parsed.errors.map((e) => e.line)).size;
  if (parsed.rows.length + rejected !== parsed.total)
    return `${parsed.rows.length} rows + ${rejected} rejected lines != total ${parsed.total}`;
  return undefined;
}

/** Why parseJsonAccounts misbehaved on `accounts`, or undefined. */
export function checkJsonAccounts(accounts: unknown[]): string | undefined {
  let parsed: ReturnType<typeof parseJsonAccounts>;
  try {
    parsed = parseJsonAccounts(accounts, NOW);
  } catch (e) {
    return e instanceof ImportFileError
      ? undefined
      : `threw ${(e as Error)?.constructor?.name}: ${(e as Error)?.message}`;
  }
  for (const err of parsed.errors) {
    if (!(Number.isInteger(err.line) && err.line >= 1 && err.line <= accounts.length))
      return `error at position ${err.line} of ${accounts.length}: ${JSON.stringify(err)}`;
    if (typeof err.field !== "string" || !err.field) return `error without a field: ${JSON.stringify(err)}`;
  }
  const rejected = new Set(parsed.errors.map((e) => e.line)).size;
  if (parsed.rows.length + rejected !== parsed.total)
    return `${parsed.rows.length} rows + ${rejected} rejected != total ${parsed.total}`;
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// Fixture: a workspace with real ids for the path parameters

/** Real ids in the stack's workspace (ICP, import, accounts, rescore, API key) for `key`. */
export async function fuzzContext(app: App, apiKey: string): Promise<FuzzContext> {
  const auth = { authorization: `Bearer ${apiKey}` };
  const post = async (path: string, body: string, type = "application/json") => {
    const res = await app.request(path, { method: "POST", headers: { ...auth, "content-type": type }, body });
    const json = (await res.json()) as Record<string, unknown>;
    if (res.status >= 300) throw new Error(`fuzz setup: POST ${path} -> ${res.status} ${JSON.stringify(json)}`);
    return json;
  };
  const get = async (path: string) =>
    (await (await app.request(path, { headers: auth })).json()) as Record<string, unknown>;
  const doc = (await (await app.request("/openapi.json")).json()) as OpenApiDoc;
  const icp = await post("/v1/icps", JSON.stringify({ ...DEMO_ICP, name: "Fuzz ICP" }));
  const imp = await post("/v1/imports", demoAccountsCsv(12, 7), "text/csv");
  const key = await post("/v1/api-keys", JSON.stringify({ label: "fuzz", scopes: ["read"] }));
  for (let i = 0; i < 100; i++) {
    if ((await get(`/v1/imports/${imp.id}`)).status === "completed") break;
    await new Promise((r) => setTimeout(r, 100));
  }
  const accounts = ((await get("/v1/accounts?limit=20")).items ?? []) as { id: string; domain: string }[];
  const ids = (...xs: unknown[]) => xs.filter((x): x is string => typeof x === "string");
  return {
    doc,
    apiKey,
    real: {
      id: ids(icp.id, imp.id, icp.rescoreId, key.id),
      ref: accounts.flatMap((a) => [a.id, a.domain]),
      version: ["1", "2"],
    },
  };
}

// ---------------------------------------------------------------------------------------------
// The bench

/** What earlier runs found, for the record (the summary of one run only shows that run). */
const HISTORY = [
  "GET /v1/imports/{id}?errorsCursor=<not one we returned> -> 500 (DynamoDB ValidationException on the " +
    "start key): fixed in packages/api/src/routes/ingest/imports.ts, now 400",
  "/v1/accounts/{ref} with a malformed %-escape (%ff, 1u%25) -> 500 URIError (the ref was decoded twice): " +
    "fixed in packages/store/src/accounts/account-records.ts",
  "numbers outside DynamoDB's range (amount 4e-323, ICP range min 2.9e-190) -> 500; in an import such a row " +
    "failed its whole ingest chunk: fixed by storableNumber() in packages/core/src/shared/numbers.ts",
  "numbers above 2^53 (outcome amount 999999999999997800) -> 500 from the DynamoDB document client, and again " +
    "a failed ingest chunk in imports: fixed by capping storableNumber() at Number.MAX_SAFE_INTEGER",
  "parseCsv line numbers off with CRLF inside quoted cells, lone-CR line endings and whitespace-only lines, " +
    "and an unclosed quote reported past the end of the file: fixed in packages/core/src/ingest/import-rows.ts",
];

const API_RUNS = Number(process.env.FUZZ_API_RUNS ?? 10_000);
const PARSER_RUNS = Number(process.env.FUZZ_PARSER_RUNS ?? 10_000);
const CONCURRENCY = Number(process.env.FUZZ_CONCURRENCY ?? 8);
const SEED = Number(process.env.FUZZ_SEED ?? Date.now() % 2 ** 31);
const BATCH = 500;

type Finding = { request: string; problem: string };

async function fuzzApi(app: App, ctx: FuzzContext) {
  const byStatus: Record<string, number> = {};
  const byKind: Record<string, number> = {};
  const findings: Finding[] = [];
  let done = 0;
  for (let batch = 0; done < API_RUNS; batch++) {
    const reqs = fc.sample(requestArb(ctx), { numRuns: Math.min(BATCH, API_RUNS - done), seed: SEED + batch });
    let next = 0;
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        for (let i = next++; i < reqs.length; i = next++) {
          const r = reqs[i] as FuzzRequest;
          let problem: string | undefined;
          let status = "error";
          try {
            const res = await send(app, r);
            status = String(res.status);
            problem = await checkResponse(res, r.path);
          } catch (e) {
            problem = `request threw ${(e as Error).message}`;
          }
          byStatus[status] = (byStatus[status] ?? 0) + 1;
          byKind[r.bodyKind] = (byKind[r.bodyKind] ?? 0) + 1;
          if (problem) findings.push({ request: describeRequest(r), problem });
        }
      }),
    );
    done += reqs.length;
    log(`api: ${done}/${API_RUNS} requests, ${findings.length} findings`);
  }
  return { byStatus, byKind, findings };
}

function fuzzParsers() {
  const findings: Finding[] = [];
  const outcome = { csvOk: 0, csvFileErrors: 0, csvRowErrors: 0, jsonOk: 0, jsonFileErrors: 0, jsonRowErrors: 0 };
  for (const { text, rowStarts } of fc.sample(csvCaseArb, { numRuns: PARSER_RUNS, seed: SEED })) {
    const problem = checkCsv(text, rowStarts);
    if (problem) findings.push({ request: `parseCsv ${JSON.stringify(text.slice(0, 300))}`, problem });
    try {
      const p = parseCsv(text, NOW);
      outcome.csvOk++;
      outcome.csvRowErrors += p.errors.length;
    } catch {
      outcome.csvFileErrors++;
    }
  }
  for (const accounts of fc.sample(jsonAccountsArb, { numRuns: PARSER_RUNS, seed: SEED })) {
    const problem = checkJsonAccounts(accounts);
    if (problem) findings.push({ request: `parseJsonAccounts ${toJson(accounts).slice(0, 300)}`, problem });
    try {
      const p = parseJsonAccounts(accounts, NOW);
      outcome.jsonOk++;
      outcome.jsonRowErrors += p.errors.length;
    } catch {
      outcome.jsonFileErrors++;
    }
  }
  return { outcome, findings };
}

/** Replace (or append) one "## " section of bench/RESULTS.md, leaving every other section alone. */
export function recordSection(title: string, body: string) {
  const file = new URL("./RESULTS.md", import.meta.url);
  let text = "";
  try {
    text = readFileSync(file, "utf8");
  } catch {
    text = "# Benchmark results\n";
  }
  const section = `## ${title}\n\n${body.trim()}\n`;
  const start = text.search(new RegExp(`^## ${title}\\s*$`, "m"));
  if (start < 0) {
    writeFileSync(file, `${text.trimEnd()}\n\n${section}`);
    return;
  }
  const rest = text.slice(start + 3);
  const next = rest.search(/^## /m);
  const end = next < 0 ? text.length : start + 3 + next;
  writeFileSync(file, `${text.slice(0, start)}${section}${next < 0 ? "" : `\n${text.slice(end)}`}`);
}

export async function run(): Promise<BenchResult> {
  const started = Date.now();
  const apiKey = "fuzz-bench-key";
  // One log line per request (or per expected 500) would drown the report, which lists every finding.
  process.env.POWERTOOLS_LOG_LEVEL ??= "SILENT";
  const { createApp } = await import("@icp/api");
  log(`seed ${SEED}; starting a stack`);
  // Not seeded: every valid ICP the fuzzer creates re-scores the workspace, so keep it small.
  const stack: Stack = await startStack({ port: 0, seed: false, onWorkerError: () => {} });
  try {
    await ensureWorkspace(stack.store, "fuzz", "fuzz");
    await putApiKey(stack.store, "fuzz", apiKey, "fuzz admin");
    const app = createApp({ store: () => stack.store });
    const ctx = await fuzzContext(app, apiKey);
    const t0 = performance.now();
    const api = await fuzzApi(app, ctx);
    const apiMs = performance.now() - t0;
    const t1 = performance.now();
    const parsers = fuzzParsers();
    const parserMs = performance.now() - t1;
    const m = machine();
    const fivexx = Object.entries(api.byStatus)
      .filter(([s]) => !/^[24]\d\d$/.test(s))
      .reduce((n, [, c]) => n + c, 0);
    const statuses = Object.entries(api.byStatus)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([s, n]) => `${s}: ${fmt(n)}`)
      .join(", ");
    const kinds = Object.entries(api.byKind)
      .sort(([, a], [, b]) => b - a)
      .map(([k, n]) => `${k} ${fmt(n)}`)
      .join(", ");
    const findings = [...api.findings, ...parsers.findings];
    const oneLine = (t: string, max: number) => t.replace(/\s+/g, " ").replaceAll("`", "'").slice(0, max);
    const o = parsers.outcome;
    const parsed = (ok: number, rowErrors: number, fileErrors: number) =>
      `${fmt(ok)} parsed (${fmt(rowErrors)} row errors), ${fmt(fileErrors)} ImportFileError`;
    const rows = [
      `| API (\`app.request\`, ${CONCURRENCY} at a time, valid admin key on ~97%) | ${fmt(API_RUNS)} | ${statuses} ` +
        `| ${fmt(apiMs / 1000, 1)} s |`,
      `| \`parseCsv\` | ${fmt(PARSER_RUNS)} | ${parsed(o.csvOk, o.csvRowErrors, o.csvFileErrors)} ` +
        `| ${fmt(parserMs / 1000, 1)} s (both parsers) |`,
      `| \`parseJsonAccounts\` | ${fmt(PARSER_RUNS)} | ${parsed(o.jsonOk, o.jsonRowErrors, o.jsonFileErrors)} | |`,
    ];
    const summary = `Run ${m.date.slice(0, 10)} on ${m.cores} cores (${m.cpu}), Node ${m.node}; seed ${SEED}.
Command: \`npx tsx bench/fuzz.ts --record\` (FUZZ_SEED=${SEED} replays this run).

| target | inputs | result | time |
| --- | ---: | --- | ---: |
${rows.join("\n")}

API bodies by generator: ${kinds}.
5xx or undocumented statuses: **${fivexx}**; contract
violations (status, content type, problem+json shape, parser exceptions/lines/fields): **${findings.length}**.${
      findings.length
        ? `\n\nNew findings (first 20):\n${findings
            .slice(0, 20)
            .map((f) => `- ${oneLine(f.problem, 300)} — \`${oneLine(f.request, 300)}\``)
            .join("\n")}`
        : ""
    }

Found by this fuzzer in earlier runs:
${HISTORY.map((h) => `- ${h}`).join("\n")}`;
    if (process.argv.includes("--record")) recordSection("Fuzz", summary);
    return {
      name: "fuzz",
      command: "npx tsx bench/fuzz.ts --record",
      startedAt: new Date(started).toISOString(),
      durationMs: Date.now() - started,
      targets: [
        {
          name: "API requests answered 2xx/documented 4xx",
          target: "0 violations",
          value: String(api.findings.length),
          met: api.findings.length === 0,
        },
        {
          name: "parser inputs handled",
          target: "0 violations",
          value: String(parsers.findings.length),
          met: parsers.findings.length === 0,
        },
      ],
      summary: `## Fuzz\n\n${summary}`,
      data: { seed: SEED, api: { ...api, ms: apiMs }, parsers: { ...parsers, ms: parserMs } },
    };
  } finally {
    await stack.stop();
  }
}

if (isMain(import.meta.url)) await runAsScript(run);
