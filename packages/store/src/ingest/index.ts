export {
  completeImportIfDone,
  createImport,
  failImport,
  getImport,
  type ImportJob,
  type ImportStatus,
  importForIdempotencyKey,
  isChunkDone,
  listImports,
  listRowErrors,
  MAX_STORED_ROW_ERRORS,
  markChunkDone,
  type NewImport,
  putRowErrors,
} from "./import-jobs.js";
export { type IngestResult, ingestChunk } from "./ingest-chunk.js";
export { CHUNK_ROWS, submitImport } from "./submit-import.js";
