import {
  type AccountInput,
  aliasesOf,
  type Contact,
  demoAccountsCsv,
  headerKey,
  IMPORT_FIELDS,
  type ImportField,
  ImportFileError,
  type ImportRow,
  MAX_IMPORT_ROWS,
  mergeAccounts,
  mergeByDomain,
  mergeContacts,
  mergeSignals,
  type ParsedImport,
  parseAmount,
  parseCsv,
  parseJsonAccounts,
  parseSignals,
  resolveColumn,
  rowToAccount,
  type Signal,
} from "@icp/core";
import fc from "fast-check";
import { describe, expect, it } from "vitest";

const NOW = new Date("2026-11-20T09:30:00Z");
const csv = (...lines: string[]) => `${lines.join("\n")}\n`;
const parse = (text: string): ParsedImport => parseCsv(text, NOW);
const accounts = (p: ParsedImport) => p.rows.map((r) => r.account);

function fileError(fn: () => unknown): ImportFileError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(ImportFileError);
    return e as ImportFileError;
  }
  throw new Error("expected an ImportFileError");
}

describe("columns", () => {
  it("every alias resolves to its own field (no alias is claimed by two fields)", () => {
    for (const field of IMPORT_FIELDS) {
      expect(aliasesOf(field).length).toBeGreaterThan(0);
      for (const alias of aliasesOf(field)) expect(resolveColumn(alias)).toBe(field);
    }
  });

  it.each([
    ["Website", "domain"],
    ["Company Website", "domain"],
    ["Company", "name"],
    ["company_name", "name"],
    ["# Employees", "employees"],
    ["Employee-Count", "employees"],
    ["Annual Revenue", "revenue"],
    ["ANNUAL_REVENUE", "revenue"],
    ["Technologies", "technologies"],
    ["Tech Stack", "technologies"],
    ["First Name", "firstName"],
    ["first_name", "firstName"],
    ["firstName", "firstName"],
    ["Person Linkedin Url", "linkedinUrl"],
    ["LinkedIn URL", "linkedinUrl"],
    ["Job Title", "title"],
    ["HQ Country", "country"],
    ["Funding Stage", "growthStage"],
    ["growthStage", "growthStage"],
    ["Tech-Maturity", "techMaturity"],
    ["Intent Signals", "signals"],
    ["E-mail Address", "email"],
    ["  Sector  ", "industry"],
  ] as const)("%j -> %s", (header, field) => {
    expect(resolveColumn(header)).toBe(field);
  });

  it("unknown headers resolve to nothing", () => {
    for (const h of ["Notes", "", "#", "Owner", "Phone"]) expect(resolveColumn(h)).toBeUndefined();
  });

  it("headerKey keeps only lower-case letters and digits", () => {
    expect(headerKey("# Employees (2024)!")).toBe("employees2024");
    expect(headerKey("Annual_Revenue")).toBe("annualrevenue");
  });
});

