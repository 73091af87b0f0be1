import { type ParseArgsConfig, parseArgs } from "node:util";

export type OptionSpec = NonNullable<ParseArgsConfig["options"]>;
export type Values = Record<string, string | boolean | undefined>;

/** Bad command line: main prints it with the usage and exits 1. */
export class UsageError extends Error {}

/** Options every command accepts, before or after the command name. */
export const GLOBAL_OPTIONS = {
  url: { type: "string" },
  key: { type: "string" },
  help: { type: "boolean", short: "h" },
} as const satisfies OptionSpec;

/**
 * The command is the first word that is not an option or a global option's value, so that both
 * `icp --url U import f.csv` and `icp import f.csv --url U` work.
 */
export function findCommand(argv: readonly string[]): { command?: string; rest: string[] } {
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    if (a === "--") break;
    if (a === "--url" || a === "--key") i++;
    else if (!a.startsWith("-")) return { command: a, rest: [...argv.slice(0, i), ...argv.slice(i + 1)] };
  }
  return { rest: [...argv] };
}

/** node:util parseArgs with the global options added; its errors become UsageErrors. */
export function parseCommandArgs(argv: string[], options: OptionSpec): { values: Values; positionals: string[] } {
  try {
    const { values, positionals } = parseArgs({
      args: argv,
      options: { ...GLOBAL_OPTIONS, ...options },
      allowPositionals: true,
    });
    return { values: values as Values, positionals };
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
}

/** A positive integer option, or `fallback` when absent. */
export function intOption(values: Values, name: string, fallback: number): number {
  const raw = values[name];
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`--${name} must be a positive integer, not "${String(raw)}"`);
  return n;
}
