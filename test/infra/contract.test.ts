import { existsSync, readdirSync } from "node:fs";
import { DescribeTableCommand, DescribeTimeToLiveCommand } from "@aws-sdk/client-dynamodb";
import { GetQueueAttributesCommand, type ReceiveMessageCommandInput } from "@aws-sdk/client-sqs";
import { type Stack, startStack } from "@icp/local";
import { API, configToEnv, dlqName, QUEUES, SCHEDULES, settingsToEnv, TABLE } from "@icp/store";
import { afterAll, beforeAll, describe, expect, inject, it, vi } from "vitest";
import { externalFor } from "../../scripts/lambda-bundle.mjs";
import { type Declared, evaluateSstConfig, refPath } from "./sst-fake.js";

/**
 * sst.config.ts (evaluated against recording fakes) and the local stack (started for real on
 * DynamoDB Local + in-process SQS) must declare the same resources. Both sides are reduced
 * to one shape and compared, so a drift shows up as a readable diff.
 */
type Topology = {
  table: {
    hashKey: string;
    rangeKey: string;
    ttl: string | undefined;
    /** name -> [hash key, range key, projection] */
    indexes: Record<string, [string, string, string]>;
  };
  queues: Record<
    string,
    { dlq: string; maxReceiveCount: number; visibilityTimeout: number; batchSize: number; handler: string }
  >;
  api: string;
  schedules: Record<string, { handler: string; schedule: string }>;
};

const ROOT = new URL("../../", import.meta.url);
/** Queue names in the local stack are `<prefix><Name>`; unique per run, stripped to compare. */
const PREFIX = `contract${Date.now().toString(36)}-`;
const seconds = (d: unknown) => Number(/^(\d+) seconds?$/.exec(String(d))?.[1] ?? Number.NaN);
const fileOf = (handler: string) => `${handler.replace(/\.[A-Za-z_$][\w$]*$/, "")}.ts`;

// ---------------------------------------------------------------- the SST side

let declared: Declared[];
const all = (type: string, ds = declared) => ds.filter((d) => d.type === type);
const one = (type: string, name: string, ds = declared) => {
  const found = all(type, ds).filter((d) => d.name === name);
  expect(found, `${type} ${name}`).toHaveLength(1);
  return found[0] as Declared;
};
type FunctionArgs = Record<string, unknown> & { handler: string };
/** Every function SST would create: queue subscribers, API routes, cron jobs. */
function functionsOf(ds: Declared[]): { owner: string; fn: FunctionArgs }[] {
  return ds.flatMap((d) => [
    ...d.calls
      .filter((c) => c.method === "subscribe" || c.method === "route")
      .map((c) => ({ owner: d.name, fn: (c.method === "route" ? c.args[1] : c.args[0]) as FunctionArgs })),
    ...(d.type === "sst.aws.Cron" ? [{ owner: d.name, fn: d.args.function as FunctionArgs }] : []),
  ]);
}

function sstTopology(): Topology {
  const t = one("sst.aws.Dynamo", TABLE.name).args as {
    primaryIndex: { hashKey: string; rangeKey: string };
    globalIndexes: Record<string, { hashKey: string; rangeKey: string; projection?: string }>;
    ttl?: string;
  };
  const queues: Topology["queues"] = {};
  for (const q of all("sst.aws.Queue").filter((d) => d.args.dlq)) {
    const dlq = q.args.dlq as { queue: unknown; retry: number };
    const sub = q.calls.filter((c) => c.method === "subscribe");
    expect(sub, `${q.name} has one subscriber`).toHaveLength(1);
    const [fn, opts] = (sub[0]?.args ?? []) as [FunctionArgs, { batch: { size: number; partialResponses: boolean } }];
    expect(opts.batch.partialResponses, `${q.name}: ReportBatchItemFailures`).toBe(true);
    queues[q.name] = {
      dlq: refPath(dlq.queue)?.replace(/\.arn$/, "") ?? "?",
      maxReceiveCount: dlq.retry,
      visibilityTimeout: seconds(q.args.visibilityTimeout),
      batchSize: opts.batch.size,
      handler: fn.handler,
    };
  }
  const routes = one("sst.aws.ApiGatewayV2", API.name).calls.filter((c) => c.method === "route");
  expect(routes.map((r) => r.args[0])).toEqual(["$default"]);
  return {
    table: {
      hashKey: t.primaryIndex.hashKey,
      rangeKey: t.primaryIndex.rangeKey,
      ttl: t.ttl,
      indexes: Object.fromEntries(
        // SST projects every attribute unless told otherwise.
        Object.entries(t.globalIndexes).map(([n, ix]) => [n, [ix.hashKey, ix.rangeKey, ix.projection ?? "all"]]),
      ),
    },
    queues,
    api: (routes[0]?.args[1] as FunctionArgs | undefined)?.handler ?? "?",
    schedules: Object.fromEntries(
      all("sst.aws.Cron").map((c) => [
        c.name,
        { handler: (c.args.function as FunctionArgs).handler, schedule: String(c.args.schedule) },
      ]),
    ),
  };
}

