import { randomUUID } from "node:crypto";
import { readFile } from "node:fs/promises";
import { basename, extname } from "node:path";
import { sleep } from "@icp/store/retry";
import { UsageError, type Values } from "../args.js";
import { ApiError, type Client } from "../client.js";
import { Progress } from "../progress.js";
import { limitsFromEnv, type Part, splitCsv, splitJson } from "../split.js";
import { formatTable } from "../table.js";
import { countByTier } from "./accounts.js";

export const importOptions = {
  "idempotency-key": { type: "string" },
  "no-wait": { type: "boolean" },
} as const;

type RowError = { line: number; field: string; message: string };
type Job = {
  id: string;
  status: "queued" | "processing" | "completed" | "failed";
  total: number;
  accepted: number;
  rejected: number;
  accounts: number;
  failure?: string;
  errors?: RowError[];
};

const POLL_MS = 300;
const SHOW_ERRORS = 20;
const CONTENT_TYPES: Record<string, string> = { ".csv": "text/csv", ".json": "application/json" };
const finished = (j: Job) => j.status === "completed" || j.status === "failed";
const mb = (n: number) => `${(n / 1024 / 1024).toFixed(1)} MB`;

export async function importCommand(client: Client, file: string, values: Values): Promise<number> {
  const contentType = CONTENT_TYPES[extname(file).toLowerCase()];
  if (!contentType) throw new UsageError(`cannot tell the format of "${file}": name it *.csv or *.json`);
  let buf: Buffer;
  try {
    buf = await readFile(file);
  } catch (e) {
    throw new UsageError(`cannot read ${file}: ${(e as Error).message}`);
  }
  const limits = limitsFromEnv();
  const parts = contentType === "text/csv" ? splitCsv(buf, limits) : splitJson(buf, limits);
  // Always send a key: a retried upload (network blip) is then a no-op instead of a duplicate import.
  const key = (values["idempotency-key"] as string | undefined) ?? `icp-cli-${randomUUID()}`;
  const jobs = await upload(client, parts, { contentType, key, filename: basename(file) });

  if (values["no-wait"]) {
    for (const j of jobs) process.stdout.write(`${j.id}  ${j.status}  ${j.total} rows\n`);
    return 0;
  }
  const done = await wait(client, jobs);
  await printErrors(client, done, parts);
  const failed = done.filter((j) => j.status === "failed");
  for (const j of failed) process.stderr.write(`error: import ${j.id} failed: ${j.failure ?? "no reason given"}\n`);
  await printSummary(client, done);
  return failed.length > 0 ? 1 : 0;
}

async function upload(client: Client, parts: Part[], o: { contentType: string; key: string; filename: string }) {
  const jobs: Job[] = [];
  for (const [i, part] of parts.entries()) {
    const n = i + 1;
    const many = parts.length > 1;
    if (many) process.stderr.write(`uploading part ${n}/${parts.length}: ${part.rows} rows, ${mb(part.body.length)}\n`);
    try {
      const job = await client.request<Job>("/v1/imports", {
        method: "POST",
        query: { filename: many ? `${o.filename} (part ${n} of ${parts.length})` : o.filename },
        body: part.body,
        contentType: o.contentType,
        headers: { "idempotency-key": many ? `${o.key}-part-${n}` : o.key },
        retry: true,
        timeoutMs: 300_000,
      });
      jobs.push(job);
    } catch (e) {
      if (!(e instanceof ApiError) || !many) throw e;
      // Name the part and give file line numbers; rerunning with the same key skips the parts already in.
      const errors = e.errors.map((x) => (x.line === undefined ? x : { ...x, line: x.line + part.lineOffset }));
      const uploaded = jobs.map((j) => j.id).join(", ") || "none";
      const detail = `part ${n}/${parts.length}: ${e.detail} (parts already uploaded: ${uploaded})`;
      throw new ApiError(e.status, detail, errors, e.type);
    }
  }
  return jobs;
}

/** Polls every unfinished part and draws one progress bar for all of them. */
async function wait(client: Client, jobs: Job[]): Promise<Job[]> {
  const progress = new Progress();
  const current = [...jobs];
  for (;;) {
    const total = current.reduce((s, j) => s + j.total, 0);
    progress.update(
      current.reduce((s, j) => s + Math.min(j.total, j.accepted + j.rejected), 0),
      total,
    );
    if (current.every(finished)) break;
    await sleep(POLL_MS);
    for (const [i, j] of current.entries()) {
      if (finished(j)) continue;
      current[i] = await client.request<Job>(`/v1/imports/${j.id}`, { query: { errorsLimit: 0 }, retry: true });
    }
  }
  progress.done();
  return current;
}

/** First rejected rows across parts, with line numbers of the original file. */
async function printErrors(client: Client, jobs: Job[], parts: Part[]): Promise<void> {
  const rejected = jobs.reduce((s, j) => s + j.rejected, 0);
  if (rejected === 0) return;
  const shown: RowError[] = [];
  for (const [i, j] of jobs.entries()) {
    if (shown.length >= SHOW_ERRORS) break;
    if (j.rejected === 0) continue;
    const page = await client.request<Job>(`/v1/imports/${j.id}`, {
      query: { errorsLimit: SHOW_ERRORS - shown.length },
      retry: true,
    });
    const offset = parts[i]?.lineOffset ?? 0;
    shown.push(...(page.errors ?? []).map((e) => ({ ...e, line: e.line + offset })));
  }
  process.stderr.write(`${rejected} row${rejected === 1 ? "" : "s"} rejected:\n`);
  // Quoted cells can hold newlines; keep one error per line of output.
  const flat = (s: string) => s.replace(/\r?\n/g, "\\n");
  for (const e of shown) process.stderr.write(`  line ${e.line}  ${e.field}: ${flat(e.message)}\n`);
  const lines = new Set(shown.map((e) => e.line)).size;
  if (rejected > lines)
    process.stderr.write(`  … and ${rejected - lines} more rejected rows (GET /v1/imports/{id} lists them)\n`);
}

async function printSummary(client: Client, jobs: Job[]): Promise<void> {
  const sum = (f: (j: Job) => number) => jobs.reduce((s, j) => s + f(j), 0);
  const ids = jobs.map((j) => j.id).join(", ");
  const [total, accepted, rejected] = [sum((j) => j.total), sum((j) => j.accepted), sum((j) => j.rejected)];
  const accounts = sum((j) => j.accounts);
  process.stdout.write(
    `import ${ids}: ${total} rows, ${accepted} accepted, ${rejected} rejected, ${accounts} accounts\n\n`,
  );
  const counts = await countByTier(client);
  const all = [...counts.values()].reduce((s, c) => s + c.accounts, 0);
  const rows = [...counts].map(([tier, c]) => [
    tier,
    c.accounts,
    all ? `${Math.round((c.accounts / all) * 100)}%` : "-",
  ]);
  rows.push(["total", all, all ? "100%" : "-"]);
  // Counted over the whole workspace: the API has no per-import account listing (yet).
  process.stdout.write(
    formatTable(["tier", "accounts", "share"], rows, "Accounts per tier (whole workspace, after this import)"),
  );
}
