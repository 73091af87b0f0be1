import { randomUUID } from "node:crypto";
import { type Stack, startStack } from "@icp/local";
import { ensureWorkspace, putApiKey } from "@icp/store";
import { inject } from "vitest";

export type TestStack = Stack & {
  workspace: string;
  /** fetch against the stack's API with the workspace's key. */
  api(path: string, init?: RequestInit & { json?: unknown; csv?: string }): Promise<Response>;
};

/** A full local stack (own table, own queues, pollers, API on a free port) on the shared DynamoDB Local. */
export async function testStack(opts: { seed?: boolean; retryDelay?: number } = {}): Promise<TestStack> {
  const id = randomUUID().slice(0, 8);
  const stack = await startStack({
    port: 0,
    dynamoEndpoint: inject("dynamoEndpoint"),
    tableName: `t-${id}`,
    queuePrefix: `q${id}-`,
    seed: opts.seed ?? false,
    apiKey: `key-${id}-demo`,
    retryDelay: opts.retryDelay ?? 0,
    onWorkerError: () => {},
  });
  const workspace = opts.seed ? "demo" : `ws${id}`;
  const apiKey = `key-${id}-secret`;
  await ensureWorkspace(stack.store, workspace, "test");
  await putApiKey(stack.store, workspace, apiKey, "test");
  return {
    ...stack,
    apiKey,
    workspace,
    api(path, init = {}) {
      const headers = new Headers(init.headers);
      if (!headers.has("authorization")) headers.set("authorization", `Bearer ${apiKey}`);
      let body = init.body;
      if (init.json !== undefined) {
        headers.set("content-type", "application/json");
        body = JSON.stringify(init.json);
      } else if (init.csv !== undefined) {
        headers.set("content-type", "text/csv");
        body = init.csv;
      }
      return fetch(`${stack.url}${path}`, { ...init, headers, body: body ?? null });
    },
  };
}

/** Poll until `check` returns a value (not undefined), or fail after `ms`. */
export async function eventually<T>(check: () => Promise<T | undefined>, ms = 20_000, what = "condition"): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export async function waitForImport(s: TestStack, id: string, ms = 30_000): Promise<Record<string, unknown>> {
  return eventually(
    async () => {
      const job = (await (await s.api(`/v1/imports/${id}`)).json()) as Record<string, unknown>;
      return job.status === "completed" || job.status === "failed" ? job : undefined;
    },
    ms,
    `import ${id}`,
  );
}
