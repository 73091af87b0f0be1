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
export { CHUNK_ROWS, type IngestResult, ingestChunk, submitImport } from "./ingest-chunk.js";
