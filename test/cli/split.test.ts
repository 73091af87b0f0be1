import { parseCsv } from "@icp/core";
import { describe, expect, it } from "vitest";
import { csvRecordEnds, formatTable, splitCsv, splitJson } from "../../packages/cli/src/index.js";

const buf = (s: string) => Buffer.from(s);
const text = (b: Uint8Array) => Buffer.from(b).toString("utf8");
const NOW = new Date("2026-11-20T00:00:00Z");

describe("splitCsv", () => {
  it("ends records at newlines outside quotes only", () => {
    const csv = 'a,b\n1,"x\ny"\n2,"he said ""hi""\n,"\n3,5" screen\n';
    expect(csvRecordEnds(buf(csv)).map((e) => csv.slice(0, e).split("\n").length - 1)).toEqual([1, 3, 5, 6]);
  });

  it("keeps a file within the limits as one part, byte for byte", () => {
    const csv = buf("Website,Company\nacme.com,Acme\nbeta.com,Beta");
    const parts = splitCsv(csv, { maxBytes: 1000, maxRows: 10 });
    expect(parts).toHaveLength(1);
    expect(text(parts[0]?.body ?? buf(""))).toBe(text(csv));
    expect(parts[0]?.rows).toBe(2);
  });

  it("splits by rows, repeats the header and maps part lines back to file lines", () => {
    const lines = ["Website,Company"];
    for (let i = 1; i <= 7; i++) lines.push(i === 5 ? `c${i}.com,"multi\nline C${i}"` : `c${i}.com,C${i}`);
    lines.splice(4, 0, ""); // a blank line counts as a line but not as a row
    const csv = `${lines.join("\n")}\n`;
    const parts = splitCsv(buf(csv), { maxBytes: 1e6, maxRows: 3 });
    expect(parts.map((p) => p.rows)).toEqual([3, 3, 1]);
    for (const p of parts) expect(text(p.body).startsWith("Website,Company\n")).toBe(true);
    // Every row's line in its part, shifted by lineOffset, is its line in the whole file.
    const whole = new Map(parseCsv(csv, NOW).rows.map((r) => [r.account.domain, r.line]));
    expect(whole.size).toBe(7);
    const mapped = parts.flatMap((p) =>
      parseCsv(text(p.body), NOW).rows.map((r) => [r.account.domain, r.line + p.lineOffset]),
    );
    expect(new Map(mapped as [string, number][])).toEqual(whole);
  });

  it("splits by bytes", () => {
    const sites = Array.from({ length: 100 }, (_, i) => `site${String(i).padStart(3, "0")}.com`);
    const csv = `Website\n${sites.join("\n")}\n`;
    const parts = splitCsv(buf(csv), { maxBytes: 200, maxRows: 1e6 });
    expect(parts.length).toBeGreaterThan(5);
    for (const p of parts) expect(p.body.length).toBeLessThanOrEqual(200);
    expect(parts.reduce((n, p) => n + p.rows, 0)).toBe(100);
  });
});

describe("splitJson", () => {
  it("splits the accounts array with positions as line offsets", () => {
    const accounts = Array.from({ length: 5 }, (_, i) => ({ domain: `j${i}.com` }));
    const parts = splitJson(buf(JSON.stringify({ accounts })), { maxBytes: 1e6, maxRows: 2 });
    expect(parts.map((p) => [p.rows, p.lineOffset])).toEqual([
      [2, 0],
      [2, 2],
      [1, 4],
    ]);
    expect(JSON.parse(text(parts[2]?.body ?? buf("")))).toEqual({ accounts: [{ domain: "j4.com" }] });
  });

  it("leaves a body of the wrong shape to the API", () => {
    expect(splitJson(buf('{"x":1}'), { maxBytes: 1, maxRows: 1 })).toHaveLength(1);
  });
});

describe("formatTable", () => {
  it("aligns columns and right-aligns numbers", () => {
    expect(
      formatTable(
        ["tier", "accounts"],
        [
          ["priority", 2],
          ["disqualified", 10],
        ],
      ),
    ).toBe("tier          accounts\n------------  --------\npriority             2\ndisqualified        10\n");
  });
});
