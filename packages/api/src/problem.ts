import type { Context } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import type { z } from "zod";

/** Stable problem types (RFC 9457); clients switch on `type`, never on `title` text. */
export const PROBLEMS = {
  validation: { status: 400, title: "Request is not valid" },
  unprocessable: { status: 422, title: "Content cannot be processed" },
  "unsafe-url": { status: 422, title: "URL not allowed for outbound requests" },
  unauthorized: { status: 401, title: "Missing or invalid API key" },
  forbidden: { status: 403, title: "API key lacks the scope" },
  "service-unavailable": { status: 503, title: "Overloaded, retry later" },
  "too-many-requests": { status: 429, title: "Too many requests, retry later" },
  "not-found": { status: 404, title: "Not found" },
  conflict: { status: 409, title: "Conflict" },
  "payload-too-large": { status: 413, title: "Payload too large" },
  "unsupported-media-type": { status: 415, title: "Unsupported media type" },
  internal: { status: 500, title: "Internal error" },
} as const satisfies Record<string, { status: number; title: string }>;
export type ProblemType = keyof typeof PROBLEMS;

export type FieldError = { field: string; message: string; line?: number };

export class Problem extends Error {
  constructor(
    readonly type: ProblemType,
    readonly detail: string,
    readonly errors?: FieldError[],
    readonly status: number = PROBLEMS[type].status,
  ) {
    super(detail);
  }
}

export function problemBody(p: Problem, instance?: string) {
  return {
    type: `/problems/${p.type}`,
    title: PROBLEMS[p.type].title,
    status: p.status,
    detail: p.detail,
    ...(instance ? { instance } : {}),
    ...(p.errors?.length ? { errors: p.errors } : {}),
  };
}

export function problemResponse(c: Context, p: Problem) {
  return c.body(JSON.stringify(problemBody(p, c.req.path)), p.status as ContentfulStatusCode, {
    "content-type": "application/problem+json",
  });
}

/** zod issues -> `[{field: "criteria.0.points", message}]`, the field named as a dotted path. */
export function zodFieldErrors(error: z.ZodError, prefix?: string): FieldError[] {
  return error.issues.map((i) => ({
    field: [prefix, ...i.path.map(String)].filter(Boolean).join(".") || "body",
    message: i.message,
  }));
}

export function validationProblem(error: z.ZodError, where: "body" | "query" | "path" | string): Problem {
  const errors = zodFieldErrors(error, where === "body" ? undefined : where);
  const first = errors[0];
  return new Problem("validation", first ? `${first.field}: ${first.message}` : "invalid request", errors);
}
