import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import { coverage, ImportFileError, type ParsedImport, parseCsv, parseJsonAccounts } from "@icp/core";
import { getImport, type ImportJob, listImports, listRowErrors, submitImport } from "@icp/store";
import type { HonoRequest } from "hono";
import { bodyLimit } from "hono/body-limit";
import type { AppEnv } from "../../context.js";
import { decodeUpload } from "../../decode.js";
import { Problem } from "../../problem.js";
import { ImportSchema, problemResponses } from "../../schemas.js";

/** Upload cap per request; larger lists go as several imports (the CLI splits them). */
export const MAX_IMPORT_BYTES = 25 * 1024 * 1024;

const view = (job: ImportJob) => ({
  ...job,
  progress: job.total === 0 ? 1 : Math.min(1, (job.accepted + job.rejected) / job.total),
  // Share of this upload's accounts that qualify, with the too-broad / too-narrow warning.
  ...(job.accountsDone ? { coverage: coverage(job.accountsDone, job.qualified ?? 0) } : {}),
});

const IdParam = z.object({
  id: z
    .string()
    .regex(/^imp_[0-9A-Z]{26}$/, "not an import id")
    .openapi({ param: { name: "id", in: "path" } }),
});

async function parseUpload(req: HonoRequest, contentType: string, now: Date): Promise<ParsedImport> {
  const type = contentType.split(";")[0]?.trim().toLowerCase();
  if (type === "text/csv" || type === "application/csv" || type === "text/plain")
    // Bytes, not req.text(): Excel saves CSV as windows-1252 or UTF-16, which UTF-8 decoding would mangle.
    return parseCsv(decodeUpload(new Uint8Array(await req.arrayBuffer()), req.query("filename")).text, now);
  if (type === "application/json") {
    let body: unknown;
    try {
      body = await req.json();
    } catch (e) {
      throw new Problem("validation", `body is not valid JSON: ${(e as Error).message}`, [
        { field: "body", message: "invalid JSON" },
      ]);
    }
    const accounts = (body as { accounts?: unknown } | null)?.accounts;
    if (!Array.isArray(accounts))
      throw new Problem("validation", 'expected {"accounts": [...]}', [
        { field: "accounts", message: "required array" },
      ]);
    return parseJsonAccounts(accounts, now);
  }
  throw new Problem("unsupported-media-type", `send text/csv or application/json, not ${type || "no content type"}`);
}

