export { run } from "./run.js";
export { ApiError, Client, NetworkError } from "./client.js";
export { type Limits, type Part, csvRecordEnds, splitCsv, splitJson } from "./split.js";
export { formatTable } from "./table.js";
