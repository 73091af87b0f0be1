// A Lambda execution environment for one built bundle, in a child process of its own: the
// bundle is imported once (its cold start), then its handler runs for each event the parent
// sends over IPC, one at a time, as Lambda invokes a warm container. Errors go back by message.
import { pathToFileURL } from "node:url";

const [file, exportName = "handler"] = process.argv.slice(2);
const handler = (await import(pathToFileURL(file).href))[exportName];

const context = (name) => ({
  callbackWaitsForEmptyEventLoop: true,
  functionName: name,
  functionVersion: "$LATEST",
  invokedFunctionArn: `arn:aws:lambda:us-east-1:123456789012:function:${name}`,
  memoryLimitInMB: "1024",
  awsRequestId: `req-${Math.random().toString(36).slice(2)}`,
  logGroupName: `/aws/lambda/${name}`,
  logStreamName: "bundle-runner",
  getRemainingTimeInMillis: () => 30_000,
  done() {},
  fail() {},
  succeed() {},
});

let queue = Promise.resolve();
process.on("message", ({ id, event }) => {
  queue = queue.then(async () => {
    try {
      const result = await handler(event, context(process.env.AWS_LAMBDA_FUNCTION_NAME ?? "bundle"));
      process.send({ id, result: result ?? null });
    } catch (e) {
      process.send({ id, error: { name: e?.name, message: String(e?.message ?? e) } });
    }
  });
});
process.on("disconnect", () => process.exit(0));
process.send({ ready: typeof handler === "function" });
