export { mailRoutes } from "./mail.js";
export { senderRoutes } from "./senders.js";
export { taskRoutes } from "./tasks.js";
