import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import { listCapturedMail } from "@icp/store";
import type { AppEnv } from "../../context.js";
import { Problem } from "../../problem.js";
import { problemResponses } from "../../schemas.js";

const json = <T extends z.ZodType>(schema: T, description: string) => ({
  description,
  content: { "application/json": { schema } },
});

const CapturedMailSchema = z
  .object({
    id: z.string(),
    receivedAt: z.string(),
    from: z.string(),
    to: z.array(z.string()),
    subject: z.string(),
    messageId: z.string().optional(),
    headers: z.record(z.string(), z.string()),
    text: z.string().optional(),
    html: z.string().optional(),
    size: z.number().int(),
  })
  .openapi("CapturedMail");

/** The local mail capture, mounted at /v1/mail. */
export const mailRoutes = new OpenAPIHono<AppEnv>().openapi(
  createRoute({
    method: "get",
    path: "/",
    tags: ["Mail"],
    summary: "Mail captured by the local SMTP server for this workspace, newest first (always empty in AWS)",
    request: {
      query: z.object({
        limit: z.coerce.number().int().min(1).max(200).default(50),
        cursor: z.string().max(500).optional(),
      }),
    },
    responses: {
      200: json(z.object({ items: z.array(CapturedMailSchema), nextCursor: z.string().optional() }), "Mail"),
      ...problemResponses(400, 401),
    },
  }),
  async (c) => {
    const q = c.req.valid("query");
    if (q.cursor && !Buffer.from(q.cursor, "base64url").toString("utf8").startsWith("M#"))
      throw new Problem("validation", "cursor: not a cursor from this list", [
        { field: "cursor", message: "not a cursor from this list" },
      ]);
    return c.json(await listCapturedMail(c.get("store"), c.get("workspaceId"), q), 200);
  },
);
