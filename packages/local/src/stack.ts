import { randomBytes } from "node:crypto";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { serve } from "@hono/node-server";
import { shedRecently } from "@icp/api";
import {
  API,
  configToEnv,
  createStore,
  createTable,
  QUEUES,
  SCHEDULES,
  type Settings,
  type Store,
  type StoreConfig,
  settingsToEnv,
} from "@icp/store";
import { startFauxqs } from "fauxqs";
import { type DynamoLocal, QUICK_START_JVM_OPTIONS, startDynamoLocal } from "./dynamo.js";
import { type SqsLambda, startPoller } from "./poller.js";
import { createQueues, type LocalQueue } from "./queues.js";
import { seedDemo } from "./seed.js";
import { type SmtpCapture, startSmtpCapture } from "./smtp.js";

const ROOT = fileURLToPath(new URL("../../../", import.meta.url));

/** `functions/ingest.handler` (as in the manifest) -> the module's URL. */
const handlerUrl = (handler: string) => pathToFileURL(`${ROOT}${handler.replace(/\.[a-zA-Z]+$/, "")}.ts`).href;

/** The very module Lambda runs, imported after its environment is in place. */
async function importHandler(handler: string): Promise<unknown> {
  const mod = (await import(handlerUrl(handler))) as Record<string, unknown>;
  const fn = mod[handler.split(".").pop() ?? "handler"];
  if (typeof fn !== "function") throw new Error(`${handler} does not export a function`);
  return fn;
}

export type StackOptions = {
  /** API port; 0 picks a free one. */
  port?: number;
  host?: string;
  /** Use a DynamoDB (Local) that is already running instead of starting one. */
  dynamoEndpoint?: string;
  dynamoPort?: number;
  /** Keep DynamoDB data in this folder across restarts (default: in memory). */
  persistDir?: string;
  /** JVM options of DynamoDB Local (default QUICK_START_JVM_OPTIONS: boots fastest). */
  dynamoJvmOptions?: readonly string[];
  tableName?: string;
  /** Prefix for queue names, so several stacks can share one SQS server. */
  queuePrefix?: string;
  seed?: boolean;
  apiKey?: string;
  /** Seconds before a failed message is retried locally (AWS uses the visibility timeout). */
  retryDelay?: number;
  onWorkerError?: (e: unknown) => void;
  /** Run SCHEDULES on timers (default true); tests call the handlers themselves. */
  schedules?: boolean;
};

export type Stack = {
  url: string;
  apiKey: string;
  cfg: StoreConfig;
  store: Store;
  queues: Record<string, LocalQueue>;
  /** Local SMTP capture the send worker mails to (ICP_SMTP_URL); captured mail is at GET /v1/mail. */
  smtp: SmtpCapture;
  /** What the handlers are linked to besides the table and queues (tracking secret, public URL, From). */
  settings: Pick<Settings, "trackingSecret" | "publicUrl" | "defaultFrom">;
  seeded: { icpCreated: boolean; importId?: string } | undefined;
  stop(): Promise<void>;
};

type Loaded = {
  pollers: Map<string, SqsLambda>;
  schedules: Map<string, () => Promise<unknown>>;
  app: { fetch: (r: Request) => Promise<Response> };
};

/**
 * Import every handler module (the queues', the schedules' and the API's). Their environment
 * (table, queue URLs) is read when they handle something, not when they are imported (see
 * packages/store/src/infra/config.ts, `storeFromEnv`), so this overlaps with DynamoDB Local's start;
 * only the Powertools settings, read at import, must be in place before.
 */
async function loadHandlers(): Promise<Loaded> {
  const pollers = new Map<string, SqsLambda>();
  const schedules = new Map<string, () => Promise<unknown>>();
  const [app] = await Promise.all([
    import(handlerUrl(API.handler)).then((m) => (m as { app: Loaded["app"] }).app),
    ...QUEUES.map(async (q) => pollers.set(q.handler, (await importHandler(q.handler)) as SqsLambda)),
    ...SCHEDULES.map(async (sc) =>
      schedules.set(sc.handler, (await importHandler(sc.handler)) as () => Promise<unknown>),
    ),
  ]);
  return { pollers, schedules, app };
}

