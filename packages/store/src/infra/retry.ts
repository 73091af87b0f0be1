/**
 * The one backoff formula and retry loop of the repo (no imports: the CLI loads it on its own
 * through `@icp/store/retry`). Single SDK calls are not wrapped: the AWS SDK already retries
 * throttling (`maxAttempts` in clients.ts); this is for our own loops (unprocessed items,
 * optimistic writes on a contended item, polls of another holder's progress).
 */

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export type Backoff = {
  baseMs: number;
  capMs: number;
  /** The ceiling of retry n: base·2ⁿ (default), or base·n for short waits on a hot item. */
  growth?: "exponential" | "linear";
  /** full: uniform in [0, ceiling] (default, as AWS recommends); equal: [ceiling/2, ceiling]; none: the ceiling. */
  jitter?: "full" | "equal" | "none";
};

/** The wait before retry `n` (1 for the first retry): at most min(cap, base·2ⁿ). */
export function backoffDelay(n: number, b: Backoff): number {
  const ceiling = Math.min(b.capMs, b.growth === "linear" ? b.baseMs * n : b.baseMs * 2 ** n);
  const jitter = b.jitter ?? "full";
  if (jitter === "none") return ceiling;
  if (jitter === "equal") return ceiling / 2 + (Math.random() * ceiling) / 2;
  return Math.random() * ceiling;
}

/** Wait before retry `n` of a loop that decides for itself what to retry (e.g. unprocessed items). */
export const backoff = (n: number, b: Backoff) => sleep(backoffDelay(n, b));

export type RetryOptions = Backoff & {
  /** Calls of `fn` at most, the first one included. */
  attempts: number;
  /** Whether this failure is worth another call (default: any); false rethrows it at once. */
  retryIf?: (err: unknown, attempt: number) => boolean;
};

/** Call `fn(attempt)` (attempt from 0) until it resolves; rethrows the last failure. */
export async function retry<T>(fn: (attempt: number) => Promise<T>, o: RetryOptions): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (err) {
      if (attempt + 1 >= o.attempts || (o.retryIf && !o.retryIf(err, attempt))) throw err;
      await backoff(attempt + 1, o);
    }
  }
}
