import { describe, expect, it } from "vitest";
import { classifyFile, corpusFiles, expectedResults } from "./corpus.js";

describe("inbound corpus (test/fixtures/mail)", () => {
  const files = corpusFiles();
  const expected = expectedResults();

  it("has an expected result for every fixture and a fixture for every expected result", () => {
    expect(files.map((f) => f.name)).toEqual(Object.keys(expected).sort());
  });

  it("covers every kind, the 7 out-of-office languages with and without a date, and each DSN source", () => {
    const names = files.map((f) => f.name);
    for (const lang of ["en", "fr", "de", "es", "it", "pt", "nl"]) {
      expect(
        names.some((n) => n.startsWith(`ooo-${lang}-`) && n.includes("-date")),
        lang,
      ).toBe(true);
      expect(
        names.some((n) => n.startsWith(`ooo-${lang}-`) && n.includes("nodate")),
        lang,
      ).toBe(true);
      expect(
        names.some((n) => n.startsWith(`unsubscribe-${lang}`)),
        lang,
      ).toBe(true);
    }
    for (const source of ["postfix", "exchange", "gmail", "ses"])
      expect(names).toContain(`dsn-${source}${source === "postfix" ? "-hard" : ""}.eml`);
    const kinds = new Set(Object.values(expected).map((e) => (e as { kind?: string }).kind));
    for (const kind of ["reply", "auto_reply", "bounce", "complaint", "unsubscribe", "unknown"])
      expect(kinds).toContain(kind);
  });

  for (const file of files) {
    it(`classifies ${file.name}`, async () => {
      expect(await classifyFile(file)).toEqual(expected[file.name]);
    });
  }
});