/** Default From of mail sent without a mailbox configured (local dev and demos). */
export const LOCAL_MAIL_FROM = "sequencer@icp-sequencer.local";

/**
 * The tracking secret of a local stack: random per run in memory; with a data folder, made once
 * and kept there, so links in mail captured before a restart still verify after it.
 */
export function localTrackingSecret(persistDir?: string): string {
  const file = persistDir ? join(persistDir, "tracking-secret") : undefined;
  if (file && existsSync(file)) return readFileSync(file, "utf8").trim();
  const secret = randomBytes(32).toString("base64url");
  if (file) writeFileSync(file, `${secret}\n`, { mode: 0o600 });
  return secret;
}

export type LocalResources = { cfg: StoreConfig; queues: Record<string, LocalQueue>; stop(): Promise<void> };

/**
 * DynamoDB Local (unless an endpoint is given), an in-process SQS, the table and every queue
 * with its DLQ: what SST creates in AWS. Tests that run the built bundles use it on its own.
 */
export async function startLocalResources(
  o: Pick<
    StackOptions,
    "dynamoEndpoint" | "dynamoPort" | "persistDir" | "dynamoJvmOptions" | "tableName" | "queuePrefix"
  >,
  stops: (() => Promise<void>)[] = [],
): Promise<LocalResources> {
  const stop = async () => {
    for (const s of stops.splice(0).reverse()) await s().catch(() => {});
  };
  try {
    const [dynamo, sqsServer] = await Promise.all([
      o.dynamoEndpoint
        ? undefined
        : startDynamoLocal({
            ...(o.dynamoPort ? { port: o.dynamoPort } : {}),
            ...(o.persistDir ? { persistDir: o.persistDir } : {}),
            jvmOptions: o.dynamoJvmOptions ?? QUICK_START_JVM_OPTIONS,
          }).then((d) => {
            stops.push(() => d.stop());
            return d;
          }),
      startFauxqs({ port: 0, logger: false }).then((q) => {
        stops.push(() => q.stop());
        return q;
      }),
    ]);
    const bootstrap = createStore({
      tableName: o.tableName ?? "icp-sequencer",
      region: "us-east-1",
      queues: {} as StoreConfig["queues"],
      dynamoEndpoint: o.dynamoEndpoint ?? (dynamo as DynamoLocal).endpoint,
      sqsEndpoint: `http://127.0.0.1:${sqsServer.port}`,
    });
    const [queues] = await Promise.all([createQueues(bootstrap.sqs, o.queuePrefix ?? ""), createTable(bootstrap)]);
    const urls = Object.fromEntries(Object.values(queues).map((q) => [q.spec.name, q.url])) as StoreConfig["queues"];
    const dlqs = Object.fromEntries(Object.values(queues).map((q) => [q.spec.name, q.dlqUrl])) as StoreConfig["dlqs"];
    return { cfg: { ...bootstrap.cfg, queues: urls, ...(dlqs ? { dlqs } : {}) }, queues, stop };
  } catch (e) {
    await stop();
    throw e;
  }
}