describe("parseCsv: columns and values", () => {
  it("reads an Apollo-style export through header aliases", () => {
    const p = parse(
      csv(
        "Company,Website,Sector,# Employees,Annual Revenue,HQ Country,Stage,Technologies,Tech Maturity," +
          "Intent Signals,First Name,Last Name,Job Title,Email,Person Linkedin Url,Notes",
        'Acme,https://www.Acme.com/,SaaS,"1,200",$2.5M,France,Growth,"HubSpot; Slack,Notion|HubSpot",High,' +
          '"funding:2026-10-01:5000000; hiring:2026-11-02:VP Sales",Ann,Lee,"VP Sales, EMEA",Ann.Lee@Acme.com,' +
          "https://www.linkedin.com/in/annlee,ignored",
      ),
    );
    expect(p.errors).toEqual([]);
    expect(p.total).toBe(1);
    expect(p.rows).toEqual([
      {
        line: 2,
        account: {
          domain: "acme.com",
          name: "Acme",
          industry: "SaaS",
          employees: 1200,
          revenue: 2_500_000,
          country: "France",
          growthStage: "growth",
          technologies: ["HubSpot", "Slack", "Notion"],
          techMaturity: "high",
          signals: [
            { type: "funding", at: "2026-10-01", amount: 5_000_000 },
            { type: "hiring", at: "2026-11-02", detail: "VP Sales" },
          ],
          contacts: [
            {
              firstName: "Ann",
              lastName: "Lee",
              title: "VP Sales, EMEA",
              email: "ann.lee@acme.com",
              linkedinUrl: "https://www.linkedin.com/in/annlee",
            },
          ],
        },
      },
    ]);
  });

  it("matches headers case- and punctuation-insensitively", () => {
    const p = parse(csv("WEBSITE,company_name,number-of-employees,ANNUAL REVENUE", "acme.com,Acme,51-200,10k"));
    expect(accounts(p)).toEqual([{ domain: "acme.com", name: "Acme", employees: 126, revenue: 10_000 }]);
  });

  it("takes the first non-empty cell when two columns map to the same field", () => {
    const p = parse(
      csv("Website,Company Domain,Company,Account Name", ",beta.io,Beta,Beta Inc", "acme.com,x.io,,Acme"),
    );
    expect(accounts(p)).toEqual([
      { domain: "beta.io", name: "Beta" },
      { domain: "acme.com", name: "Acme" },
    ]);
  });

  it("handles a BOM, CRLF line endings, padding and short rows", () => {
    const p = parse("\uFEFFWebsite , Company,Country\r\n  acme.com  , Acme \r\nbeta.io\r\n");
    expect(p.errors).toEqual([]);
    expect(accounts(p)).toEqual([{ domain: "acme.com", name: "Acme" }, { domain: "beta.io" }]);
  });

  it("rounds employees but keeps revenue as given", () => {
    const p = parse(csv("Website,Employees,Revenue", "acme.com,10.6,1234.5"));
    expect(accounts(p)).toEqual([{ domain: "acme.com", employees: 11, revenue: 1234.5 }]);
  });

  it("leaves out empty cells and a contact without any field", () => {
    const p = parse(csv("Website,Company,Industry,Email,First Name", "acme.com,,  ,,"));
    expect(accounts(p)).toEqual([{ domain: "acme.com" }]);
  });
});

describe("parseCsv: line numbers and row errors", () => {
  it("the header is line 1; data lines keep their file line numbers, blank lines included", () => {
    const p = parse(csv("Website,Employees", "acme.com,10", "", "nope,20", "beta.io,abc", "", "", "gamma.co,5"));
    expect(p.total).toBe(4);
    expect(p.rows.map((r) => [r.line, r.account.domain])).toEqual([
      [2, "acme.com"],
      [8, "gamma.co"],
    ]);
    expect(p.errors).toEqual([
      { line: 4, field: "domain", message: '"nope" is not a domain or website' },
      { line: 5, field: "employees", message: '"abc" is not a number' },
    ]);
  });

  it("counts the lines of a quoted multi-line cell for the rows after it", () => {
    const p = parse(csv("Website,Title", 'acme.com,"VP', 'Sales"', "bad,x", 'beta.io,"a', "b", 'c"', "bad2,y"));
    expect(p.errors.map((e) => e.line)).toEqual([4, 8]);
    expect(p.rows.map((r) => r.account.contacts?.[0]?.title)).toEqual(["VP\nSales", "a\nb\nc"]);
  });

  it("a bad row does not reject the good rows and reports every bad field once", () => {
    const p = parse(
      csv(
        "Website,Employees,Revenue,Stage,Tech Maturity,Signals,Email,Person Linkedin Url",
        "acme.com,10,1000,seed,low,,,",
        "beta.io,lots,many,unicorn,extreme,bogus:2026-01-01,not-an-email,not a url",
        "gamma.co,,,,,,,",
      ),
    );
    expect(p.total).toBe(3);
    expect(p.rows.map((r) => r.line)).toEqual([2, 4]);
    expect(p.errors.every((e) => e.line === 3)).toBe(true);
    expect(p.errors.map((e) => e.field).sort()).toEqual(
      ["employees", "revenue", "growthStage", "techMaturity", "signals", "email", "linkedinUrl"].sort(),
    );
    expect(p.errors.find((e) => e.field === "signals")?.message).toMatch(/unknown signal type "bogus"/);
  });

  it("a row without a usable domain is an error on the domain field", () => {
    const p = parse(csv("Website,Company", ",Acme", "localhost,Local"));
    expect(p.errors).toEqual([
      { line: 2, field: "domain", message: "domain or website is required" },
      { line: 3, field: "domain", message: '"localhost" is not a domain or website' },
    ]);
  });

  it("reports signals with a bad date", () => {
    const p = parse(csv("Website,Signals", "acme.com,hiring:2026/11/01", "beta.io,hiring:2026-02-30"));
    expect(p.errors[0]).toEqual({
      line: 2,
      field: "signals",
      message: 'signal "hiring:2026/11/01" needs a date as YYYY-MM-DD',
    });
    // An impossible calendar day is refused too, not rolled over to March.
    expect(p.errors[1]).toEqual({
      line: 3,
      field: "signals",
      message: 'signal "hiring:2026-02-30" needs a date as YYYY-MM-DD',
    });
    expect(p.rows).toEqual([]);
  });
});

