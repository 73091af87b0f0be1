import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import { Enrollment, EnrollmentStatus, Track, trackForTier } from "@icp/core";
import {
  decodeEnrollmentCursor,
  EnrollError,
  type EnrollmentFilter,
  enroll,
  getAccount,
  getEnrollment,
  listEnrollments,
  pauseEnrollment,
  resolveAccountRef,
  resumeEnrollment,
  stopEnrollment,
} from "@icp/store";
import type { Context } from "hono";
import type { AppEnv } from "../../context.js";
import { Problem } from "../../problem.js";
import { problemResponses } from "../../schemas.js";

const EnrollmentSchema = z.object(Enrollment.shape).openapi("Enrollment");
const PageSchema = z.object({ items: z.array(EnrollmentSchema), nextCursor: z.string().optional() });
const json = <T extends z.ZodType>(schema: T, description: string) => ({
  description,
  content: { "application/json": { schema } },
});

const IdParam = z.object({
  id: z
    .string()
    .min(1)
    .max(100)
    .openapi({ param: { name: "id", in: "path" }, example: "enr_01J0000000000000000000000" }),
});
const RefParam = z.object({
  ref: z
    .string()
    .min(1)
    .max(300)
    .openapi({ param: { name: "ref", in: "path" }, description: "Account id (acc_…) or domain" }),
});
const ListQuery = z.object({
  status: EnrollmentStatus.optional(),
  sequenceId: z.string().min(1).max(100).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(50),
  cursor: z.string().max(2000).optional(),
});

const EnrollBody = z
  .object({
    accountId: z.string().min(1).max(100).optional(),
    domain: z.string().min(1).max(253).optional(),
    sequenceId: z.string().min(1).max(100),
    version: z.number().int().positive().optional().describe("Sequence version (default: the latest)"),
    track: Track.optional().describe("Default: the account's tier"),
    contactId: z.string().min(1).max(100).optional().describe("Default: best persona match with an email"),
  })
  .refine((b) => b.accountId !== undefined || b.domain !== undefined, {
    message: "accountId or domain is required",
    path: ["accountId"],
  })
  .openapi("EnrollRequest");

async function list(c: Context<AppEnv>, f: EnrollmentFilter) {
  if (f.cursor && !decodeEnrollmentCursor(f.cursor))
    throw new Problem("validation", "cursor is not one this API returned", [
      { field: "cursor", message: "invalid cursor" },
    ]);
  const page = await listEnrollments(c.get("store"), c.get("workspaceId"), f);
  return { items: page.items, ...(page.nextCursor ? { nextCursor: page.nextCursor } : {}) };
}

async function load(c: Context<AppEnv>, id: string) {
  const e = await getEnrollment(c.get("store"), c.get("workspaceId"), id);
  if (!e) throw new Problem("not-found", `no enrollment ${id} in this workspace`);
  return e;
}

const action = (verb: "pause" | "resume", summary: string) =>
  createRoute({
    method: "post",
    path: `/{id}/${verb}`,
    tags: ["Enrollments"],
    summary,
    request: { params: IdParam },
    responses: { 200: json(EnrollmentSchema, "The enrollment"), ...problemResponses(401, 404, 409) },
  });

const stopRoute = createRoute({
  method: "post",
  path: "/{id}/stop",
  tags: ["Enrollments"],
  summary: "Stop an enrollment for good (frees its track); stopping an ended one changes nothing",
  request: {
    params: IdParam,
    body: {
      required: false,
      content: { "application/json": { schema: z.object({ reason: z.string().trim().min(1).max(500).optional() }) } },
    },
  },
  responses: { 200: json(EnrollmentSchema, "The enrollment"), ...problemResponses(400, 401, 404) },
});

