/**
 * Evidence for a finding of the ingest investigation (not a benchmark): functions/lib/sqs-batch
 * creates ONE BatchProcessor per handler module, and the local stack runs several poller loops
 * on one module (IngestQueue 4, RouteQueue 2). When two invocations overlap, the second one's
 * prepare() clears the first one's recorded failures, so a failed message is reported by
 * neither, the poller deletes it, and it is lost instead of retried / dead-lettered.
 * (In AWS one Lambda instance runs one invocation at a time, so this is local-stack only.)
 *
 *   npx tsx bench/profile/sqs-batch-race.ts
 */
import type { SQSEvent, SQSRecord } from "aws-lambda";
import { z } from "zod";
import { sqsHandler } from "../../functions/lib/sqs-batch.js";

process.env.POWERTOOLS_METRICS_DISABLED = "true";
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const rec = (id: string, body: unknown): SQSRecord => ({
  messageId: id,
  receiptHandle: id,
  body: JSON.stringify(body),
  attributes: {
    ApproximateReceiveCount: "1",
    SentTimestamp: "0",
    SenderId: "x",
    ApproximateFirstReceiveTimestamp: "0",
  },
  messageAttributes: {},
  md5OfBody: "",
  eventSource: "aws:sqs",
  eventSourceARN: "arn:aws:sqs:us-east-1:000000000000:q",
  awsRegion: "us-east-1",
});
const h = sqsHandler("RouteQueue", z.object({ fail: z.boolean(), ms: z.number() }), async (m) => {
  await sleep(m.ms);
  if (m.fail) throw new Error("boom");
});
const A: SQSEvent = { Records: [rec("a1-fails", { fail: true, ms: 10 }), rec("a2-ok", { fail: false, ms: 50 })] };
const B: SQSEvent = { Records: [rec("b1-ok", { fail: false, ms: 30 })] };
const pa = h(A);
await sleep(20); // A's a1 has failed by now; B starts (like a second poller loop)
const pb = h(B);
const [ra, rb] = await Promise.all([pa, pb]);
console.log(
  "A reports failures:",
  JSON.stringify(ra.batchItemFailures),
  " B reports failures:",
  JSON.stringify(rb.batchItemFailures),
);
const solo = await h({ Records: [rec("c1-fails", { fail: true, ms: 10 })] });
console.log("alone, a failing message is reported:", JSON.stringify(solo.batchItemFailures));
