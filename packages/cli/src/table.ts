export type Cell = string | number | boolean | null | undefined;

const text = (c: Cell) => (c === null || c === undefined ? "" : String(c));

/**
 * Plain aligned columns (two spaces apart, numbers right-aligned) that stay readable in a
 * terminal, in a log and through `grep`/`awk`. Returns the lines joined, with a trailing newline.
 */
export function formatTable(headers: string[], rows: Cell[][], title?: string): string {
  const cells = rows.map((r) => headers.map((_, i) => text(r[i])));
  const numeric = headers.map((_, i) => rows.length > 0 && rows.every((r) => typeof r[i] === "number"));
  const widths = headers.map((h, i) => Math.max(h.length, ...cells.map((r) => (r[i] as string).length)));
  const line = (r: string[]) =>
    r
      .map((c, i) => (numeric[i] ? c.padStart(widths[i] ?? 0) : c.padEnd(widths[i] ?? 0)))
      .join("  ")
      .trimEnd();
  const out = [line(headers), line(widths.map((w) => "-".repeat(w))), ...cells.map(line)];
  return `${title ? `${title}\n` : ""}${out.join("\n")}\n`;
}