describe("parseCsv: domain from the contact's email", () => {
  it("derives the domain from a work email when there is no domain value", () => {
    const p = parse(csv("Email,First Name", "Ann@Sub.Acme.COM,Ann"));
    expect(accounts(p)).toEqual([
      { domain: "sub.acme.com", contacts: [{ email: "ann@sub.acme.com", firstName: "Ann" }] },
    ]);
  });

  it("uses the email when the domain column is empty on that row", () => {
    const p = parse(csv("Website,Email", "acme.com,a@other.io", ",b@beta.io"));
    expect(accounts(p).map((a) => a.domain)).toEqual(["acme.com", "beta.io"]);
  });

  it("does not use free-mail domains", () => {
    const p = parse(csv("Email", "bob@gmail.com", "eve@Outlook.com", "joe@proton.me", "ann@acme.com"));
    expect(p.errors).toEqual(
      [2, 3, 4].map((line) => ({ line, field: "domain", message: "domain or website is required" })),
    );
    expect(accounts(p)).toEqual([{ domain: "acme.com", contacts: [{ email: "ann@acme.com" }] }]);
  });

  it("does not fall back to the email when the domain value is bad", () => {
    const p = parse(csv("Website,Email", "not a domain,ann@acme.com"));
    expect(p.errors).toEqual([{ line: 2, field: "domain", message: '"not a domain" is not a domain or website' }]);
  });
});

describe("parseCsv: file-level errors", () => {
  it("empty file", () => {
    for (const text of ["", "\n\n", "\uFEFF"]) {
      const e = fileError(() => parse(text));
      expect(e.status).toBe(400);
      expect(e.message).toMatch(/empty/);
    }
  });

  it("header only", () => {
    const e = fileError(() => parse("Website,Company\n"));
    expect(e).toMatchObject({ status: 422, line: 1 });
    expect(e.message).toMatch(/no data rows/);
  });

  it("no domain or email column", () => {
    const e = fileError(() => parse(csv("Company,Employees", "Acme,10")));
    expect(e).toMatchObject({ status: 422, line: 1 });
    expect(e.message).toMatch(/no domain column/);
    expect(e.message).toContain("found: Company, Employees");
  });

  it("an email column alone is enough", () => {
    expect(parse(csv("Work Email", "a@acme.com")).rows).toHaveLength(1);
  });

  it("unclosed quote", () => {
    const e = fileError(() => parse(csv("Website,Company", "acme.com,Acme", 'beta.io,"Beta')));
    expect(e.status).toBe(400);
    expect(e.message).toMatch(/^CSV could not be parsed/);
    expect(e.line).toBe(3);
  });

  it("is an Error with a message", () => {
    const e = fileError(() => parse(""));
    expect(e).toBeInstanceOf(Error);
    expect(e.line).toBeUndefined();
  });
});

describe("parseAmount", () => {
  it.each([
    ["1,200", 1200],
    ["1,234,567", 1_234_567],
    ["10k", 10_000],
    ["10K", 10_000],
    ["$2.5M", 2_500_000],
    ["€3m", 3_000_000],
    ["£1.5b", 1_500_000_000],
    ["100 USD", 100],
    ["EUR 7", 7],
    ["10 000", 10_000],
    [".5k", 500],
    ["0", 0],
    ["42", 42],
    ["3.75", 3.75],
    ["51-200", 126],
    ["1-10", 6],
    ["10k-20k", 15_000],
    ["1,000-5,000", 3000],
    ["1000+", 1000],
    ["10k+", 10_000],
    ["  250  ", 250],
  ])("%j -> %d", (raw, want) => {
    expect(parseAmount(raw)).toBe(want);
  });

  it.each([
    ["garbage"],
    [""],
    ["   "],
    ["$"],
    ["-5"],
    ["5-"],
    ["1e3"],
    ["1,2"],
    ["1.2.3"],
    ["10x"],
    ["k"],
    ["abc-200"],
    ["N/A"],
  ])("%j -> undefined", (raw) => {
    expect(parseAmount(raw)).toBeUndefined();
  });

  it("reads back any non-negative integer, with or without thousands separators and suffix", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 1e12 }), (n) => {
        expect(parseAmount(String(n))).toBe(n);
        expect(parseAmount(n.toLocaleString("en-US"))).toBe(n);
        expect(parseAmount(`$${n}`)).toBe(n);
        expect(parseAmount(`${n}+`)).toBe(n);
        expect(parseAmount(`${n}k`)).toBe(n * 1000);
      }),
    );
  });

  it("a range is the rounded midpoint of its ends", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 1e9 }), fc.integer({ min: 0, max: 1e9 }), (a, b) => {
        expect(parseAmount(`${a}-${b}`)).toBe(Math.round((a + b) / 2));
      }),
    );
  });
});