/** Mounted at /v1/imports. */
export const importRoutes = new OpenAPIHono<AppEnv>()
  .openapi(
    createRoute({
      method: "post",
      path: "/",
      tags: ["Imports"],
      summary: "Upload accounts (CSV or JSON); scoring happens in the background",
      description:
        "CSV columns are matched case- and punctuation-insensitively, with common CRM/Apollo export names as aliases (Website, Company, # Employees, Annual Revenue, Technologies, First Name, Person Linkedin Url…). Rows with errors are reported with line and field; the other rows are imported. Up to 100,000 rows / 25 MB per request. Send `Idempotency-Key` to make a retried upload a no-op.",
      middleware: [
        bodyLimit({
          maxSize: MAX_IMPORT_BYTES,
          onError: () => {
            throw new Problem(
              "payload-too-large",
              `uploads are limited to ${MAX_IMPORT_BYTES / 1024 / 1024} MB per request: split the file into several imports`,
            );
          },
        }),
      ] as const,
      request: {
        headers: z.object({
          "idempotency-key": z.string().min(1).max(200).optional(),
        }),
        query: z.object({ filename: z.string().max(300).optional() }),
        // Not "required": zod-openapi would then validate CSV bodies against the JSON schema.
        body: {
          content: {
            "text/csv": { schema: z.string().openapi({ example: "Website,Company,# Employees\nacme.com,Acme,120\n" }) },
            // parseUpload reads these as CSV too; undeclared, the validator would answer 415 first.
            "application/csv": { schema: z.string() },
            "text/plain": { schema: z.string() },
            "application/json": {
              schema: z.object({
                accounts: z.array(z.unknown()).openapi({
                  description:
                    "Account objects: domain, name, industry, employees, revenue, country, growthStage, technologies[], techMaturity, signals[{type, at, amount?, detail?}], contacts[{email, firstName, lastName, title, linkedinUrl}]",
                }),
              }),
            },
          },
        },
      },
      responses: {
        202: { description: "Accepted", content: { "application/json": { schema: ImportSchema } } },
        ...problemResponses(400, 401, 413, 415, 422),
      },
    }),
    async (c) => {
      const now = new Date();
      let parsed: ParsedImport;
      try {
        parsed = await parseUpload(c.req, c.req.header("content-type") ?? "", now);
      } catch (e) {
        if (e instanceof ImportFileError)
          throw new Problem(
            e.status === 400 ? "validation" : e.status === 413 ? "payload-too-large" : "unprocessable",
            e.message,
            [{ field: "file", message: e.message, ...(e.line ? { line: e.line } : {}) }],
          );
        throw e;
      }
      if (parsed.rows.length === 0)
        throw new Problem(
          "unprocessable",
          `none of the ${parsed.total} rows could be imported; first error: line ${parsed.errors[0]?.line} ${parsed.errors[0]?.field}: ${parsed.errors[0]?.message}`,
          parsed.errors.slice(0, 100),
        );
      const filename = c.req.query("filename");
      const idempotencyKey = c.req.header("idempotency-key");
      const { job, created } = await submitImport(c.get("store"), c.get("workspaceId"), parsed, {
        format: (c.req.header("content-type") ?? "").includes("json") ? "json" : "csv",
        ...(filename ? { filename } : {}),
        ...(idempotencyKey ? { idempotencyKey } : {}),
      });
      c.header("location", `/v1/imports/${job.id}`);
      if (!created) c.header("idempotent-replayed", "true");
      return c.json({ ...view(job), errors: created ? parsed.errors.slice(0, 100) : [] }, 202);
    },
  )
  .openapi(
    createRoute({
      method: "get",
      path: "/{id}",
      tags: ["Imports"],
      summary: "Import status, progress and row errors (paginated by errorsCursor)",
      request: {
        params: IdParam,
        query: z.object({
          errorsLimit: z.coerce.number().int().min(0).max(1000).default(100),
          errorsCursor: z.string().max(100).optional(),
        }),
      },
      responses: {
        200: { description: "Import", content: { "application/json": { schema: ImportSchema } } },
        ...problemResponses(401, 404),
      },
    }),
    async (c) => {
      const { id } = c.req.valid("param");
      const { errorsLimit, errorsCursor } = c.req.valid("query");
      // A cursor is the sort key of a row error; anything else would be a DynamoDB ValidationException (500).
      if (errorsCursor !== undefined && !/^ERR#\d{7}#/.test(errorsCursor))
        throw new Problem("validation", "errorsCursor is not one this API returned", [
          { field: "errorsCursor", message: "invalid cursor" },
        ]);
      const store = c.get("store");
      const ws = c.get("workspaceId");
      const job = await getImport(store, ws, id);
      if (!job) throw new Problem("not-found", `no import ${id} in this workspace`);
      const errors = errorsLimit > 0 ? await listRowErrors(store, ws, id, errorsLimit, errorsCursor) : { items: [] };
      return c.json(
        { ...view(job), errors: errors.items, ...(errors.nextCursor ? { errorsNextCursor: errors.nextCursor } : {}) },
        200,
      );
    },
  )
  .openapi(
    createRoute({
      method: "get",
      path: "/",
      tags: ["Imports"],
      summary: "Recent imports, newest first",
      responses: {
        200: {
          description: "Imports",
          content: { "application/json": { schema: z.object({ items: z.array(ImportSchema) }) } },
        },
        ...problemResponses(401),
      },
    }),
    async (c) => c.json({ items: (await listImports(c.get("store"), c.get("workspaceId"))).map(view) }, 200),
  );