/** Mounted at /v1/enrollments. */
export const enrollmentRoutes = new OpenAPIHono<AppEnv>()
  .openapi(
    createRoute({
      method: "post",
      path: "/",
      tags: ["Enrollments"],
      summary: "Enroll an account in a sequence by hand (one open enrollment per account per track)",
      request: { body: { required: true, content: { "application/json": { schema: EnrollBody } } } },
      responses: {
        201: json(EnrollmentSchema, "Enrolled"),
        200: json(EnrollmentSchema, "Already enrolled in this sequence on this track"),
        ...problemResponses(400, 401, 404, 409),
      },
    }),
    async (c) => {
      const b = c.req.valid("json");
      const store = c.get("store");
      const ws = c.get("workspaceId");
      const ref = b.accountId ?? (b.domain as string);
      const field = b.accountId ? "accountId" : "domain";
      const accountId = resolveAccountRef(ws, ref);
      const account = accountId ? await getAccount(store, ws, accountId) : undefined;
      if (!account)
        throw new Problem("not-found", `no account ${ref} in this workspace`, [
          { field, message: "no such account in this workspace" },
        ]);
      const track = b.track ?? trackForTier(account.tier);
      if (!track)
        throw new Problem("conflict", `account ${account.domain} is disqualified; name a track to enroll it anyway`, [
          { field: "track", message: "required for a disqualified account" },
        ]);
      try {
        const r = await enroll(store, ws, {
          accountId: account.id,
          sequenceId: b.sequenceId,
          track,
          source: "manual",
          ...(b.version ? { version: b.version } : {}),
          ...(b.contactId ? { contactId: b.contactId } : {}),
        });
        if (r.created) return c.json(r.enrollment, 201);
        if (r.enrollment.sequenceId === b.sequenceId) return c.json(r.enrollment, 200);
        throw new Problem(
          "conflict",
          `account ${account.domain} already has an open ${track} enrollment (${r.enrollment.id} in ${r.enrollment.sequenceId}); stop it first`,
          [{ field: "track", message: `open enrollment ${r.enrollment.id}` }],
        );
      } catch (e) {
        if (!(e instanceof EnrollError)) throw e;
        const f = e.code === "contact-not-found" ? "contactId" : e.code === "account-not-found" ? field : "sequenceId";
        if (e.code === "empty-sequence") throw new Problem("conflict", e.message, [{ field: f, message: e.message }]);
        throw new Problem("not-found", e.message, [{ field: f, message: e.message }]);
      }
    },
  )
  .openapi(
    createRoute({
      method: "get",
      path: "/",
      tags: ["Enrollments"],
      summary: "Enrollments newest first, by status and/or sequence",
      request: { query: ListQuery },
      responses: { 200: json(PageSchema, "A page"), ...problemResponses(400, 401) },
    }),
    async (c) => {
      const q = c.req.valid("query");
      return c.json(
        await list(c, {
          limit: q.limit,
          ...(q.status ? { status: q.status } : {}),
          ...(q.sequenceId ? { sequenceId: q.sequenceId } : {}),
          ...(q.cursor ? { cursor: q.cursor } : {}),
        }),
        200,
      );
    },
  )
  .openapi(
    createRoute({
      method: "get",
      path: "/{id}",
      tags: ["Enrollments"],
      summary: "One enrollment: status, next step and when it is due, step history",
      request: { params: IdParam },
      responses: { 200: json(EnrollmentSchema, "The enrollment"), ...problemResponses(401, 404) },
    }),
    async (c) => c.json(await load(c, c.req.valid("param").id), 200),
  )
  .openapi(action("pause", "Pause an active enrollment (it keeps its track)"), async (c) => {
    const e = await load(c, c.req.valid("param").id);
    if (e.status === "paused") return c.json(e, 200);
    if (e.status !== "active") throw new Problem("conflict", `enrollment ${e.id} is ${e.status}; it cannot be paused`);
    const out = await pauseEnrollment(c.get("store"), c.get("workspaceId"), e.id);
    if (out?.status !== "paused") throw new Problem("conflict", `enrollment ${e.id} is ${out?.status}`);
    return c.json(out, 200);
  })
  .openapi(action("resume", "Resume a paused enrollment: its step is due at the next window opening"), async (c) => {
    const e = await load(c, c.req.valid("param").id);
    if (e.status === "active") return c.json(e, 200);
    if (e.status !== "paused") throw new Problem("conflict", `enrollment ${e.id} is ${e.status}; it cannot be resumed`);
    const out = await resumeEnrollment(c.get("store"), c.get("workspaceId"), e.id);
    if (out?.status !== "active") throw new Problem("conflict", `enrollment ${e.id} is ${out?.status}`);
    return c.json(out, 200);
  })
  .openapi(stopRoute, async (c) => {
    const e = await load(c, c.req.valid("param").id);
    const reason = (c.req.valid("json") as { reason?: string } | undefined)?.reason ?? "stopped manually";
    const out = await stopEnrollment(c.get("store"), c.get("workspaceId"), e.id, reason);
    if (!out) throw new Problem("not-found", `no enrollment ${e.id} in this workspace`);
    return c.json(out, 200);
  });

/** An account's enrollments, mounted at /v1/accounts next to the account routes. */
export const accountEnrollmentRoutes = new OpenAPIHono<AppEnv>().openapi(
  createRoute({
    method: "get",
    path: "/{ref}/enrollments",
    tags: ["Enrollments"],
    summary: "An account's enrollments, newest first",
    request: { params: RefParam, query: ListQuery },
    responses: { 200: json(PageSchema, "A page"), ...problemResponses(400, 401, 404) },
  }),
  async (c) => {
    const ws = c.get("workspaceId");
    const { ref } = c.req.valid("param");
    const id = resolveAccountRef(ws, ref);
    if (!id || !(await getAccount(c.get("store"), ws, id)))
      throw new Problem("not-found", `no account ${ref} in this workspace`);
    const q = c.req.valid("query");
    return c.json(
      await list(c, {
        accountId: id,
        limit: q.limit,
        ...(q.status ? { status: q.status } : {}),
        ...(q.sequenceId ? { sequenceId: q.sequenceId } : {}),
        ...(q.cursor ? { cursor: q.cursor } : {}),
      }),
      200,
    );
  },
);