describe("parseSignals", () => {
  it("reads type:date[:detail] separated by ; or |", () => {
    expect(parseSignals("funding:2026-10-01:5000000; hiring:2026-11-02:VP Sales | site_visit:2026-11-03", NOW)).toEqual(
      [
        { type: "funding", at: "2026-10-01", amount: 5_000_000 },
        { type: "hiring", at: "2026-11-02", detail: "VP Sales" },
        { type: "site_visit", at: "2026-11-03" },
      ],
    );
  });

  it("normalizes type spelling", () => {
    expect(
      parseSignals("New Sales Leader:2026-01-01;SITE-VISIT:2026-01-02; content download :2026-01-03", NOW),
    ).toEqual([
      { type: "new_sales_leader", at: "2026-01-01" },
      { type: "site_visit", at: "2026-01-02" },
      { type: "content_download", at: "2026-01-03" },
    ]);
  });

  it("dates a signal without a date on the upload day", () => {
    expect(parseSignals("hiring", NOW)).toEqual([{ type: "hiring", at: "2026-11-20" }]);
    expect(parseSignals("hiring: :detail", NOW)).toEqual([{ type: "hiring", at: "2026-11-20", detail: "detail" }]);
  });

  it("funding amounts become amount; other details stay text (colons included)", () => {
    expect(parseSignals("funding:2026-01-01:$2.5M", NOW)).toEqual([
      { type: "funding", at: "2026-01-01", amount: 2_500_000 },
    ]);
    expect(parseSignals("funding:2026-01-01:Series A", NOW)).toEqual([
      { type: "funding", at: "2026-01-01", detail: "Series A" },
    ]);
    expect(parseSignals("hiring:2026-01-01:5000", NOW)).toEqual([{ type: "hiring", at: "2026-01-01", detail: "5000" }]);
    expect(parseSignals("custom:2026-01-01:see https://x.io", NOW)).toEqual([
      { type: "custom", at: "2026-01-01", detail: "see https://x.io" },
    ]);
  });

  it("cuts details at 500 characters", () => {
    const r = parseSignals(`custom:2026-01-01:${"x".repeat(600)}`, NOW);
    expect(Array.isArray(r) && r[0]?.detail?.length).toBe(500);
  });

  it("skips empty parts", () => {
    expect(parseSignals(" ; | ;hiring:2026-01-01;", NOW)).toEqual([{ type: "hiring", at: "2026-01-01" }]);
    expect(parseSignals("", NOW)).toEqual([]);
  });

  it("returns a message for an unknown type or a bad date", () => {
    expect(parseSignals("hiring:2026-01-01; webinar:2026-01-01", NOW)).toBe(
      'unknown signal type "webinar" ' +
        "(use funding, hiring, new_sales_leader, site_visit, content_download, tool_change, custom)",
    );
    expect(parseSignals("hiring:01/02/2026", NOW)).toBe('signal "hiring:01/02/2026" needs a date as YYYY-MM-DD');
    expect(parseSignals("hiring:2026-1-2", NOW)).toBe('signal "hiring:2026-1-2" needs a date as YYYY-MM-DD');
    expect(parseSignals("hiring:2026-13-45", NOW)).toBe('signal "hiring:2026-13-45" needs a date as YYYY-MM-DD');
  });
});

describe("rowToAccount", () => {
  it("returns the row with its line, or errors carrying the line", () => {
    expect(rowToAccount({ domain: "acme.com", name: " Acme " }, 7, NOW)).toEqual({
      line: 7,
      account: { domain: "acme.com", name: "Acme" },
    });
    expect(rowToAccount({ domain: "acme.com", employees: "20000000" }, 9, NOW)).toEqual([
      { line: 9, field: "employees", message: expect.any(String) },
    ]);
  });
});

