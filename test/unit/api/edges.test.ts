import { AdaptiveLimit, Lru, RateLimiter } from "@icp/api";
import fc from "fast-check";
import { describe, expect, it } from "vitest";

describe("Lru", () => {
  it("never holds more than its capacity, evicting the least recently used", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 20 }),
        fc.array(fc.integer({ min: 0, max: 50 }), { maxLength: 200 }),
        (cap, keys) => {
          const lru = new Lru<number, number>(cap);
          for (const k of keys) {
            lru.set(k, k, 60_000, 0);
            expect(lru.size).toBeLessThanOrEqual(cap);
            expect(lru.get(k, 0)).toBe(k);
          }
        },
      ),
    );
    const lru = new Lru<string, number>(2);
    lru.set("a", 1, 1000, 0);
    lru.set("b", 2, 1000, 0);
    lru.get("a", 0); // a is now the most recently used
    lru.set("c", 3, 1000, 0);
    expect([lru.get("a", 0), lru.get("b", 0), lru.get("c", 0)]).toEqual([1, undefined, 3]);
  });

  it("forgets entries at their time to live", () => {
    const lru = new Lru<string, string>(10);
    lru.set("k", "v", 1000, 0);
    expect(lru.get("k", 999)).toBe("v");
    expect(lru.get("k", 1000)).toBeUndefined();
    expect(lru.size).toBe(0);
  });
});

describe("RateLimiter", () => {
  it("serves `max` hits per window and key, then answers the seconds left in the window", () => {
    const rl = new RateLimiter({ max: 3, windowMs: 10_000 });
    expect([0, 1, 2].map(() => rl.hit("a", 0))).toEqual([0, 0, 0]);
    expect(rl.hit("a", 500)).toBe(10);
    expect(rl.retryAfter("a", 8_200)).toBe(2);
    expect(rl.hit("b", 500)).toBe(0); // another client is not affected
    expect(rl.hit("a", 10_000)).toBe(0); // a new window
  });
});

describe("AdaptiveLimit", () => {
  const options = { targetMs: 500, floor: 4, max: 100 };

  it("shrinks when every answer of a window is slow with many in flight, and refuses past the limit", () => {
    const limit = new AdaptiveLimit(options);
    expect(limit.admits(0)).toBe(true);
    const done = Array.from({ length: 40 }, () => limit.start(0));
    for (const d of done.slice(0, 5)) d(450); // quick answers: no queue yet
    expect(limit.admits(510)).toBe(true);
    expect(limit.current).toBe(100);
    for (const d of done.slice(5, 10)) d(900); // the next window: all slow (> 500 ms)
    expect(limit.admits(1020)).toBe(false); // 30 in flight
    expect(limit.current).toBe(28); // 35 in flight at the peak × 0.8
    for (const d of done.slice(10, 15)) d(1030);
    expect(limit.admits(1030)).toBe(true);
    const more = Array.from({ length: 3 }, () => limit.start(1030));
    expect(limit.admits(1030)).toBe(false);
    for (const d of [...more, ...done.slice(15)]) d(1040);
  });

  it("never shrinks for slow answers with few in flight (one big import is not overload)", () => {
    const limit = new AdaptiveLimit(options);
    for (let i = 0; i < 50; i++) {
      const held = Array.from({ length: options.floor }, () => limit.start(i * 5000));
      for (const d of held) d(i * 5000 + 4000);
      limit.admits(i * 5000 + 4001);
    }
    expect(limit.current).toBe(100);
  });

  it("a burst whose first answers come quickly is not a queue", () => {
    const limit = new AdaptiveLimit(options);
    limit.admits(0);
    const done = Array.from({ length: 50 }, () => limit.start(0));
    for (const [i, d] of done.entries()) d(100 + i * 20); // the last ones wait 1.1 s
    expect(limit.admits(1200)).toBe(true);
    expect(limit.current).toBe(100);
  });

  it("never refuses below the floor, and grows back within seconds once the queue is gone", () => {
    const limit = new AdaptiveLimit(options);
    let t = 0;
    limit.admits(t);
    for (let i = 0; i < 20; i++) {
      const done = Array.from({ length: 10 }, () => limit.start(t));
      t += 600;
      for (const d of done) d(t);
      limit.admits(t);
    }
    expect(limit.current).toBe(options.floor);
    const held = Array.from({ length: options.floor - 1 }, () => limit.start(t));
    expect(limit.admits(t)).toBe(true);
    for (const d of held) d(t + 10);
    expect(limit.admits(t + 10_000)).toBe(true);
    expect(limit.current).toBe(options.max);
  });
});
