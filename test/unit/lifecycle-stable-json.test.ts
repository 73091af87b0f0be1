import { isDeepStrictEqual } from "node:util";
import { stableJson } from "@icp/core";
import fc from "fast-check";
import { describe, expect, it } from "vitest";

/** The same value with every object's keys in reverse order, at every depth. */
function reverseKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(reverseKeys);
  if (value && typeof value === "object")
    return Object.fromEntries(
      Object.entries(value as Record<string, unknown>)
        .reverse()
        .map(([k, v]) => [k, reverseKeys(v)]),
    );
  return value;
}

/** Keys that are never array indices, so insertion order is the only order JavaScript keeps for them. */
const keyArb = fc.stringMatching(/^[a-zA-Z_][a-zA-Z0-9_]{0,5}$/);
const { tree } = fc.letrec<{ tree: unknown; node: unknown }>((tie) => ({
  tree: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    fc.oneof(fc.integer(), fc.string({ maxLength: 4 }), fc.boolean(), fc.constant(null)),
    tie("node"),
  ),
  node: fc.oneof(
    fc.dictionary(keyArb, tie("tree"), { maxKeys: 5, noNullPrototype: true }),
    fc.array(tie("tree"), { maxLength: 4 }),
  ),
}));

/** Every object's keys, in the order they appear in the parsed output. */
function keyOrders(value: unknown, out: string[][] = []): string[][] {
  if (Array.isArray(value)) for (const v of value) keyOrders(v, out);
  else if (value && typeof value === "object") {
    out.push(Object.keys(value));
    for (const v of Object.values(value)) keyOrders(v, out);
  }
  return out;
}

describe("stableJson", () => {
  it("gives the same string whatever order the keys came in", () => {
    expect(stableJson({ b: 1, a: 2 })).toBe(stableJson({ a: 2, b: 1 }));
    expect(stableJson({ b: 1, a: 2 })).toBe('{"a":2,"b":1}');
  });

  it("sorts the keys of nested objects, including objects inside arrays", () => {
    const value = { z: { y: 1, x: [{ d: 1, c: 2 }] }, a: null };
    expect(stableJson(value)).toBe('{"a":null,"z":{"x":[{"c":2,"d":1}],"y":1}}');
  });

  it("keeps array order", () => {
    expect(stableJson([1, 2, 3])).toBe("[1,2,3]");
    expect(stableJson([3, 2, 1])).not.toBe(stableJson([1, 2, 3]));
    expect(stableJson({ a: ["x", "y"] })).not.toBe(stableJson({ a: ["y", "x"] }));
  });

  it("sorts by code unit, upper case before lower case", () => {
    expect(stableJson({ b: 1, B: 2, a: 3, _: 4 })).toBe('{"B":2,"_":4,"a":3,"b":1}');
  });

  it("tells different values apart", () => {
    expect(stableJson({ a: 1 })).not.toBe(stableJson({ a: "1" }));
    expect(stableJson({ a: { b: 1 } })).not.toBe(stableJson({ a: { b: 2 } }));
    expect(stableJson({ a: 1 })).not.toBe(stableJson({ a: 1, b: 2 }));
  });

  it("drops undefined properties and serializes primitives like JSON", () => {
    expect(stableJson({ b: undefined, a: 1 })).toBe('{"a":1}');
    expect(stableJson({ a: 1 })).toBe(stableJson({ a: 1, b: undefined }));
    expect(stableJson("x")).toBe('"x"');
    expect(stableJson(null)).toBe("null");
    expect(stableJson(undefined)).toBeUndefined();
    expect(stableJson([undefined])).toBe("[null]");
  });

  it("does not change its input", () => {
    const value = { b: { d: 1, c: 2 }, a: [3] };
    stableJson(value);
    expect(Object.keys(value)).toEqual(["b", "a"]);
    expect(Object.keys(value.b)).toEqual(["d", "c"]);
  });

  it("is key-order independent for any JSON tree", () => {
    fc.assert(
      fc.property(tree, (v) => {
        expect(stableJson(reverseKeys(v))).toBe(stableJson(v));
      }),
      { numRuns: 150 },
    );
  });

  it("keeps the content and writes every object's keys sorted", () => {
    fc.assert(
      fc.property(tree, (v) => {
        const parsed: unknown = JSON.parse(stableJson(v));
        expect(parsed).toEqual(JSON.parse(JSON.stringify(v)));
        for (const keys of keyOrders(parsed)) expect(keys).toEqual([...keys].sort());
      }),
      { numRuns: 150 },
    );
  });

  it("gives equal strings exactly to deeply equal trees", () => {
    fc.assert(
      fc.property(tree, tree, (a, b) => {
        expect(stableJson(a) === stableJson(b)).toBe(isDeepStrictEqual(a, b));
      }),
      { numRuns: 150 },
    );
  });
});