describe("mergeByDomain", () => {
  const rows = accounts(
    parse(
      csv(
        "Website,Company,Employees,Technologies,Signals,Email,First Name,Title",
        "acme.com,Acme,10,HubSpot;Slack,hiring:2026-10-01,a@acme.com,Ann,CEO",
        "beta.io,Beta,5,,,,,",
        "https://www.acme.com,,20,Slack|Notion,hiring:2026-10-01;funding:2026-11-01,b@acme.com,Bob,",
        "acme.com,Acme Inc,,,,A@acme.com,,Founder",
      ),
    ),
  );

  it("merges rows of the same domain into the first one, keeping its line", () => {
    const parsed = parse(
      csv(
        "Website,Company,Employees,Technologies,Signals,Email,First Name,Title",
        "acme.com,Acme,10,HubSpot;Slack,hiring:2026-10-01,a@acme.com,Ann,CEO",
        "beta.io,Beta,5,,,,,",
        "https://www.acme.com,,20,Slack|Notion,hiring:2026-10-01;funding:2026-11-01,b@acme.com,Bob,",
        "acme.com,Acme Inc,,,,A@acme.com,,Founder",
      ),
    );
    const merged = mergeByDomain(parsed.rows);
    expect(merged.map((r) => [r.line, r.account.domain])).toEqual([
      [2, "acme.com"],
      [3, "beta.io"],
    ]);
    expect(merged[0]?.account).toEqual({
      domain: "acme.com",
      name: "Acme Inc", // later non-empty wins
      employees: 20, // later non-empty wins, a later empty cell does not erase it
      technologies: ["HubSpot", "Slack", "Notion"],
      signals: [
        { type: "hiring", at: "2026-10-01" },
        { type: "funding", at: "2026-11-01" },
      ],
      contacts: [
        { email: "a@acme.com", firstName: "Ann", title: "Founder" },
        { email: "b@acme.com", firstName: "Bob" },
      ],
    });
    expect(merged[1]?.account).toEqual(rows[1]);
  });

  it("is the identity on rows with distinct domains", () => {
    const distinct: ImportRow[] = [
      { line: 2, account: { domain: "a.com" } },
      { line: 3, account: { domain: "b.com", employees: 3 } },
    ];
    expect(mergeByDomain(distinct)).toEqual(distinct);
    expect(mergeByDomain([])).toEqual([]);
  });

  it("property: one row per domain, in first-seen order, with the first line and every technology", () => {
    const rowArb = fc.record({
      domain: fc.constantFrom("a.com", "b.com", "c.com"),
      employees: fc.option(fc.integer({ min: 0, max: 1000 }), { nil: undefined }),
      technologies: fc.option(fc.subarray(["x", "y", "z", "w"]), { nil: undefined }),
    });
    fc.assert(
      fc.property(fc.array(rowArb, { maxLength: 12 }), (raw) => {
        const input: ImportRow[] = raw.map((a, i) => ({
          line: i + 2,
          account: Object.fromEntries(Object.entries(a).filter(([, v]) => v !== undefined)) as unknown as AccountInput,
        }));
        const out = mergeByDomain(input);
        const firstSeen = [...new Set(input.map((r) => r.account.domain))];
        expect(out.map((r) => r.account.domain)).toEqual(firstSeen);
        for (const r of out) {
          const same = input.filter((x) => x.account.domain === r.account.domain);
          expect(r.line).toBe(same[0]?.line);
          const techs = new Set(same.flatMap((x) => x.account.technologies ?? []));
          expect(new Set(r.account.technologies ?? [])).toEqual(techs);
          const lastEmployees = same
            .map((x) => x.account.employees)
            .filter((e) => e !== undefined)
            .at(-1);
          expect(r.account.employees).toBe(lastEmployees);
        }
      }),
    );
  });
});

