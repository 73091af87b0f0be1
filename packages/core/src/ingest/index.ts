export { aliasesOf, headerKey, IMPORT_FIELDS, type ImportField, resolveColumn } from "./columns.js";
export {
  contactIdentity,
  ImportFileError,
  type ImportRow,
  MAX_IMPORT_ROWS,
  mergeAccounts,
  mergeByDomain,
  mergeContacts,
  mergeSignals,
  type ParsedImport,
  parseAmount,
  parseCsv,
  parseJsonAccounts,
  parseSignals,
  type RowError,
  rowToAccount,
  zodRowErrors,
} from "./import-rows.js";
