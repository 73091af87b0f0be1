/**
 * A bounded least-recently-used map with a time to live per entry: what an in-process cache
 * needs so that a flood of distinct keys (random API keys, many client addresses) can never
 * grow it past `capacity`. A Map keeps insertion order, so re-inserting on a hit makes the
 * first key the least recently used one.
 */
export class Lru<K, V> {
  private readonly entries = new Map<K, { value: V; until: number }>();

  constructor(readonly capacity: number) {}

  get size(): number {
    return this.entries.size;
  }

  /** The live value, refreshed as most recently used; undefined when absent or expired. */
  get(key: K, now = Date.now()): V | undefined {
    const e = this.entries.get(key);
    if (!e) return undefined;
    this.entries.delete(key);
    if (e.until <= now) return undefined;
    this.entries.set(key, e);
    return e.value;
  }

  set(key: K, value: V, ttlMs: number, now = Date.now()): void {
    this.entries.delete(key);
    this.entries.set(key, { value, until: now + ttlMs });
    while (this.entries.size > this.capacity) {
      const oldest = this.entries.keys().next();
      if (oldest.done) break;
      this.entries.delete(oldest.value);
    }
  }

  delete(key: K): void {
    this.entries.delete(key);
  }

  /** Remove every entry whose value matches (e.g. all verdicts about one revoked key). */
  deleteWhere(match: (value: V) => boolean): void {
    for (const [k, e] of this.entries) if (match(e.value)) this.entries.delete(k);
  }
}
