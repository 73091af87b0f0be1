import { backoffDelay, retry } from "@icp/store";
import fc from "fast-check";
import { describe, expect, it } from "vitest";

const quick = { baseMs: 1, capMs: 2 };

describe("retry: one backoff loop for every retrying site", () => {
  it("calls fn at most `attempts` times, then rethrows the last failure", async () => {
    let calls = 0;
    const run = retry(
      async (attempt) => {
        calls++;
        throw new Error(`failure ${attempt}`);
      },
      { ...quick, attempts: 4 },
    );
    await expect(run).rejects.toThrow("failure 3");
    expect(calls).toBe(4);
  });

  it("stops at once when retryIf says no", async () => {
    let calls = 0;
    const gone = Object.assign(new Error("gone"), { name: "ValidationException" });
    const run = retry(
      async () => {
        calls++;
        throw gone;
      },
      { ...quick, attempts: 10, retryIf: (e) => (e as Error).name === "TransactionConflictException" },
    );
    await expect(run).rejects.toBe(gone);
    expect(calls).toBe(1);
  });

  it("returns the first success, passing the attempt number", async () => {
    const seen: number[] = [];
    const out = await retry(
      async (attempt) => {
        seen.push(attempt);
        if (attempt < 2) throw new Error("busy");
        return "ok";
      },
      { ...quick, attempts: 5 },
    );
    expect(out).toBe("ok");
    expect(seen).toEqual([0, 1, 2]);
  });
});

describe("backoffDelay", () => {
  const params = fc.record({
    n: fc.integer({ min: 1, max: 40 }),
    baseMs: fc.integer({ min: 1, max: 1000 }),
    capMs: fc.integer({ min: 1, max: 60_000 }),
  });

  it("full jitter stays within [0, min(cap, base·2ⁿ)]", () => {
    fc.assert(
      fc.property(params, ({ n, baseMs, capMs }) => {
        const d = backoffDelay(n, { baseMs, capMs });
        return d >= 0 && d <= Math.min(capMs, baseMs * 2 ** n);
      }),
    );
  });

  it("equal jitter stays in the upper half; none is the ceiling; linear grows by base", () => {
    fc.assert(
      fc.property(params, ({ n, baseMs, capMs }) => {
        const ceiling = Math.min(capMs, baseMs * 2 ** n);
        const equal = backoffDelay(n, { baseMs, capMs, jitter: "equal" });
        const linear = backoffDelay(n, { baseMs, capMs, growth: "linear" });
        return (
          equal >= ceiling / 2 &&
          equal <= ceiling &&
          backoffDelay(n, { baseMs, capMs, jitter: "none" }) === ceiling &&
          linear >= 0 &&
          linear <= Math.min(capMs, baseMs * n)
        );
      }),
    );
  });
});
