import { slots } from "@icp/store";
import { describe, expect, it } from "vitest";

const tick = () => new Promise((r) => setTimeout(r, 1));

describe("slots: a per-process bound on requests in flight", () => {
  it("never runs more than n at once, and runs every job", async () => {
    const inSlot = slots(3);
    let running = 0;
    let peak = 0;
    const done: number[] = [];
    await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        inSlot(async () => {
          running++;
          peak = Math.max(peak, running);
          for (let k = 0; k < (i % 4) + 1; k++) await tick();
          running--;
          done.push(i);
          return i;
        }),
      ),
    );
    expect(peak).toBe(3);
    expect(done.sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, i) => i));
  });

  it("hands slots out in arrival order and frees the slot of a job that fails", async () => {
    const inSlot = slots(1);
    const started: string[] = [];
    const job = (name: string, fail = false) =>
      inSlot(async () => {
        started.push(name);
        await tick();
        if (fail) throw new Error(name);
        return name;
      });
    const results = await Promise.allSettled([job("a", true), job("b"), job("c", true), job("d")]);
    expect(started).toEqual(["a", "b", "c", "d"]);
    expect(results.map((r) => r.status)).toEqual(["rejected", "fulfilled", "rejected", "fulfilled"]);
    expect(await job("e")).toBe("e"); // the failures gave their slot back
  });
});
