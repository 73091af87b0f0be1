import type { APIGatewayProxyEventV2, Context, ScheduledEvent, SQSEvent, SQSRecord } from "aws-lambda";

/** The events Lambda hands to each kind of handler, as AWS shapes them (only what we read is real). */

export const lambdaContext = (name: string): Context => ({
  callbackWaitsForEmptyEventLoop: true,
  functionName: name,
  functionVersion: "$LATEST",
  invokedFunctionArn: `arn:aws:lambda:us-east-1:123456789012:function:${name}`,
  memoryLimitInMB: "1024",
  awsRequestId: `req-${Math.random().toString(36).slice(2)}`,
  logGroupName: `/aws/lambda/${name}`,
  logStreamName: "local",
  getRemainingTimeInMillis: () => 30_000,
  done: () => {},
  fail: () => {},
  succeed: () => {},
});

export function httpEvent(
  method: string,
  path: string,
  headers: Record<string, string> = {},
  body?: string,
): APIGatewayProxyEventV2 {
  const host = "abc123.execute-api.us-east-1.amazonaws.com";
  const [rawPath = path, rawQueryString = ""] = path.split("?");
  return {
    version: "2.0",
    routeKey: "$default",
    rawPath,
    rawQueryString,
    headers: { host, "user-agent": "vitest", ...headers },
    requestContext: {
      accountId: "123456789012",
      apiId: "abc123",
      domainName: host,
      domainPrefix: "abc123",
      http: { method, path: rawPath, protocol: "HTTP/1.1", sourceIp: "127.0.0.1", userAgent: "vitest" },
      requestId: "request-1",
      routeKey: "$default",
      stage: "$default",
      time: new Date().toUTCString(),
      timeEpoch: Date.now(),
    },
    isBase64Encoded: false,
    ...(body !== undefined ? { body } : {}),
  };
}

export function sqsEvent(queue: string, bodies: readonly string[]): SQSEvent {
  const now = String(Date.now());
  return {
    Records: bodies.map(
      (body, i): SQSRecord => ({
        messageId: `${queue}-msg-${i}`,
        receiptHandle: `rh-${i}`,
        body,
        attributes: {
          ApproximateReceiveCount: "1",
          SentTimestamp: now,
          SenderId: "local",
          ApproximateFirstReceiveTimestamp: now,
        },
        messageAttributes: {},
        md5OfBody: "",
        eventSource: "aws:sqs",
        eventSourceARN: `arn:aws:sqs:us-east-1:123456789012:${queue}`,
        awsRegion: "us-east-1",
      }),
    ),
  };
}

export function scheduledEvent(rule: string): ScheduledEvent {
  return {
    version: "0",
    id: "schedule-1",
    "detail-type": "Scheduled Event",
    source: "aws.events",
    account: "123456789012",
    time: new Date().toISOString(),
    region: "us-east-1",
    resources: [`arn:aws:events:us-east-1:123456789012:rule/${rule}`],
    detail: {},
  };
}
