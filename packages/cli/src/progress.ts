import type { WriteStream } from "node:tty";

type Out = NodeJS.WritableStream & Partial<Pick<WriteStream, "isTTY" | "columns">>;

/** Non-TTY output (CI logs, `2>file`) gets a plain line at most this often instead of a redrawn bar, */
const LOG_EVERY_MS = 5_000;
/** and, while nothing moves (a busy queue), only this often, to show it is still alive. */
const STALLED_LOG_MS = 30_000;

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return "--";
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}m`;
}

/** Rows done/total with rate and ETA on stderr, so stdout stays clean for the summary. */
export class Progress {
  private readonly started = Date.now();
  private lastLog = 0;
  private loggedDone = -1;
  private firstDone: number | undefined;
  private drawn = false;

  constructor(
    private readonly out: Out = process.stderr,
    private readonly label = "importing",
  ) {}

  update(done: number, total: number): void {
    // Rate from the first report on: rows rejected at upload are "done" before any work happens.
    this.firstDone ??= done;
    const elapsed = (Date.now() - this.started) / 1000;
    const rate = elapsed > 0 ? (done - this.firstDone) / elapsed : 0;
    const eta = rate > 0 ? (total - done) / rate : Number.POSITIVE_INFINITY;
    const pct = total > 0 ? Math.min(1, done / total) : 0;
    const n = (x: number) => x.toLocaleString("en-US");
    const etaText = done >= total ? "0s" : formatDuration(eta);
    const stats = `${n(done)}/${n(total)} rows  ${n(Math.round(rate))} rows/s  ETA ${etaText}`;
    if (this.out.isTTY) {
      const width = Math.max(10, Math.min(40, (this.out.columns ?? 80) - stats.length - this.label.length - 12));
      const fill = Math.round(pct * width);
      const bar = `${"█".repeat(fill)}${"░".repeat(width - fill)}`;
      this.out.write(`\r\x1b[2K${this.label} ${bar} ${String(Math.floor(pct * 100)).padStart(3)}%  ${stats}`);
      this.drawn = true;
    } else if (this.shouldLog(done, total)) {
      this.lastLog = Date.now();
      this.loggedDone = done;
      this.out.write(`${this.label}: ${Math.floor(pct * 100)}%  ${stats}\n`);
    }
  }

  private shouldLog(done: number, total: number): boolean {
    const since = Date.now() - this.lastLog;
    if (done === this.loggedDone) return since >= STALLED_LOG_MS;
    return done >= total || since >= LOG_EVERY_MS;
  }

  /** Ends the redrawn line so later output starts on a fresh one. */
  done(): void {
    if (this.drawn) this.out.write("\n");
    this.drawn = false;
  }
}
