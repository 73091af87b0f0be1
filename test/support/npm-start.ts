import { type ChildProcess, spawn } from "node:child_process";
import { createConnection } from "node:net";

/** Helpers for tests that drive `npm start` as a user would (own process group, real ports). */
export const root = new URL("../..", import.meta.url).pathname;

export const canConnect = (port: number) =>
  new Promise<boolean>((resolve) => {
    const sock = createConnection({ port, host: "127.0.0.1" }, () => {
      sock.destroy();
      resolve(true);
    });
    sock.on("error", () => resolve(false));
  });

export async function waitFor<T>(
  check: () => Promise<T | undefined>,
  ms: number,
  what: string,
  output: () => string = () => "",
): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const v = await check().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}; output:\n${output()}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

export type NpmStart = { child: ChildProcess; output: () => string; exited: Promise<string> };

/** `npm start -- <args>` in a process group of its own, like a terminal's Ctrl-C target. */
export function npmStart(args: string[], env: Record<string, string> = {}): NpmStart {
  let out = "";
  const child = spawn("npm", ["start", "--", ...args], {
    cwd: root,
    env: { ...process.env, ...env },
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
  });
  child.stdout?.on("data", (d) => {
    out += d;
  });
  child.stderr?.on("data", (d) => {
    out += d;
  });
  const exited = new Promise<string>((r) => child.once("exit", (code, signal) => r(String(code ?? signal))));
  return { child, output: () => out, exited };
}

/** Ctrl-C in a terminal: SIGINT to the whole process group. */
export const ctrlC = (s: NpmStart) => {
  if (s.child.pid) process.kill(-s.child.pid, "SIGINT");
};

/** Whatever is left of the group (after a failed test). */
export const killGroup = (s: NpmStart | undefined) => {
  try {
    if (s?.child.pid) process.kill(-s.child.pid, "SIGKILL");
  } catch {
    // already gone
  }
};
