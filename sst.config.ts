/// <reference path="./.sst/platform/config.d.ts" />

/**
 * AWS infrastructure, built from the same resource manifest as the local stack
 * (packages/store/src/manifest.ts), so both declare the same table, indexes and queues.
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
    const { API, QUEUES, TABLE, dlqName, visibilityTimeout } = await import("./packages/store/src/manifest");

    const fields: Record<string, "string"> = { [TABLE.partitionKey]: "string", [TABLE.sortKey]: "string" };
    const indexes: Record<string, { hashKey: string; rangeKey: string }> = {};
    for (const ix of TABLE.indexes) {
      fields[ix.partitionKey] = "string";
      fields[ix.sortKey] = "string";
      indexes[ix.name] = { hashKey: ix.partitionKey, rangeKey: ix.sortKey };
    }
    const table = new sst.aws.Dynamo(TABLE.name, {
      fields,
      primaryIndex: { hashKey: TABLE.partitionKey, rangeKey: TABLE.sortKey },
      globalIndexes: indexes,
      ttl: TABLE.ttlAttribute,
    });

    const queues = QUEUES.map((spec) => {
      const dlq = new sst.aws.Queue(dlqName(spec.name), {
        transform: { queue: { messageRetentionSeconds: 1_209_600 } },
      });
      const queue = new sst.aws.Queue(spec.name, {
        visibilityTimeout: `${visibilityTimeout(spec)} seconds`,
        dlq: { queue: dlq.arn, retry: spec.maxReceiveCount },
      });
      return { spec, queue, dlq };
    });
    const links = [table, ...queues.map((q) => q.queue)];

    for (const { spec, queue, dlq } of queues) {
      queue.subscribe(
        { handler: spec.handler, timeout: `${spec.timeout} seconds`, link: links, runtime: "nodejs20.x" },
        { batch: { size: spec.batchSize, partialResponses: true } },
      );
      new aws.cloudwatch.MetricAlarm(`${spec.name}DlqAlarm`, {
        comparisonOperator: "GreaterThanThreshold",
        evaluationPeriods: 1,
        metricName: "ApproximateNumberOfMessagesVisible",
        namespace: "AWS/SQS",
        period: 300,
        statistic: "Maximum",
        threshold: 0,
        dimensions: { QueueName: dlq.nodes.queue.name },
        alarmDescription: `${spec.name}: messages in the dead-letter queue`,
      });
    }

    const api = new sst.aws.ApiGatewayV2(API.name);
    api.route("$default", {
      handler: API.handler,
      link: links,
      timeout: `${API.timeout} seconds`,
      memory: `${API.memory} MB`,
      runtime: "nodejs20.x",
    });
    return { api: api.url, table: table.name };
  },
});
