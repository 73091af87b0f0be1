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
  const options = { targetMs: 1000, floor: 4, max: 100 };

  it("shrinks when answers are slow with many in flight, and refuses past the limit", () => {
    const limit = new AdaptiveLimit(options);
    const done = Array.from({ length: 40 }, () => limit.start(0));
    expect(limit.admits()).toBe(true);
    done[0]?.(3000); // slow while 40 were in flight
    expect(limit.current).toBe(32); // 40 in flight × 0.8
    done[1]?.(3100); // the same burst of slow answers counts once per target period
    expect(limit.current).toBe(32);
    for (const d of done.slice(2, 10)) d(3000);
    expect(limit.inFlight).toBe(30);
    expect(limit.admits()).toBe(true);
    const more = [limit.start(3000), limit.start(3000)];
    expect(limit.admits()).toBe(false);
    for (const d of more) d(3100);
  });

  it("never shrinks for slow answers with few in flight (one big import is not overload)", () => {
    const limit = new AdaptiveLimit(options);
    for (let i = 0; i < 50; i++) limit.start(i * 5000)(i * 5000 + 4000);
    expect(limit.current).toBe(100);
  });

  it("never refuses below the floor, and grows back while answers are fast", () => {
    const limit = new AdaptiveLimit(options);
    let t = 0;
    for (let i = 0; i < 20; i++) {
      const done = Array.from({ length: 10 }, () => limit.start(t));
      t += 2000;
      for (const d of done) d(t);
    }
    expect(limit.current).toBe(options.floor);
    const held = Array.from({ length: options.floor - 1 }, () => limit.start(t));
    expect(limit.admits()).toBe(true);
    for (const d of held) d(t + 10);
    for (let i = 0; i < 200; i++) {
      const done = Array.from({ length: limit.current }, () => limit.start(t));
      for (const d of done) d(t + 10);
    }
    expect(limit.current).toBe(options.max);
  });
});
