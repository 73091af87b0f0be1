import { stableJson } from "../shared/index.js";
import type { IcpDefinition } from "./icp.js";

export type IcpChange =
  | { op: "changed"; path: string; from: unknown; to: unknown }
  | { op: "added"; path: string; to: unknown }
  | { op: "removed"; path: string; from: unknown };

const same = (a: unknown, b: unknown) => stableJson(a) === stableJson(b);

function diffList<T>(path: string, a: readonly T[], b: readonly T[], key: (x: T) => string, out: IcpChange[]) {
  const before = new Map(a.map((x) => [key(x), x]));
  const after = new Map(b.map((x) => [key(x), x]));
  for (const [k, x] of before) {
    const y = after.get(k);
    if (y === undefined) out.push({ op: "removed", path: `${path}.${k}`, from: x });
    else if (!same(x, y)) {
      // Name the fields that changed, so "points 20 -> 25" reads as such.
      const fields = new Set([...Object.keys(x as object), ...Object.keys(y as object)]);
      for (const f of fields) {
        const fx = (x as Record<string, unknown>)[f];
        const fy = (y as Record<string, unknown>)[f];
        if (!same(fx, fy)) out.push({ op: "changed", path: `${path}.${k}.${f}`, from: fx, to: fy });
      }
    }
  }
  for (const [k, y] of after) if (!before.has(k)) out.push({ op: "added", path: `${path}.${k}`, to: y });
}

/** What changed between two versions of an ICP, field by field; criteria matched by id. */
export function diffIcp(a: IcpDefinition, b: IcpDefinition): IcpChange[] {
  const out: IcpChange[] = [];
  for (const f of ["name", "description", "status"] as const)
    if (!same(a[f], b[f])) out.push({ op: "changed", path: f, from: a[f], to: b[f] });
  for (const group of ["qualification", "tiers"] as const)
    for (const f of Object.keys({ ...a[group], ...b[group] }))
      if (!same((a[group] as Record<string, unknown>)[f], (b[group] as Record<string, unknown>)[f]))
        out.push({
          op: "changed",
          path: `${group}.${f}`,
          from: (a[group] as Record<string, unknown>)[f],
          to: (b[group] as Record<string, unknown>)[f],
        });
  diffList("criteria", a.criteria, b.criteria, (c) => c.id, out);
  diffList("disqualifiers", a.disqualifiers, b.disqualifiers, (c) => c.id, out);
  diffList("segments", a.segments, b.segments, (s) => s.name, out);
  // The first matching segment wins, so their order is part of the definition.
  const order = (d: IcpDefinition) =>
    d.segments
      .map((s) => s.name)
      .filter((n) => a.segments.some((x) => x.name === n) && b.segments.some((x) => x.name === n));
  if (!same(order(a), order(b))) out.push({ op: "changed", path: "segments.order", from: order(a), to: order(b) });
  diffList("personas", a.personas, b.personas, (p) => p.name, out);
  return out;
}
