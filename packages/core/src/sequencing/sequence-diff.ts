import type { IcpChange } from "../scoring/index.js";
import { stableJson } from "../shared/index.js";
import type { SequenceDefinition } from "./sequence.js";

/** One change between two sequence versions (same shape as ICP changes). */
export type SequenceChange = IcpChange;

const same = (a: unknown, b: unknown) => stableJson(a) === stableJson(b);

/**
 * What changed between two versions of a sequence: top-level fields, then steps matched by id
 * (added, removed, or the fields of a step that changed: `steps.intro.content`), then their order.
 */
export function diffSequence(a: SequenceDefinition, b: SequenceDefinition): SequenceChange[] {
  const out: SequenceChange[] = [];
  for (const f of ["name", "description", "stopOnAccountReply"] as const)
    if (!same(a[f], b[f])) out.push({ op: "changed", path: f, from: a[f], to: b[f] });
  const before = new Map(a.steps.map((s) => [s.id, s]));
  const after = new Map(b.steps.map((s) => [s.id, s]));
  for (const [id, x] of before) {
    const y = after.get(id);
    if (!y) out.push({ op: "removed", path: `steps.${id}`, from: x });
    else
      for (const f of new Set([...Object.keys(x), ...Object.keys(y)])) {
        const fx = (x as Record<string, unknown>)[f];
        const fy = (y as Record<string, unknown>)[f];
        if (!same(fx, fy)) out.push({ op: "changed", path: `steps.${id}.${f}`, from: fx, to: fy });
      }
  }
  for (const [id, y] of after) if (!before.has(id)) out.push({ op: "added", path: `steps.${id}`, to: y });
  const order = (d: SequenceDefinition) => d.steps.map((s) => s.id).filter((id) => before.has(id) && after.has(id));
  if (!same(order(a), order(b))) out.push({ op: "changed", path: "steps.order", from: order(a), to: order(b) });
  return out;
}
