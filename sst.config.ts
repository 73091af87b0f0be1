/// <reference path="./.sst/platform/config.d.ts" />

/**
 * AWS infrastructure, built generically from the resource manifest
 * (packages/store/src/infra/manifest.ts) that the local stack is built from too, so both declare the
 * same table, indexes, queues and schedules. test/infra/contract.test.ts holds them together;
 * `npm run check:infra` type-checks this file against SST's platform types.
 */
export default $config({
  app(input) {
    return {
      name: "icp-sequencer",
      removal: input?.stage === "prod" ? "retain" : "remove",
      protect: input?.stage === "prod",
      home: "aws",
    };
  },
  async run() {
    const { API, QUEUES, SCHEDULES, TABLE, dlqName, visibilityTimeout } = await import(
      "./packages/store/src/infra/manifest"
    );
    const { externalFor } = await import("./scripts/lambda-bundle.mjs");
    const { dashboardCopyFiles } = await import("./packages/api/src/dashboard/assets");
    const { docsCopyFiles } = await import("./packages/api/src/docs-assets");

    const fields: Record<string, "string"> = { [TABLE.partitionKey]: "string", [TABLE.sortKey]: "string" };
    const globalIndexes: Record<string, { hashKey: string; rangeKey: string }> = {};
    for (const ix of TABLE.indexes) {
      fields[ix.partitionKey] = "string";
      fields[ix.sortKey] = "string";
      globalIndexes[ix.name] = { hashKey: ix.partitionKey, rangeKey: ix.sortKey };
    }
    // On-demand billing (SST's default): no capacity to plan, pay per request. Point-in-time
    // recovery (35 days of restores, $0.20/GB-month) because the table is the only copy of the data.
    const table = new sst.aws.Dynamo(TABLE.name, {
      fields,
      primaryIndex: { hashKey: TABLE.partitionKey, rangeKey: TABLE.sortKey },
      globalIndexes,
      ttl: TABLE.ttlAttribute,
      transform: { table: { pointInTimeRecovery: { enabled: true } } },
    });

    const queues = QUEUES.map((spec) => {
      // DLQs keep messages 14 days (the SQS maximum) so there is time to inspect and redrive them.
      const dlq = new sst.aws.Queue(dlqName(spec.name), {
        transform: { queue: { messageRetentionSeconds: 1_209_600 } },
      });
      const queue = new sst.aws.Queue(spec.name, {
        visibilityTimeout: `${visibilityTimeout(spec)} seconds`,
        dlq: { queue: dlq.arn, retry: spec.maxReceiveCount },
      });
      return { spec, queue, dlq };
    });

    // Required: signs tracking and unsubscribe links. `sst deploy` refuses to run until it is set
    // (`npx sst secret set TrackingSecret "$(openssl rand -base64 32)"`), and the functions that
    // use it refuse to work without it (packages/store/src/infra/config.ts: fail closed).
    const trackingSecret = new sst.Secret("TrackingSecret");

    // Optional features, switched on by setting a secret (`npx sst secret set <Name> <value>`):
    // SST exposes set secrets to this program as SST_SECRET_<Name>, so nothing is created (and
    // no value is demanded at deploy time) while they are unset. With `Email` linked the send
    // worker mails through SES v2; its From is `MailFrom`, else the Email's sender address.
    const email = process.env.SST_SECRET_SesFromAddress
      ? new sst.aws.Email("Email", { sender: new sst.Secret("SesFromAddress").value })
      : undefined;
    const mailFrom = process.env.SST_SECRET_MailFrom ? new sst.Secret("MailFrom") : undefined;
    const alarmTopic = process.env.SST_SECRET_AlarmEmail ? new sst.aws.SnsTopic("Alarms") : undefined;
    if (alarmTopic)
      new aws.sns.TopicSubscription("AlarmEmailSubscription", {
        topic: alarmTopic.arn,
        protocol: "email",
        endpoint: new sst.Secret("AlarmEmail").value,
      });

    // A custom domain goes here: `new sst.aws.ApiGatewayV2(API.name, { domain: "api.example.com" })`;
    // `api.url` is then that domain, and so are the links in mail. Every route is throttled
    // (a token bucket per route: 500 requests/s sustained, bursts of 1,000) so that a runaway client
    // meets 429s before the account's Lambda concurrency (1,000 by default) runs out.
    const api = new sst.aws.ApiGatewayV2(API.name, {
      transform: { stage: { defaultRouteSettings: { throttlingRateLimit: 500, throttlingBurstLimit: 1000 } } },
    });
    // The API's public URL as a linkable value: the links in mail point at it.
    const publicUrl = new sst.Linkable("PublicUrl", { properties: { url: api.url } });

    // Every function gets the table, every queue (config.ts reads all of them at start), every
    // DLQ (workers put a poison message there at once, with its reason) and the settings of
    // config.ts, and the same runtime and bundling as `npm run build` measures (SST adds the
    // createRequire banner).
    const link = [
      table,
      ...queues.flatMap((q) => [q.queue, q.dlq]),
      trackingSecret,
      publicUrl,
      ...(email ? [email] : []),
      ...(mailFrom ? [mailFrom] : []),
    ];
    const fn = (kind: "api" | "worker" | "schedule", handler: string, timeout: number, memory?: number) => ({
      handler,
      runtime: "nodejs22.x" as const,
      timeout: `${timeout} seconds` as const,
      ...(memory ? { memory: `${memory} MB` as const } : {}),
      link,
      environment: { POWERTOOLS_SERVICE_NAME: "icp-sequencer" },
      nodejs: {
        format: "esm" as const,
        minify: true,
        esbuild: { external: externalFor(kind) },
        plugins: "./scripts/lambda-bundle.mjs", // drops zod's unused locales (see that file)
      },
    });

    for (const { spec, queue, dlq } of queues) {
      queue.subscribe(fn("worker", spec.handler, spec.timeout), {
        // partialResponses = ReportBatchItemFailures: only the failed records of a batch come back.
        batch: { size: spec.batchSize, partialResponses: true },
      });
      new aws.cloudwatch.MetricAlarm(`${spec.name}DlqAlarm`, {
        alarmDescription: `${spec.name}: messages in ${dlqName(spec.name)} (poison messages, see the worker's logs)`,
        namespace: "AWS/SQS",
        metricName: "ApproximateNumberOfMessagesVisible",
        dimensions: { QueueName: dlq.nodes.queue.name },
        statistic: "Maximum",
        period: 300,
        evaluationPeriods: 1,
        comparisonOperator: "GreaterThanThreshold",
        threshold: 0,
        treatMissingData: "notBreaching",
        ...(alarmTopic ? { alarmActions: [alarmTopic.arn], okActions: [alarmTopic.arn] } : {}),
      });
    }

    for (const s of SCHEDULES)
      new sst.aws.Cron(s.name, {
        schedule: s.schedule as `rate(${string})` | `cron(${string})`,
        function: fn("schedule", s.handler, s.timeout),
      });

    // The dashboard's static files (chart.js…) ship as files beside the bundle, read on first request.
    api.route("$default", {
      ...fn("api", API.handler, API.timeout, API.memory),
      copyFiles: [...dashboardCopyFiles(), ...docsCopyFiles()],
    });

    return {
      api: api.url,
      table: table.name,
      ...Object.fromEntries(queues.map(({ spec, queue }) => [spec.name, queue.url])),
    };
  },
});
