import { CreateQueueCommand, GetQueueAttributesCommand, SendMessageCommand, SQSClient } from "@aws-sdk/client-sqs";
import { createApp, shedRecently } from "@icp/api";
import { startPoller } from "@icp/local";
import { startFauxqs } from "fauxqs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

/**
 * The local runtime runs workers in the API's process: while the API sheds load, its pollers
 * receive nothing (the queue keeps every message), and they drain the queue once it stops.
 */
let server: { port: number; stop(): Promise<void> };
let sqs: SQSClient;
let queueUrl: string;

beforeAll(async () => {
  server = (await startFauxqs({ port: 0, logger: false })) as never;
  sqs = new SQSClient({
    endpoint: `http://127.0.0.1:${server.port}`,
    region: "us-east-1",
    credentials: { accessKeyId: "local", secretAccessKey: "local" },
  });
  const q = await sqs.send(new CreateQueueCommand({ QueueName: "pause-test" }));
  queueUrl = q.QueueUrl ?? "";
});
afterAll(async () => {
  sqs?.destroy();
  await server?.stop();
});

describe("local poller", () => {
  it("receives nothing while paused and drains the queue once the pause ends", async () => {
    for (let i = 0; i < 5; i++) await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: `m${i}` }));
    let paused = true;
    const seen: string[] = [];
    const poller = startPoller({
      sqs,
      queueUrl,
      queueArn: "arn:aws:sqs:us-east-1:000000000000:pause-test",
      handler: async (event) => {
        seen.push(...event.Records.map((r) => r.body));
        return { batchItemFailures: [] };
      },
      batchSize: 10,
      concurrency: 2,
      visibilityTimeout: 30,
      retryDelay: 1,
      paused: () => paused,
    });
    try {
      await new Promise((r) => setTimeout(r, 1500));
      expect(seen).toEqual([]);
      const attrs = await sqs.send(
        new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ["ApproximateNumberOfMessages"] }),
      );
      expect(attrs.Attributes?.ApproximateNumberOfMessages).toBe("5");
      paused = false;
      const deadline = Date.now() + 15_000;
      while (seen.length < 5 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      expect([...seen].sort()).toEqual(["m0", "m1", "m2", "m3", "m4"]);
    } finally {
      paused = false;
      await poller.stop();
    }
  });

  it("is told to pause by the API for a second after it refused a request for load", async () => {
    expect(shedRecently()).toBe(false); // nothing refused in this process yet
    // No request may be in flight: every /v1 request is shed before it needs a store.
    const app = createApp({
      store: () => {
        throw new Error("a shed request never reaches the store");
      },
      maxInFlight: 0,
    });
    const res = await app.request("/v1/icps");
    expect(res.status).toBe(503);
    expect(res.headers.get("retry-after")).toBe("1");
    expect(shedRecently()).toBe(true);
    expect(shedRecently(1000, performance.now() + 1500)).toBe(false);
  });
});
