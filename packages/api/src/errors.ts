import type { OpenAPIHonoOptions } from "@hono/zod-openapi";
import { SequenceConflictError, SequenceTooLargeError, VersionConflictError } from "@icp/store";
import type { Context, ErrorHandler, NotFoundHandler } from "hono";
import { HTTPException } from "hono/http-exception";
import type { AppEnv } from "./context.js";
import { logger } from "./observability.js";
import { Problem, type ProblemType, problemResponse, validationProblem } from "./problem.js";

/** Every answer that is not a success is application/problem+json; this file decides which problem. */

/** The root app's `defaultHook`: every zod validation failure becomes one problem naming the fields. */
export const validationHook: OpenAPIHonoOptions<AppEnv>["defaultHook"] = (result, c) => {
  if (!result.success)
    return problemResponse(c, validationProblem(result.error, result.target === "json" ? "body" : result.target));
};

export const notFound: NotFoundHandler<AppEnv> = (c) =>
  problemResponse(c, new Problem("not-found", `no route for ${c.req.method} ${c.req.path}`));

/** What Hono and its middleware throw (body limit 413, validator 415, …) as a problem of the same status. */
function httpProblem(err: HTTPException, c: Context<AppEnv>): Problem {
  const status = err.status;
  if (status === 415)
    return new Problem(
      "unsupported-media-type",
      `content type "${c.req.header("content-type") ?? "none"}" is not accepted by ${c.req.method} ${c.req.path}; /openapi.json lists the accepted ones`,
    );
  const type: ProblemType =
    status === 413 ? "payload-too-large" : status === 401 ? "unauthorized" : status >= 500 ? "internal" : "validation";
  return new Problem(type, err.message || "request refused", undefined, status);
}

/**
 * Store errors whose message says it all, answered the same on every route. Errors that need the
 * request to be explained (which field, which line) are mapped by their route instead.
 */
const STORE_ERRORS: ReadonlyArray<readonly [new (...args: never[]) => Error, ProblemType]> = [
  [VersionConflictError, "conflict"],
  [SequenceConflictError, "conflict"],
  [SequenceTooLargeError, "payload-too-large"],
];

/** Problems as they are; HTTP exceptions, known store errors and unparsable bodies mapped; anything else is logged and a 500. */
export const onError: ErrorHandler<AppEnv> = (err, c) => {
  if (err instanceof Problem) return problemResponse(c, err);
  if (err instanceof HTTPException) return problemResponse(c, httpProblem(err, c));
  const stored = STORE_ERRORS.find(([type]) => err instanceof type);
  if (stored) return problemResponse(c, new Problem(stored[1], err.message));
  if (err instanceof SyntaxError)
    return problemResponse(c, new Problem("validation", `malformed body: ${err.message}`));
  logger.error("unhandled", {
    requestId: c.get("requestId"),
    path: c.req.path,
    error: String(err),
    stack: err.stack,
  });
  return problemResponse(
    c,
    new Problem("internal", `something went wrong on our side; quote request id ${c.get("requestId")} to support`),
  );
};
