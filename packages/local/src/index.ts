export * from "./dynamo.js";
export * from "./poller.js";
export * from "./ports.js";
export * from "./queues.js";
export * from "./seed.js";
export * from "./smtp.js";
export * from "./stack.js";
