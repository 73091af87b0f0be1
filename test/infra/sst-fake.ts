import { vi } from "vitest";

/**
 * A recording stand-in for the globals SST gives sst.config.ts (`$config`, `sst`, `aws`), so
 * that `run()` can be evaluated here without Pulumi or AWS: every `new sst.aws.X(name, args)`
 * is logged with its arguments, every method called on it (subscribe, route…) too, and any
 * property read (`dlq.arn`, `dlq.nodes.queue.name`) is a reference that names its path.
 */
export type Declared = {
  /** e.g. "sst.aws.Queue", "aws.cloudwatch.MetricAlarm". */
  type: string;
  name: string;
  args: Record<string, unknown>;
  calls: { method: string; args: unknown[] }[];
};

export type SstConfig = {
  app(input: { stage: string }): Record<string, unknown>;
  run(): Promise<Record<string, unknown>>;
};

const PATH = Symbol("path");

/** "IngestQueueDlq.arn" for a reference read from a fake, undefined for anything else. */
export function refPath(v: unknown): string | undefined {
  if ((typeof v === "function" || typeof v === "object") && v !== null) {
    const p = (v as { [PATH]?: unknown })[PATH];
    return typeof p === "string" ? p : undefined;
  }
  return undefined;
}

function ref(path: string, log: Declared[], owner?: Declared): unknown {
  // A function target so that the same proxy can be read, called and constructed.
  return new Proxy(function fake() {}, {
    get(_t, p) {
      if (p === PATH) return path;
      if (p === Symbol.toPrimitive || p === "toString" || p === "toJSON") return () => path;
      if (typeof p === "symbol" || p === "then") return undefined; // not a thenable: `await` passes it through
      return ref(`${path}.${p}`, log, owner);
    },
    apply(_t, _this, args: unknown[]) {
      owner?.calls.push({ method: path.slice(owner.name.length + 1), args });
      return ref(`${path}()`, log);
    },
    construct(_t, args: unknown[]) {
      const [name, props] = args as [string, Record<string, unknown> | undefined];
      const d: Declared = { type: path, name, args: props ?? {}, calls: [] };
      log.push(d);
      return ref(name, log, d) as object;
    },
  });
}

/**
 * Evaluate sst.config.ts against the fakes: returns what `run()` declared and returned.
 * `env` is the environment SST would pass (e.g. `SST_SECRET_<Name>` for secrets that are set).
 */
export async function evaluateSstConfig(env: Record<string, string> = {}): Promise<{
  config: SstConfig;
  declared: Declared[];
  outputs: Record<string, unknown>;
}> {
  const declared: Declared[] = [];
  vi.stubGlobal("$config", (c: SstConfig) => c);
  vi.stubGlobal("sst", ref("sst", declared));
  vi.stubGlobal("aws", ref("aws", declared));
  for (const [k, v] of Object.entries(env)) vi.stubEnv(k, v);
  try {
    // A computed specifier: tsc must not follow it (sst.config.ts needs SST's generated types).
    const url = new URL("../../sst.config.ts", import.meta.url).href;
    const config = ((await import(/* @vite-ignore */ url)) as { default: SstConfig }).default;
    const outputs = await config.run();
    return { config, declared, outputs };
  } finally {
    vi.unstubAllGlobals();
    vi.unstubAllEnvs();
  }
}
