export { ApiError, Client, NetworkError } from "./client.js";
export { run } from "./run.js";
export { csvRecordEnds, type Limits, type Part, splitCsv, splitJson } from "./split.js";
export { formatTable } from "./table.js";
