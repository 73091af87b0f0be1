import type { AddressInfo } from "node:net";
import { fileURLToPath, pathToFileURL } from "node:url";
import { serve } from "@hono/node-server";
import { API, configToEnv, createStore, createTable, SCHEDULES, type Store, type StoreConfig } from "@icp/store";
import { startFauxqs } from "fauxqs";
import { type DynamoLocal, startDynamoLocal } from "./dynamo.js";
import { type SqsLambda, startPoller } from "./poller.js";
import { createQueues, type LocalQueue } from "./queues.js";
import { seedDemo } from "./seed.js";

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
  seeded: { icpCreated: boolean; importId?: string } | undefined;
  stop(): Promise<void>;
};

/**
 * The whole system on one machine: DynamoDB Local, an in-process SQS with the manifest's
 * queues and DLQs, pollers invoking the functions/ handlers exactly as Lambda would, and
 * the API. Environment variables are set the way SST links resources, before the handler
 * modules are imported.
 */
export async function startStack(o: StackOptions = {}): Promise<Stack> {
  const stops: (() => Promise<void>)[] = [];
  const stop = async () => {
    for (const s of stops.reverse()) await s().catch(() => {});
  };
  try {
    let dynamo: DynamoLocal | undefined;
    if (!o.dynamoEndpoint) {
      dynamo = await startDynamoLocal({
        ...(o.dynamoPort ? { port: o.dynamoPort } : {}),
        ...(o.persistDir ? { persistDir: o.persistDir } : {}),
      });
      stops.push(() => (dynamo as DynamoLocal).stop());
    }
    const sqsServer = await startFauxqs({ port: 0, logger: false });
    stops.push(() => sqsServer.stop());
    const sqsEndpoint = `http://127.0.0.1:${sqsServer.port}`;

    const bootstrap = createStore({
      tableName: o.tableName ?? "icp-sequencer",
      region: "us-east-1",
      queues: {} as StoreConfig["queues"],
      dynamoEndpoint: o.dynamoEndpoint ?? (dynamo as DynamoLocal).endpoint,
      sqsEndpoint,
    });
    const queues = await createQueues(bootstrap.sqs, o.queuePrefix ?? "");
    const urls = Object.fromEntries(Object.values(queues).map((q) => [q.spec.name, q.url])) as StoreConfig["queues"];
    const dlqs = Object.fromEntries(Object.values(queues).map((q) => [q.spec.name, q.dlqUrl])) as StoreConfig["dlqs"];
    const cfg: StoreConfig = { ...bootstrap.cfg, queues: urls, ...(dlqs ? { dlqs } : {}) };
    Object.assign(process.env, configToEnv(cfg));
    process.env.POWERTOOLS_LOG_LEVEL ??= "WARN";
    process.env.POWERTOOLS_METRICS_DISABLED ??= "true"; // EMF lines are for CloudWatch, not a terminal
    const store = createStore(cfg);
    await createTable(store);

    for (const q of Object.values(queues)) {
      const poller = startPoller({
        sqs: store.sqs,
        queueUrl: q.url,
        queueArn: q.arn,
        handler: (await importHandler(q.spec.handler)) as SqsLambda,
        batchSize: q.spec.batchSize,
        concurrency: q.spec.localConcurrency,
        visibilityTimeout: q.spec.timeout * 6,
        retryDelay: o.retryDelay ?? 1,
        onError: o.onWorkerError ?? ((e) => console.error(`[${q.spec.name}]`, e)),
      });
      stops.push(() => poller.stop());
    }

    // Schedules (EventBridge in AWS): a timer each, never overlapping itself.
    for (const sched of SCHEDULES) {
      const run = (await importHandler(sched.handler)) as () => Promise<unknown>;
      let busy = false;
      const timer = setInterval(() => {
        if (busy || o.schedules === false) return;
        busy = true;
        run()
          .catch((e) => (o.onWorkerError ?? console.error)(e))
          .finally(() => {
            busy = false;
          });
      }, sched.localEverySeconds * 1000);
      timer.unref();
      stops.push(async () => clearInterval(timer));
    }

    const { app } = (await import(handlerUrl(API.handler))) as { app: { fetch: (r: Request) => Promise<Response> } };
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
    const port = (server.address() as AddressInfo).port;
    const apiKey = o.apiKey ?? "local-dev-key";
    const seeded = o.seed === false ? undefined : await seedDemo(store, apiKey);
    return { url: `http://${o.host ?? "127.0.0.1"}:${port}`, apiKey, cfg, store, queues, seeded, stop };
  } catch (e) {
    await stop();
    throw e;
  }
}
