import { type ChildProcess, fork } from "node:child_process";
import { randomBytes } from "node:crypto";
import { rmSync } from "node:fs";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { dirname, join } from "node:path";
import { DeleteMessageBatchCommand, ReceiveMessageCommand } from "@aws-sdk/client-sqs";
import { DEMO_ICP } from "@icp/core";
import { type LocalResources, startLocalResources } from "@icp/local";
import {
  API,
  configToEnv,
  createStore,
  ensureWorkspace,
  putApiKey,
  QUEUES,
  type QueueName,
  type Store,
} from "@icp/store";
import type { APIGatewayProxyResult, SQSBatchResponse } from "aws-lambda";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { buildBundle, ROOT } from "../../scripts/build.js";
import { httpEvent, scheduledEvent, sqsEvent } from "./lambda-events.js";

/**
 * The deployed artifacts, not the sources: the esbuild bundles of `npm run build`, each in a
 * Node process of its own with a production environment (AWS_LAMBDA_FUNCTION_NAME, only
 * SST_RESOURCE_* links and secrets, no dev defaults), drive one flow on the local table and
 * queues. Mail goes through the SES v2 API to aws-ses-v2-local, a real protocol server.
 */
const PUBLIC_URL = "https://api.icp-e2e.example";
const FROM = "hello@icp-e2e.example";
const TRACKING_SECRET = randomBytes(32).toString("base64url");
const WS = "bundles";
const KEY = `key-bundles-${randomBytes(8).toString("hex")}`;
const TICK = "functions/tick.handler";

const OUT = join(ROOT, "dist", `bundles-e2e-${process.pid}`, "functions");
const handlerOf = (q: QueueName) => QUEUES.find((x) => x.name === q)?.handler ?? "";
const WIRED: { handler: string; kind: "api" | "worker" | "schedule" }[] = [
  { handler: API.handler, kind: "api" },
  ...(["IngestQueue", "RouteQueue", "SendQueue", "EventQueue"] as const).map((q) => ({
    handler: handlerOf(q),
    kind: "worker" as const,
  })),
  { handler: TICK, kind: "schedule" },
];

type Fn = { invoke<T>(event: unknown): Promise<T>; stop(): void };

let res: LocalResources;
let store: Store;
let ses: Server;
let sesUrl: string;
const files = new Map<string, string>();
const started: Fn[] = [];

/** The environment Lambda gives a function of this stage: its links, secrets and role credentials. */
function productionEnv(name: string): Record<string, string> {
  return {
    PATH: process.env.PATH ?? "",
    NODE_NO_WARNINGS: "1",
    AWS_LAMBDA_FUNCTION_NAME: `icp-sequencer-e2e-${name}`,
    AWS_REGION: "us-east-1",
    AWS_ACCESS_KEY_ID: "AKIAE2ETEST",
    AWS_SECRET_ACCESS_KEY: "e2e-secret",
    LAMBDA_TASK_ROOT: dirname(OUT),
    POWERTOOLS_SERVICE_NAME: "icp-sequencer",
    POWERTOOLS_LOG_LEVEL: "ERROR",
    POWERTOOLS_METRICS_DISABLED: "true",
    // Table and queues (plus the local endpoints, the only non-AWS part), as SST links them.
    ...configToEnv(res.cfg),
    SST_RESOURCE_TrackingSecret: JSON.stringify({ value: TRACKING_SECRET }),
    SST_RESOURCE_PublicUrl: JSON.stringify({ url: PUBLIC_URL }),
    SST_RESOURCE_Email: JSON.stringify({ sender: FROM, configSet: "icp-e2e" }),
    ICP_SES_ENDPOINT: sesUrl,
  };
}