describe("mergeAccounts / mergeContacts / mergeSignals", () => {
  it("newer fields win, lists accumulate without duplicates", () => {
    const older: AccountInput = {
      domain: "a.com",
      name: "Old",
      industry: "SaaS",
      technologies: ["A", "B"],
      signals: [{ type: "hiring", at: "2026-01-01" }],
    };
    const newer: AccountInput = { domain: "a.com", name: "New", technologies: ["B", "C"], employees: 3 };
    expect(mergeAccounts(older, newer)).toEqual({
      domain: "a.com",
      name: "New",
      industry: "SaaS",
      employees: 3,
      technologies: ["A", "B", "C"],
      signals: [{ type: "hiring", at: "2026-01-01" }],
    });
    // Inputs are left alone.
    expect(older.technologies).toEqual(["A", "B"]);
    expect(newer.technologies).toEqual(["B", "C"]);
  });

  it("contacts are merged by email, then LinkedIn URL, then name", () => {
    const a: Contact[] = [
      { email: "ann@a.com", title: "CEO" },
      { linkedinUrl: "https://linkedin.com/in/bob", firstName: "Bob" },
      { firstName: "Cy", lastName: "Doe" },
    ];
    const b: Contact[] = [
      { email: "ann@a.com", firstName: "Ann" },
      { linkedinUrl: "https://linkedin.com/in/bob", title: "CTO" },
      { firstName: "cy", lastName: "DOE", title: "COO" },
      { email: "new@a.com" },
    ];
    expect(mergeContacts(a, b)).toEqual([
      { email: "ann@a.com", title: "CEO", firstName: "Ann" },
      { linkedinUrl: "https://linkedin.com/in/bob", firstName: "Bob", title: "CTO" },
      { firstName: "cy", lastName: "DOE", title: "COO" },
      { email: "new@a.com" },
    ]);
    expect(mergeContacts()).toEqual([]);
  });

  it("signals are deduplicated by type, date and detail", () => {
    const a: Signal[] = [
      { type: "hiring", at: "2026-01-01" },
      { type: "funding", at: "2026-01-01", amount: 1 },
    ];
    const b: Signal[] = [
      { type: "hiring", at: "2026-01-01" },
      { type: "hiring", at: "2026-01-01", detail: "SDR" },
      { type: "funding", at: "2026-01-01", amount: 2 },
    ];
    expect(mergeSignals(a, b)).toEqual([
      { type: "hiring", at: "2026-01-01" },
      { type: "funding", at: "2026-01-01", amount: 2 },
      { type: "hiring", at: "2026-01-01", detail: "SDR" },
    ]);
  });
});

describe("parseJsonAccounts", () => {
  it("reads our field names and the CSV aliases", () => {
    const p = parseJsonAccounts(
      [
        {
          domain: "https://www.acme.com",
          name: "Acme",
          employees: 120,
          revenue: "$2M",
          growthStage: "Growth",
          techMaturity: "HIGH",
          technologies: ["HubSpot", "Slack"],
          signals: [{ type: "hiring", at: "2026-11-01" }],
          contact: { email: "A@acme.com", firstName: "Ann" },
          contacts: [{ firstName: "Bo" }],
          notes: { ignored: true },
        },
        {
          Website: "beta.io",
          "# Employees": "51-200",
          "Annual Revenue": 5000,
          Technologies: "a; b",
          Signals: "funding:2026-01-01:1M",
          "Work Email": "x@beta.io",
          "First Name": "X",
          linkedinUrl: "https://www.linkedin.com/in/x",
        },
      ],
      NOW,
    );
    expect(p.errors).toEqual([]);
    expect(p.total).toBe(2);
    expect(p.rows).toEqual([
      {
        line: 1,
        account: {
          domain: "acme.com",
          name: "Acme",
          employees: 120,
          revenue: 2_000_000,
          growthStage: "growth",
          techMaturity: "high",
          technologies: ["HubSpot", "Slack"],
          signals: [{ type: "hiring", at: "2026-11-01" }],
          contacts: [{ email: "a@acme.com", firstName: "Ann" }, { firstName: "Bo" }],
        },
      },
      {
        line: 2,
        account: {
          domain: "beta.io",
          employees: 126,
          revenue: 5000,
          technologies: ["a", "b"],
          signals: [{ type: "funding", at: "2026-01-01", amount: 1_000_000 }],
          contacts: [{ email: "x@beta.io", firstName: "X", linkedinUrl: "https://www.linkedin.com/in/x" }],
        },
      },
    ]);
  });

  it("reports non-object rows and bad values by position (1-based) without rejecting the rest", () => {
    const p = parseJsonAccounts(
      [
        null,
        5,
        "acme.com",
        ["acme.com"],
        { domain: { host: "acme.com" } },
        { name: true, domain: "a.com" },
        { email: "bob@gmail.com" },
        { domain: "c.com", signals: "webinar" },
        { domain: "d.com", contacts: { email: "d@d.com" } },
        { domain: "e.com", contacts: [{ email: "nope" }] },
        { domain: "f.com", signals: [{ type: "hiring", at: "yesterday" }] },
      ],
      NOW,
    );
    expect(p.total).toBe(11);
    expect(p.rows).toEqual([{ line: 9, account: { domain: "d.com", contacts: [{ email: "d@d.com" }] } }]);
    expect(p.errors).toEqual([
      { line: 1, field: "row", message: "expected an object" },
      { line: 2, field: "row", message: "expected an object" },
      { line: 3, field: "row", message: "expected an object" },
      { line: 4, field: "row", message: "expected an object" },
      { line: 5, field: "domain", message: "expected text or a number" },
      { line: 6, field: "name", message: "expected text or a number" },
      { line: 7, field: "domain", message: "domain or website is required" },
      { line: 8, field: "signals", message: expect.stringMatching(/unknown signal type "webinar"/) },
      { line: 10, field: "email", message: expect.any(String) },
      { line: 11, field: "signals.0.at", message: expect.any(String) },
    ]);
  });

  it("rejects an empty list and more than MAX_IMPORT_ROWS accounts", () => {
    expect(fileError(() => parseJsonAccounts([], NOW))).toMatchObject({ status: 422 });
    const tooMany = new Array<unknown>(MAX_IMPORT_ROWS + 1).fill({ domain: "a.com" });
    const e = fileError(() => parseJsonAccounts(tooMany, NOW));
    expect(e.status).toBe(413);
    expect(e.message).toContain(String(MAX_IMPORT_ROWS));
  });
});