// ---------------------------------------------------------------- the local side

let stack: Stack;
let localTopology: Topology;
/** Resource names the local stack hands its handlers as SST_RESOURCE_<Name>, like SST's links. */
let linkedLocally: string[];

async function readLocalTopology(): Promise<Topology> {
  const ddb = stack.store.ddb;
  const { Table } = await ddb.send(new DescribeTableCommand({ TableName: stack.cfg.tableName }));
  const key = (ks: { AttributeName?: string; KeyType?: string }[] = [], type: string) =>
    ks.find((k) => k.KeyType === type)?.AttributeName ?? "?";
  const ttl = await ddb.send(new DescribeTimeToLiveCommand({ TableName: stack.cfg.tableName }));
  // Every key attribute is a string, as sst.config.ts declares them.
  expect(new Set(Table?.AttributeDefinitions?.map((a) => a.AttributeType))).toEqual(new Set(["S"]));

  // What the pollers (the local "event source mappings") really ask SQS for.
  const receives = new Map<string, ReceiveMessageCommandInput>();
  stack.store.sqs.middlewareStack.add(
    (next, ctx) => async (args) => {
      if (ctx.commandName === "ReceiveMessageCommand") {
        const input = args.input as ReceiveMessageCommandInput;
        if (input.QueueUrl) receives.set(input.QueueUrl, input);
      }
      return next(args);
    },
    { step: "initialize", name: "contractRecorder" },
  );
  const local = Object.values(stack.queues);
  await vi.waitFor(() => expect(receives.size).toBe(local.length), { timeout: 10_000 });

  const queues: Topology["queues"] = {};
  for (const q of local) {
    const { Attributes: a = {} } = await stack.store.sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: q.url, AttributeNames: ["All"] }),
    );
    const redrive = JSON.parse(a.RedrivePolicy ?? "{}") as { deadLetterTargetArn?: string; maxReceiveCount?: number };
    const name = (q.url.split("/").pop() ?? "").replace(PREFIX, "");
    queues[name] = {
      dlq: (redrive.deadLetterTargetArn?.split(":").pop() ?? "?").replace(PREFIX, ""),
      maxReceiveCount: Number(redrive.maxReceiveCount),
      visibilityTimeout: Number(a.VisibilityTimeout),
      batchSize: receives.get(q.url)?.MaxNumberOfMessages ?? Number.NaN,
      handler: q.spec.handler,
    };
  }
  return {
    table: {
      hashKey: key(Table?.KeySchema, "HASH"),
      rangeKey: key(Table?.KeySchema, "RANGE"),
      ttl: ttl.TimeToLiveDescription?.AttributeName,
      indexes: Object.fromEntries(
        (Table?.GlobalSecondaryIndexes ?? []).map((ix) => [
          ix.IndexName,
          [key(ix.KeySchema, "HASH"), key(ix.KeySchema, "RANGE"), ix.Projection?.ProjectionType?.toLowerCase() ?? "?"],
        ]),
      ),
    },
    queues,
    // The local stack serves the manifest's API handler and fires the manifest's SCHEDULES on
    // timers; it has no other source for them (and does not expose its timers).
    api: API.handler,
    schedules: Object.fromEntries(SCHEDULES.map((s) => [s.name, { handler: s.handler, schedule: s.schedule }])),
  };
}

beforeAll(async () => {
  ({ declared } = await evaluateSstConfig());
  stack = await startStack({
    port: 0,
    dynamoEndpoint: inject("dynamoEndpoint"),
    tableName: `${PREFIX}table`,
    queuePrefix: PREFIX,
    seed: false,
    onWorkerError: () => {},
  });
  localTopology = await readLocalTopology();
  // MailFrom: linked in AWS only when its secret is set (the From is else the Email's sender).
  linkedLocally = Object.keys({ ...configToEnv(stack.cfg), ...settingsToEnv(stack.settings) })
    .filter((k) => k.startsWith("SST_RESOURCE_"))
    .map((k) => k.slice("SST_RESOURCE_".length))
    .filter((name) => name !== "MailFrom");
});
afterAll(() => stack?.stop());

// ---------------------------------------------------------------- the contract

