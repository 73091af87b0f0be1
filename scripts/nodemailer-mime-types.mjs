// Stands in for nodemailer's mime-funcs/mime-types.js (a 74 KB table of ~2,000 types) in Lambda
// bundles (see nodemailerCommonMimeTypes in lambda-bundle.mjs). nodemailer only consults it to
// guess the type or extension of attachments and alternatives given without one; the mail this
// product sends has neither. Same functions, same answers for the common types below and the same
// fallbacks (test/infra/bundle-trims.test.ts compares them with nodemailer's own table).
import path from "node:path";

const defaultMimeType = "application/octet-stream";
const defaultExtension = "bin";

/** extension -> MIME type */
const extensions = new Map([
  ["txt", "text/plain"],
  ["html", "text/html"],
  ["htm", "text/html"],
  ["csv", "text/csv"],
  ["ics", "text/calendar"],
  ["vcf", "text/x-vcard"],
  ["pdf", "application/pdf"],
  ["png", "image/png"],
  ["jpg", "image/jpeg"],
  ["jpeg", "image/jpeg"],
  ["gif", "image/gif"],
  ["svg", "image/svg+xml"],
  ["webp", "image/webp"],
  ["json", "application/json"],
  ["xml", "application/xml"],
  ["zip", "application/zip"],
  ["doc", "application/msword"],
  ["docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"],
  ["xls", "application/vnd.ms-excel"],
  ["xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"],
  ["ppt", "application/vnd.ms-powerpoint"],
  ["pptx", "application/vnd.openxmlformats-officedocument.presentationml.presentation"],
  ["eml", "message/rfc822"],
]);

/** MIME type -> extension */
const mimeTypes = new Map([...extensions].reverse().map(([ext, type]) => [type, ext]));
mimeTypes.set("text/html", "html");
mimeTypes.set("image/jpeg", "jpeg");

export function detectMimeType(filename) {
  if (!filename) return defaultMimeType;
  const parsed = path.parse(filename);
  const extension = (parsed.ext.substr(1) || parsed.name || "").split("?").shift().trim().toLowerCase();
  return extensions.get(extension) ?? defaultMimeType;
}

export function detectExtension(mimeType) {
  if (!mimeType) return defaultExtension;
  const parts = mimeType.toLowerCase().trim().split("/");
  const rootType = parts.shift().trim();
  const subType = parts.join("/").trim();
  const known = mimeTypes.get(`${rootType}/${subType}`);
  if (known) return known;
  return rootType === "text" ? "txt" : "bin";
}

/** For the test: every extension and type this table knows. */
export const KNOWN = { extensions: [...extensions.keys()], mimeTypes: [...mimeTypes.keys()] };
