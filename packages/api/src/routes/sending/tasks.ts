import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import { type EventInput, TASK_CHANNELS, TaskOutcome, taskOutcomeEvents } from "@icp/core";
import { completeTask, getTask, listTasks, publishEvents, TaskAlreadyCompletedError } from "@icp/store";
import type { AppEnv } from "../../context.js";
import { Problem } from "../../problem.js";
import { problemResponses } from "../../schemas.js";

const json = <T extends z.ZodType>(schema: T, description: string) => ({
  description,
  content: { "application/json": { schema } },
});

export const TaskSchema = z
  .object({
    id: z.string(),
    status: z.enum(["open", "done"]),
    channel: z.enum(TASK_CHANNELS),
    enrollmentId: z.string(),
    accountId: z.string(),
    contactId: z.string().optional(),
    sequenceId: z.string(),
    sequenceVersion: z.number().int(),
    stepId: z.string(),
    variant: z.string().optional(),
    senderId: z.string().optional(),
    contact: z.object({
      name: z.string().optional(),
      email: z.string().optional(),
      title: z.string().optional(),
      linkedinUrl: z.string().optional(),
    }),
    company: z.string().optional(),
    domain: z.string().optional(),
    subject: z.string().optional(),
    body: z.string().describe("The rendered message or call script"),
    createdAt: z.string(),
    completedAt: z.string().optional(),
    outcome: TaskOutcome.optional(),
    note: z.string().optional(),
  })
  .openapi("Task");

const IdParam = z.object({
  id: z
    .string()
    .regex(/^tsk_[0-9A-Z]{26}$/, "not a task id")
    .openapi({ param: { name: "id", in: "path" } }),
});

/** Mounted at /v1/tasks. */
export const taskRoutes = new OpenAPIHono<AppEnv>()
  .openapi(
    createRoute({
      method: "get",
      path: "/",
      tags: ["Tasks"],
      summary: "LinkedIn, call and manual steps to do (oldest first)",
      request: {
        query: z.object({
          status: z.enum(["open", "done"]).default("open"),
          channel: z.enum(TASK_CHANNELS).optional(),
          limit: z.coerce.number().int().min(1).max(500).default(50),
          cursor: z.string().max(2000).optional(),
        }),
      },
      responses: {
        200: json(z.object({ items: z.array(TaskSchema), nextCursor: z.string().optional() }), "Tasks"),
        ...problemResponses(400, 401),
      },
    }),
    async (c) => {
      const q = c.req.valid("query");
      let page: Awaited<ReturnType<typeof listTasks>>;
      try {
        page = await listTasks(c.get("store"), c.get("workspaceId"), q);
      } catch (e) {
        if (q.cursor && (e instanceof SyntaxError || (e as Error).name === "ValidationException"))
          throw new Problem("validation", "cursor: not a cursor from this list", [
            { field: "cursor", message: "not a cursor from this list" },
          ]);
        throw e;
      }
      return c.json(page, 200);
    },
  )
  .openapi(
    createRoute({
      method: "get",
      path: "/{id}",
      tags: ["Tasks"],
      summary: "One task",
      request: { params: IdParam },
      responses: { 200: json(TaskSchema, "Task"), ...problemResponses(401, 404) },
    }),
    async (c) => {
      const { id } = c.req.valid("param");
      const t = await getTask(c.get("store"), c.get("workspaceId"), id);
      if (!t) throw new Problem("not-found", `no task ${id} in this workspace`);
      return c.json(t, 200);
    },
  )
  .openapi(
    createRoute({
      method: "post",
      path: "/{id}/complete",
      tags: ["Tasks"],
      summary:
        "Complete a task with its outcome; records the matching engagement events (sent, connection_accepted, replied, meeting_booked)",
      request: {
        params: IdParam,
        body: {
          required: true,
          content: {
            "application/json": {
              schema: z.object({ outcome: TaskOutcome, note: z.string().max(2000).optional() }),
            },
          },
        },
      },
      responses: { 200: json(TaskSchema, "Completed"), ...problemResponses(400, 401, 404, 409) },
    }),
    async (c) => {
      const store = c.get("store");
      const ws = c.get("workspaceId");
      const { id } = c.req.valid("param");
      const body = c.req.valid("json");
      let t: Awaited<ReturnType<typeof completeTask>>;
      try {
        t = await completeTask(store, ws, id, body);
      } catch (e) {
        if (e instanceof TaskAlreadyCompletedError)
          throw new Problem("conflict", `task ${id} was already completed with outcome ${e.task.outcome}`);
        throw e;
      }
      if (!t) throw new Problem("not-found", `no task ${id} in this workspace`);
      const events: EventInput[] = taskOutcomeEvents(body.outcome).map((type) => ({
        id: `task:${t.id}:${type}`,
        type,
        accountId: t.accountId,
        ...(t.contactId ? { contactId: t.contactId } : {}),
        enrollmentId: t.enrollmentId,
        sequenceId: t.sequenceId,
        sequenceVersion: t.sequenceVersion,
        stepId: t.stepId,
        channel: t.channel,
        ...(t.variant ? { variant: t.variant.slice(0, 40) } : {}),
        at: t.completedAt ?? new Date().toISOString(),
      }));
      if (events.length) await publishEvents(store, ws, events);
      return c.json(t, 200);
    },
  );