describe("sst.config.ts and the local stack declare the same infrastructure", () => {
  it("the same table, key schema, GSIs and TTL attribute", () => {
    expect(sstTopology().table).toEqual(localTopology.table);
    expect(Object.keys(localTopology.table.indexes).sort()).toEqual(TABLE.indexes.map((ix) => ix.name).sort());
  });

  it("the same queues, DLQs, redrive counts, visibility timeouts, batch sizes and handlers", () => {
    expect(sstTopology().queues).toEqual(localTopology.queues);
    expect(Object.keys(localTopology.queues).sort()).toEqual(QUEUES.map((q) => q.name).sort());
  });

  it("the same API handler and schedules", () => {
    const sst = sstTopology();
    expect(sst.api).toEqual(localTopology.api);
    expect(sst.schedules).toEqual(localTopology.schedules);
  });
});

describe("sst.config.ts", () => {
  it("keeps point-in-time recovery on the table", () => {
    expect(one("sst.aws.Dynamo", TABLE.name).args.transform).toEqual({
      table: { pointInTimeRecovery: { enabled: true } },
    });
  });

  it("gives every queue a DLQ of its own, with a CloudWatch alarm on its depth", () => {
    const dlqs = all("sst.aws.Queue").filter((d) => !d.args.dlq);
    expect(dlqs.map((d) => d.name).sort()).toEqual(QUEUES.map((q) => dlqName(q.name)).sort());
    const alarms = all("aws.cloudwatch.MetricAlarm");
    expect(alarms.map((a) => refPath((a.args.dimensions as Record<string, unknown>).QueueName)).sort()).toEqual(
      dlqs.map((d) => `${d.name}.nodes.queue.name`).sort(),
    );
    for (const a of alarms)
      expect(a.args).toMatchObject({
        namespace: "AWS/SQS",
        metricName: "ApproximateNumberOfMessagesVisible",
        comparisonOperator: "GreaterThanThreshold",
        threshold: 0,
      });
  });

  it("keeps each queue's visibility timeout at 6x its function's timeout", () => {
    for (const q of QUEUES) {
      const queue = one("sst.aws.Queue", q.name);
      const fn = queue.calls[0]?.args[0] as FunctionArgs;
      expect(seconds(fn.timeout)).toBe(q.timeout);
      expect(seconds(queue.args.visibilityTimeout)).toBeGreaterThanOrEqual(6 * seconds(fn.timeout));
    }
  });

  it("builds every function on nodejs22.x with Powertools' service name, linked to what the local stack links", () => {
    const fns = functionsOf(declared);
    expect(fns.length).toBe(1 + QUEUES.length + SCHEDULES.length);
    // The local stack sets SST_RESOURCE_<Name> for each resource a handler may read, as SST's links do.
    const links = [...linkedLocally].sort();
    expect(links).toEqual(
      expect.arrayContaining([TABLE.name, ...QUEUES.map((q) => q.name), "TrackingSecret", "PublicUrl"]),
    );
    for (const { owner, fn } of fns) {
      expect(fn.runtime, owner).toBe("nodejs22.x");
      expect((fn.environment as Record<string, string>).POWERTOOLS_SERVICE_NAME, owner).toBe("icp-sequencer");
      expect((fn.link as unknown[]).map(refPath).sort(), owner).toEqual(links);
      const kind = owner === API.name ? "api" : QUEUES.some((q) => q.name === owner) ? "worker" : "schedule";
      // The same bundling as `npm run build` (what bench/bundles.ts measures).
      expect(fn.nodejs, owner).toEqual({
        format: "esm",
        minify: true,
        esbuild: { external: externalFor(kind) },
        plugins: "./scripts/lambda-bundle.mjs",
      });
    }
    const api = functionsOf([one("sst.aws.ApiGatewayV2", API.name)])[0]?.fn;
    expect(api).toMatchObject({ timeout: `${API.timeout} seconds`, memory: `${API.memory} MB` });
  });

  it("wires every functions/*.ts module to exactly one resource, and every wired handler exists", async () => {
    const wired = functionsOf(declared).map(({ fn }) => fn.handler);
    const files = readdirSync(new URL("functions/", ROOT), { withFileTypes: true })
      .filter((f) => f.isFile() && f.name.endsWith(".ts"))
      .map((f) => `functions/${f.name}`);
    const count = (file: string) => wired.filter((h) => fileOf(h) === file).length;
    expect(Object.fromEntries(files.map((f) => [f, count(f)]))).toEqual(Object.fromEntries(files.map((f) => [f, 1])));
    for (const handler of wired) {
      const url = new URL(fileOf(handler), ROOT);
      expect(existsSync(url), `${fileOf(handler)} exists`).toBe(true);
      const mod = (await import(/* @vite-ignore */ url.href)) as Record<string, unknown>;
      expect(typeof mod[handler.split(".").pop() ?? ""], `${handler} is an exported function`).toBe("function");
    }
  });

  it("requires the tracking secret and links the API's public URL", () => {
    expect(one("sst.Secret", "TrackingSecret").args).toEqual({});
    const url = one("sst.Linkable", "PublicUrl").args as { properties: { url: unknown } };
    expect(refPath(url.properties.url)).toBe(`${API.name}.url`);
  });

  it("throttles every API route by default (burst and steady rate)", () => {
    const stage = (one("sst.aws.ApiGatewayV2", API.name).args.transform as { stage: Record<string, unknown> }).stage;
    const limits = stage.defaultRouteSettings as { throttlingBurstLimit: number; throttlingRateLimit: number };
    expect(limits.throttlingBurstLimit).toBeGreaterThan(0);
    expect(limits.throttlingRateLimit).toBeGreaterThan(0);
    expect(limits.throttlingBurstLimit).toBeGreaterThanOrEqual(limits.throttlingRateLimit);
  });

  it("retains and protects prod data, and removes other stages", () => {
    return evaluateSstConfig().then(({ config }) => {
      expect(config.app({ stage: "prod" })).toMatchObject({ removal: "retain", protect: true, home: "aws" });
      expect(config.app({ stage: "dev" })).toMatchObject({ removal: "remove", protect: false });
    });
  });

  it("creates SES and alarm notifications only when their secrets are set", async () => {
    const types = (ds: Declared[]) => ds.map((d) => `${d.type} ${d.name}`);
    const off = types(declared);
    expect(off.filter((t) => /Secret|Email|SnsTopic|sns\./.test(t))).toEqual(["sst.Secret TrackingSecret"]);

    const on = await evaluateSstConfig({
      SST_SECRET_SesFromAddress: "hello@example.com",
      SST_SECRET_MailFrom: "sales@example.com",
      SST_SECRET_AlarmEmail: "o@x.io",
    });
    expect(types(on.declared)).toEqual(
      expect.arrayContaining([
        "sst.Secret SesFromAddress",
        "sst.aws.Email Email",
        "sst.Secret MailFrom",
        "sst.Secret AlarmEmail",
        "sst.aws.SnsTopic Alarms",
        "aws.sns.TopicSubscription AlarmEmailSubscription",
      ]),
    );
    const email = on.declared.find((d) => d.type === "sst.aws.Email");
    expect(refPath(email?.args.sender)).toBe("SesFromAddress.value");
    for (const { fn } of functionsOf(on.declared))
      expect((fn.link as unknown[]).map(refPath)).toEqual(expect.arrayContaining(["Email", "MailFrom"]));
    for (const a of on.declared.filter((d) => d.type === "aws.cloudwatch.MetricAlarm"))
      expect((a.args.alarmActions as unknown[]).map(refPath)).toEqual(["Alarms.arn"]);
  });

  it("declares resources for whatever the manifest lists (a new queue and schedule need no infra edit)", async () => {
    vi.resetModules();
    vi.doMock("../../packages/store/src/infra/manifest.ts", async (original) => {
      const m = (await original()) as typeof import("../../packages/store/src/infra/manifest.js");
      return {
        ...m,
        QUEUES: [...m.QUEUES, { ...m.QUEUES[0], name: "ExtraQueue", handler: "functions/extra.handler", batchSize: 7 }],
        SCHEDULES: [
          ...m.SCHEDULES,
          {
            name: "ExtraSweep",
            handler: "functions/extra-sweep.handler",
            schedule: "rate(1 hour)",
            timeout: 300,
            localEverySeconds: 60,
          },
        ],
      };
    });
    try {
      const { declared: ds } = await evaluateSstConfig();
      const queue = one("sst.aws.Queue", "ExtraQueue", ds);
      expect(queue.args).toMatchObject({ dlq: { retry: QUEUES[0].maxReceiveCount } });
      expect(refPath((queue.args.dlq as { queue: unknown }).queue)).toBe("ExtraQueueDlq.arn");
      expect(queue.calls[0]?.args[1]).toEqual({ batch: { size: 7, partialResponses: true } });
      expect(ds.some((d) => d.type === "aws.cloudwatch.MetricAlarm" && d.name === "ExtraQueueDlqAlarm")).toBe(true);
      const cron = one("sst.aws.Cron", "ExtraSweep", ds);
      expect(cron.args).toMatchObject({
        schedule: "rate(1 hour)",
        function: { handler: "functions/extra-sweep.handler", timeout: "300 seconds", runtime: "nodejs22.x" },
      });
      const links = (cron.args.function as FunctionArgs).link as unknown[];
      expect(links.map(refPath)).toEqual(expect.arrayContaining(["ExtraQueue", "ExtraQueueDlq"]));
    } finally {
      vi.doUnmock("../../packages/store/src/infra/manifest.ts");
      vi.resetModules();
    }
  });
});