/** One bundle in its own process (bundle-runner.mjs): imported once, invoked over IPC. */
async function startFunction(handler: string, env: Record<string, string>): Promise<Fn> {
  const file = files.get(handler) ?? "";
  let output = "";
  const child: ChildProcess = fork(new URL("./bundle-runner.mjs", import.meta.url), [file], {
    env,
    execArgv: [],
    stdio: ["ignore", "pipe", "pipe", "ipc"],
  });
  child.stdout?.on("data", (d) => {
    output += d;
  });
  child.stderr?.on("data", (d) => {
    output += d;
  });
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  await new Promise<void>((resolve, reject) => {
    child.once("message", (m: { ready?: boolean }) =>
      m.ready ? resolve() : reject(new Error(`${handler} exports no handler`)),
    );
    child.once("exit", (code) => reject(new Error(`${handler} exited (${code}) while loading:\n${output}`)));
  });
  child.on("message", (m: { id: number; result?: unknown; error?: { message: string } }) => {
    const p = pending.get(m.id);
    pending.delete(m.id);
    if (m.error) p?.reject(new Error(m.error.message));
    else p?.resolve(m.result);
  });
  let next = 0;
  const fn: Fn = {
    invoke: <T>(event: unknown) =>
      new Promise<T>((resolve, reject) => {
        const id = next++;
        pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
        child.send({ id, event });
      }),
    stop: () => child.kill(),
  };
  started.push(fn);
  return fn;
}

/** aws-ses-v2-local on a free port (its CommonJS default export, however the loader wraps it). */
async function startSes(): Promise<Server> {
  const mod = (await import("aws-ses-v2-local")) as unknown as { default: unknown };
  const d = mod.default as { default?: unknown };
  const start = (typeof d === "function" ? d : d.default) as (c: { host: string; port: number }) => Promise<Server>;
  return start({ host: "127.0.0.1", port: 0 });
}

beforeAll(async () => {
  const id = randomBytes(4).toString("hex");
  const built = Promise.all(WIRED.map((w) => buildBundle(w.handler, w.kind, OUT)));
  [res, ses] = await Promise.all([
    startLocalResources({ dynamoEndpoint: inject("dynamoEndpoint"), tableName: `b-${id}`, queuePrefix: `b${id}-` }),
    startSes(),
  ]);
  sesUrl = `http://127.0.0.1:${(ses.address() as AddressInfo).port}`;
  for (const [i, b] of (await built).entries()) files.set(WIRED[i]?.handler ?? "", b.file);
  store = createStore(res.cfg);
  await ensureWorkspace(store, WS, "test");
  await putApiKey(store, WS, KEY, "test");
}, 120_000);

afterAll(async () => {
  for (const fn of started) fn.stop();
  await new Promise((r) => ses?.close(r));
  await res?.stop();
  rmSync(dirname(OUT), { recursive: true, force: true });
});

/** Hand every message waiting in `queue` to its function, as the event source mapping does. */
async function drain(queue: QueueName, fn: Fn): Promise<number> {
  let handled = 0;
  for (;;) {
    const { Messages: msgs = [] } = await store.sqs.send(
      new ReceiveMessageCommand({ QueueUrl: res.cfg.queues[queue], MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }),
    );
    if (!msgs.length) return handled;
    const out = await fn.invoke<SQSBatchResponse>(
      sqsEvent(
        queue,
        msgs.map((m) => m.Body ?? ""),
      ),
    );
    expect(out.batchItemFailures, `${queue}: no failed records`).toEqual([]);
    await store.sqs.send(
      new DeleteMessageBatchCommand({
        QueueUrl: res.cfg.queues[queue],
        Entries: msgs.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle ?? "" })),
      }),
    );
    handled += msgs.length;
  }
}

type SesEmail = {
  from: string;
  destination: { to: string[] };
  subject: string;
  body: { text?: string; html?: string };
};
const sesEmails = async () => ((await (await fetch(`${sesUrl}/store`)).json()) as { emails: SesEmail[] }).emails;

const recent = new Date(Date.now() - 20 * 86_400_000).toISOString().slice(0, 10);
const CSV = [
  "Website,Company,Industry,# Employees,Country,Technologies,Signals,First Name,Title,Email",
  `alpha-bundle.io,Alpha,SaaS,150,Germany,HubSpot,funding:${recent}:12000000,Alice,VP Sales,alice@alpha-bundle.io`,
].join("\n");