describe("demoAccountsCsv", () => {
  it("is deterministic and parses without errors", () => {
    const text = demoAccountsCsv(40);
    expect(demoAccountsCsv(40)).toBe(text);
    expect(demoAccountsCsv(40, 7)).not.toBe(text);
    const p = parse(text);
    expect(p.errors).toEqual([]);
    expect(p.total).toBe(40);
    expect(new Set(p.rows.map((r) => r.account.domain)).size).toBe(40);
    for (const r of p.rows) {
      expect(r.account.domain).toMatch(/^[a-z]+\d+\.example\.com$/);
      expect(r.account.contacts).toHaveLength(1);
      expect(r.account.contacts?.[0]?.email?.endsWith(`@${r.account.domain}`)).toBe(true);
    }
  });
});

// ---------------------------------------------------------------------------------------------
// Round trip: random valid accounts rendered as CSV (random aliases, column order, quoting) parse back equal.

const word = fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9 &'.,"-]{0,18}[A-Za-z0-9]$/).filter((s) => !/ {2}/.test(s));
const tokenArb = fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9 .+#-]{0,10}[A-Za-z0-9+#]$/);
const labelArb = fc.stringMatching(/^[a-z0-9]([a-z0-9-]{0,8}[a-z0-9])?$/).filter((l) => !/^www\d*$/.test(l));
const domainArb = fc
  .tuple(fc.array(labelArb, { minLength: 1, maxLength: 2 }), fc.stringMatching(/^[a-z]{2,5}$/))
  .map(([ls, tld]) => [...ls, tld].join("."));
const dateArb = fc
  .date({ min: new Date("2000-01-01T00:00:00Z"), max: new Date("2030-12-31T00:00:00Z"), noInvalidDate: true })
  .map((d) => d.toISOString().slice(0, 10));

const signalArb: fc.Arbitrary<Signal> = fc.oneof(
  fc.record(
    { type: fc.constant("funding" as const), at: dateArb, amount: fc.integer({ min: 0, max: 1e10 }) },
    { requiredKeys: ["type", "at"] },
  ),
  fc.record(
    {
      type: fc.constantFrom("hiring", "new_sales_leader", "site_visit", "content_download", "tool_change", "custom"),
      at: dateArb,
      detail: fc.stringMatching(/^[A-Za-z][A-Za-z0-9 :.]{0,20}[A-Za-z0-9]$/),
    },
    { requiredKeys: ["type", "at"] },
  ),
);

const contactArb = fc.record(
  {
    email: fc.stringMatching(/^[a-z0-9]{1,8}([._-][a-z0-9]{1,8})?$/),
    firstName: word,
    lastName: word,
    title: word,
    linkedinUrl: fc.stringMatching(/^[a-z0-9-]{1,20}$/).map((s) => `https://www.linkedin.com/in/${s}`),
  },
  { requiredKeys: [] },
);

const accountArb: fc.Arbitrary<AccountInput> = fc
  .record(
    {
      domain: domainArb,
      name: word,
      industry: word,
      employees: fc.integer({ min: 0, max: 10_000_000 }),
      revenue: fc.integer({ min: 0, max: 1e12 }),
      country: word,
      growthStage: fc.constantFrom("seed", "early", "growth", "scale", "mature", "enterprise"),
      technologies: fc.uniqueArray(tokenArb, { minLength: 1, maxLength: 5 }),
      techMaturity: fc.constantFrom("low", "medium", "high"),
      signals: fc.array(signalArb, { minLength: 1, maxLength: 3 }),
      contact: contactArb,
    },
    { requiredKeys: ["domain"] },
  )
  .map(({ contact, ...a }) => {
    const account: AccountInput = { ...a };
    if (contact && Object.keys(contact).length) {
      const c = { ...contact };
      if (c.email) c.email = `${c.email}@${a.domain}`;
      account.contacts = [c];
    }
    return account;
  });