/** Pollers invoke the queue handlers as Lambda's event source mappings do; schedules run on timers. */
function startWorkers(o: StackOptions, res: LocalResources, store: Store, loaded: Loaded): () => Promise<void> {
  const workers: (() => Promise<void>)[] = [];
  for (const q of Object.values(res.queues)) {
    const poller = startPoller({
      sqs: store.sqs,
      queueUrl: q.url,
      queueArn: q.arn,
      handler: loaded.pollers.get(q.spec.handler) as SqsLambda,
      batchSize: q.spec.batchSize,
      concurrency: q.spec.localConcurrency,
      visibilityTimeout: q.spec.timeout * 6,
      retryDelay: o.retryDelay ?? 1,
      onError: o.onWorkerError ?? ((e) => console.error(`[${q.spec.name}]`, e)),
      // One process runs the API and the workers here (Lambda runs them apart): while the API
      // sheds load, the workers wait, and the queues keep every message until then.
      paused: () => shedRecently(),
    });
    workers.push(() => poller.stop());
  }
  // Schedules (EventBridge in AWS): a timer each, never overlapping itself.
  for (const sched of SCHEDULES) {
    const run = loaded.schedules.get(sched.handler) as () => Promise<unknown>;
    let running: Promise<unknown> | undefined;
    const timer = setInterval(() => {
      if (running || o.schedules === false) return;
      running = run()
        .catch((e) => (o.onWorkerError ?? console.error)(e))
        .finally(() => {
          running = undefined;
        });
    }, sched.localEverySeconds * 1000);
    timer.unref();
    // A run in progress finishes before the queues and DynamoDB Local go away (no ECONNREFUSED noise).
    workers.push(async () => {
      clearInterval(timer);
      await running;
    });
  }
  // Workers drain together on stop, before the queues and DynamoDB go.
  return async () => {
    await Promise.all(workers.map((w) => w()));
  };
}

/** The API on its port; resolves with the port it really got (0 picks a free one). */
async function serveApi(o: StackOptions, app: Loaded["app"], stops: (() => Promise<void>)[]): Promise<number> {
  const server = serve({ fetch: app.fetch, port: o.port ?? 3000, hostname: o.host ?? "127.0.0.1" });
  await new Promise<void>((resolve, reject) => {
    server.once("listening", resolve);
    server.once("error", reject);
  });
  stops.push(
    () =>
      new Promise<void>((r) => {
        server.close(() => r());
        (server as unknown as { closeAllConnections?: () => void }).closeAllConnections?.();
      }),
  );
  return (server.address() as AddressInfo).port;
}

/** Links in mail name the API where a browser on this machine reaches it. */
const publicHost = (host: string) => (host === "0.0.0.0" || host === "::" ? "localhost" : host);

/**
 * The whole system on one machine: DynamoDB Local, an in-process SQS with the manifest's
 * queues and DLQs, pollers invoking the functions/ handlers exactly as Lambda would, and
 * the API. Environment variables are set the way SST links resources, before any handler
 * runs; the handler modules load while DynamoDB Local starts. The public URL is linked once
 * the API listens, so `--port 3001` (or a free port) is the port in tracking links.
 */
export async function startStack(o: StackOptions = {}): Promise<Stack> {
  const stops: (() => Promise<void>)[] = [];
  const stop = async () => {
    for (const s of stops.splice(0).reverse()) await s().catch(() => {});
  };
  process.env.POWERTOOLS_LOG_LEVEL ??= "WARN";
  process.env.POWERTOOLS_METRICS_DISABLED ??= "true"; // EMF lines are for CloudWatch, not a terminal
  const loading = loadHandlers();
  loading.catch(() => {}); // awaited below; a failure surfaces there
  try {
    const res = await startLocalResources(o, stops);
    const cfg = res.cfg;
    const store = createStore(cfg);
    const smtp = await startSmtpCapture(store, { onError: o.onWorkerError ?? ((e) => console.error("[smtp]", e)) });
    stops.push(() => smtp.stop());
    const linked = { trackingSecret: localTrackingSecret(o.persistDir), defaultFrom: LOCAL_MAIL_FROM };
    Object.assign(process.env, configToEnv(cfg), settingsToEnv({ ...linked, mail: { kind: "smtp", url: smtp.url } }));
    const loaded = await loading;
    // The API listens first: its real port is the public URL that workers put in links.
    const port = await serveApi(o, loaded.app, stops);
    const host = o.host ?? "127.0.0.1";
    const settings = { ...linked, publicUrl: `http://${publicHost(host)}:${port}` };
    Object.assign(process.env, settingsToEnv(settings));
    stops.push(startWorkers(o, res, store, loaded));
    const apiKey = o.apiKey ?? "local-dev-key";
    const seeded = o.seed === false ? undefined : await seedDemo(store, apiKey);
    return { url: `http://${host}:${port}`, apiKey, cfg, store, queues: res.queues, smtp, settings, seeded, stop };
  } catch (e) {
    await stop();
    throw e;
  }
}