describe("the built bundles, each in a production-like Node process", () => {
  it("import → ingest → route → tick → send through SES v2 → links on the public URL → open recorded", async () => {
    const env = (handler: string) => productionEnv(handler.split("/")[1]?.split(".")[0] ?? handler);
    const [api, ingest, route, send, events, tick] = await Promise.all(
      WIRED.map((w) => startFunction(w.handler, env(w.handler))),
    );
    if (!api || !ingest || !route || !send || !events || !tick) throw new Error("a function did not start");
    const call = async (method: string, path: string, body?: unknown, type = "application/json") => {
      const headers: Record<string, string> = { authorization: `Bearer ${KEY}` };
      if (body !== undefined) headers["content-type"] = type;
      const text = typeof body === "string" ? body : body === undefined ? undefined : JSON.stringify(body);
      return api.invoke<APIGatewayProxyResult>(httpEvent(method, path, headers, text));
    };

    expect((await call("POST", "/v1/icps", DEMO_ICP)).statusCode).toBe(201);
    const always = { timezone: "UTC", days: [1, 2, 3, 4, 5, 6, 7], start: "00:00", end: "24:00", holidays: [] };
    expect((await call("PUT", "/v1/settings/sending", always)).statusCode).toBe(200);
    const seq = await call("POST", "/v1/sequences", {
      name: "Bundles",
      steps: [
        {
          id: "intro",
          channel: "email",
          content: { subject: "Intro for {{company}}", body: "Hi! https://example.com/demo" },
        },
      ],
    });
    expect(seq.statusCode).toBe(201);
    const rules = { rules: [{ tier: "priority", sequenceId: JSON.parse(seq.body).id }], reEntry: { mode: "never" } };
    expect((await call("PUT", "/v1/routing-rules", rules)).statusCode).toBe(200);
    expect((await call("POST", "/v1/imports", CSV, "text/csv")).statusCode).toBe(202);

    expect(await drain("IngestQueue", ingest)).toBeGreaterThan(0);
    expect(await drain("RouteQueue", route)).toBeGreaterThan(0);
    expect(await tick.invoke<{ claimed: number }>(scheduledEvent("Tick"))).toMatchObject({ claimed: 1 });
    expect(await drain("SendQueue", send)).toBe(1);

    const mail = (await sesEmails()).filter((m) => m.destination.to.some((t) => t.includes("alice@alpha-bundle.io")));
    expect(mail).toHaveLength(1);
    const [email] = mail as [SesEmail];
    expect(email.subject).toBe("Intro for Alpha");
    expect(email.from).toContain(FROM);
    // Every tracking, click and unsubscribe link is on the configured public URL.
    const links = [
      ...`${email.body.text}\n${email.body.html}`.matchAll(/https?:\/\/[^\s"'<>]+\/(?:t\/[oc]|u)\/[\w.-]+/g),
    ];
    expect(links.length).toBeGreaterThanOrEqual(3);
    for (const [link] of links) expect(link.startsWith(`${PUBLIC_URL}/`), link).toBe(true);
    const pixel = links.map(([l]) => l).find((l) => l.startsWith(`${PUBLIC_URL}/t/o/`)) ?? "";
    expect(pixel).not.toBe("");

    const open = await api.invoke<APIGatewayProxyResult>(httpEvent("GET", pixel.slice(PUBLIC_URL.length)));
    expect(open.statusCode).toBe(200);
    expect(open.headers?.["content-type"]).toBe("image/gif");
    expect(await drain("EventQueue", events)).toBeGreaterThan(0);
    const timeline = await call("GET", "/v1/accounts/alpha-bundle.io/timeline");
    expect(timeline.statusCode).toBe(200);
    expect(JSON.parse(timeline.body).items.map((i: { type: string }) => i.type)).toContain("opened");
  });

  it("the API bundle without its TrackingSecret refuses to work, naming the missing setting", async () => {
    const env = productionEnv("api-unconfigured");
    delete env.SST_RESOURCE_TrackingSecret;
    const api = await startFunction(API.handler, env);
    await expect(api.invoke(httpEvent("GET", "/health"))).rejects.toThrow("missing settings: TrackingSecret");
  });

  it("the send bundle without its secret and mail transport refuses the whole batch, naming each", async () => {
    const env = productionEnv("send-unconfigured");
    delete env.SST_RESOURCE_TrackingSecret;
    delete env.SST_RESOURCE_Email; // no transport, and no sender address to send from either
    const send = await startFunction(handlerOf("SendQueue"), env);
    await expect(send.invoke(sqsEvent("SendQueue", ["{}"]))).rejects.toThrow(
      "missing settings: TrackingSecret, Email, MailFrom",
    );
  });
});