type Style = { upper: boolean; commas: boolean; url: number; types: number };
const styleArb: fc.Arbitrary<Style> = fc.record({
  upper: fc.boolean(),
  commas: fc.boolean(),
  url: fc.integer({ min: 0, max: 2 }),
  types: fc.integer({ min: 0, max: 2 }),
});

const quote = (v: string) => (/[",\n]/.test(v) || v.startsWith(" ") ? `"${v.replace(/"/g, '""')}"` : v);
const typeText = (t: string, style: number) =>
  style === 0 ? t : style === 1 ? t.toUpperCase() : t.replace(/_/g, " ").replace(/\b\w/g, (c) => c.toUpperCase());

function cell(a: AccountInput, field: ImportField, s: Style): string {
  const c = a.contacts?.[0];
  const num = (n: number) => (s.commas ? n.toLocaleString("en-US") : String(n));
  switch (field) {
    case "domain":
      return [a.domain, `https://www.${a.domain}/about?x=1`, `HTTP://${a.domain.toUpperCase()}:8080`][s.url] ?? "";
    case "employees":
    case "revenue":
      return a[field] === undefined ? "" : num(a[field]);
    case "growthStage":
    case "techMaturity":
      return a[field] === undefined ? "" : s.upper ? a[field].toUpperCase() : a[field];
    case "technologies":
      return (a.technologies ?? []).join(s.commas ? ", " : "; ");
    case "signals":
      return (a.signals ?? [])
        .map((g) => {
          const extra = g.amount !== undefined ? `:${g.amount}` : g.detail !== undefined ? `:${g.detail}` : "";
          return `${typeText(g.type, s.types)}:${g.at}${extra}`;
        })
        .join(s.commas ? " | " : "; ");
    case "email":
      return c?.email ? (s.upper ? c.email.toUpperCase() : c.email) : "";
    case "firstName":
    case "lastName":
    case "title":
    case "linkedinUrl":
      return c?.[field] ?? "";
    default:
      return a[field] ?? "";
  }
}

describe("CSV round trip (property)", () => {
  it("random accounts rendered to CSV parse back equal", () => {
    const headerArb = fc
      .tuple(
        fc.shuffledSubarray([...IMPORT_FIELDS], { minLength: IMPORT_FIELDS.length }),
        fc.array(fc.nat(), { minLength: IMPORT_FIELDS.length, maxLength: IMPORT_FIELDS.length }),
        fc.constantFrom<(h: string) => string>(
          (h) => h,
          (h) => h.toUpperCase(),
          (h) => h.replace(/ /g, "_"),
          (h) => h.replace(/\b\w/g, (c) => c.toUpperCase()),
        ),
      )
      .map(([fields, picks, style]) =>
        fields.map((f, i) => {
          const aliases = aliasesOf(f);
          return { field: f, header: style(aliases[(picks[i] ?? 0) % aliases.length] ?? f) };
        }),
      );
    fc.assert(
      fc.property(
        fc.array(fc.tuple(accountArb, styleArb), { minLength: 1, maxLength: 4 }),
        headerArb,
        (rows, columns) => {
          const lines = [columns.map((c) => quote(c.header)).join(",")];
          for (const [a, s] of rows) lines.push(columns.map((c) => quote(cell(a, c.field, s))).join(","));
          const p = parseCsv(`${lines.join("\r\n")}\r\n`, NOW);
          expect(p.errors).toEqual([]);
          expect(p.total).toBe(rows.length);
          expect(p.rows.map((r) => r.line)).toEqual(rows.map((_, i) => i + 2));
          expect(accounts(p)).toEqual(rows.map(([a]) => a));
        },
      ),
      { numRuns: 60 },
    );
  });

  it("the same accounts sent as JSON objects parse back equal", () => {
    fc.assert(
      fc.property(fc.array(accountArb, { minLength: 1, maxLength: 5 }), (list) => {
        const p = parseJsonAccounts(structuredClone(list), NOW);
        expect(p.errors).toEqual([]);
        expect(accounts(p)).toEqual(list);
      }),
      { numRuns: 50 },
    );
  });
});
