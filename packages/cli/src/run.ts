import { findCommand, GLOBAL_OPTIONS, type OptionSpec, parseCommandArgs, UsageError, type Values } from "./args.js";
import { ApiError, Client, NetworkError } from "./client.js";
import { accountsCommand, accountsOptions } from "./commands/accounts.js";
import { importCommand, importOptions } from "./commands/import.js";
import { reportCommand, reportOptions } from "./commands/report.js";

const USAGE = `usage: icp <command> [options]

commands:
  import <file.csv|file.json> [--idempotency-key K] [--no-wait]
      upload accounts, show progress until scored, then rejected rows and accounts per tier;
      files over 5 MB or 90,000 rows go as several uploads (keys K-part-1, K-part-2, …)
  accounts [--tier priority|nurture|generic|disqualified] [--segment S] [--limit N]
      list accounts, best score first (default limit 50)
  report [--by segment|tier|icp|sequence|step|channel|variant] [--from YYYY-MM-DD] [--to YYYY-MM-DD]
         [--icp ID] [--segment S] [--format table|csv|json]
      engagement per group: accounts reached, sends, open/click/reply/meeting/win rates, revenue
      (default: by segment over the last 90 days); csv is the API's, safe to open in a spreadsheet
  report --lift [--from …] [--to …] [--icp ID] [--segment S] [--format table|json]
      ICP vs non-ICP conversion and its band (2x / 3-4x / 5x+), deal size and sales cycle per tier

global options:
  --url URL    API base URL (env ICP_URL, default http://localhost:3000)
  --key KEY    API key (env ICP_API_KEY, default local-dev-key)
  -h, --help   show this help

exit codes: 0 ok, 1 usage or API error (or a failed import), 2 API unreachable
`;

type Command = {
  options: OptionSpec;
  args: number;
  run(client: Client, positionals: string[], values: Values): Promise<number>;
};

const COMMANDS: Record<string, Command> = {
  import: { options: importOptions, args: 1, run: (c, p, v) => importCommand(c, p[0] as string, v) },
  accounts: { options: accountsOptions, args: 0, run: (c, _p, v) => accountsCommand(c, v) },
  report: { options: reportOptions, args: 0, run: (c, _p, v) => reportCommand(c, v) },
};

/** Runs one command line and returns the exit code; never throws. */
export async function run(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  try {
    const { command, rest } = findCommand(argv);
    const cmd = command ? COMMANDS[command] : undefined;
    if (command && !cmd) throw new UsageError(`unknown command "${command}"`);
    const { values, positionals } = parseCommandArgs(rest, cmd?.options ?? GLOBAL_OPTIONS);
    if (values.help) {
      process.stdout.write(USAGE);
      return 0;
    }
    if (!cmd) {
      process.stderr.write(USAGE);
      return 1;
    }
    if (positionals.length !== cmd.args)
      throw new UsageError(
        `${command} takes ${cmd.args === 0 ? "no arguments" : "one file"}, got ${positionals.length}`,
      );
    const url = (values.url as string | undefined) ?? (env.ICP_URL || "http://localhost:3000");
    const key = (values.key as string | undefined) ?? (env.ICP_API_KEY || "local-dev-key");
    if (!/^https?:\/\/[^/]/.test(url))
      throw new UsageError(`--url must be an http(s) URL such as http://localhost:3000, not "${url}"`);
    return await cmd.run(new Client(url, key), positionals, values);
  } catch (e) {
    return report(e);
  }
}

function report(e: unknown): number {
  if (e instanceof UsageError) {
    process.stderr.write(`error: ${e.message}\n(icp --help for usage)\n`);
    return 1;
  }
  if (e instanceof ApiError) {
    process.stderr.write(`error: ${e.detail}\n`);
    for (const x of e.errors)
      process.stderr.write(
        `  ${x.line !== undefined ? `line ${x.line}  ` : ""}${x.field ? `${x.field}: ` : ""}${x.message ?? ""}\n`,
      );
    return 1;
  }
  if (e instanceof NetworkError) {
    process.stderr.write(`error: ${e.message}\n(is the API running? set --url or ICP_URL)\n`);
    return 2;
  }
  process.stderr.write(`error: ${(e as Error)?.stack ?? String(e)}\n`);
  return 1;
}
