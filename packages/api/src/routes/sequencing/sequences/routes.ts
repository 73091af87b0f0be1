import { createRoute, z } from "@hono/zod-openapi";
import { SequenceDefinition, TEMPLATE_HELPERS, TEMPLATE_VARIABLES } from "@icp/core";
import { problemResponses } from "../../../schemas.js";
import {
  EXAMPLE,
  IdParam,
  PreviewBody,
  PreviewSchema,
  SequenceSchema,
  SequenceVersionSchema,
  TemplateProblemSchema,
  VersionParam,
} from "./schemas.js";

/** The contracts of /v1/sequences (paths relative to the mount). */

const json = <T extends z.ZodType>(schema: T, description: string) => ({
  description,
  content: { "application/json": { schema } },
});
const unprocessable = {
  422: {
    description: "Templates or steps that cannot be saved, each with step, field, line and variable",
    content: { "application/problem+json": { schema: TemplateProblemSchema } },
  },
};
const definitionBody = {
  body: {
    required: true,
    content: { "application/json": { schema: SequenceDefinition, example: EXAMPLE } },
  },
};

export const create = createRoute({
  method: "post",
  path: "/",
  tags: ["Sequences"],
  summary: "Create a sequence (version 1): steps per channel with Handlebars templates",
  description:
    "Templates are checked before saving: a template that does not compile, reads an unknown variable, " +
    "uses {{{ }}} or an unknown helper is refused with 422 naming the step, field, line and variable. " +
    `Variables: ${TEMPLATE_VARIABLES.join(", ")} (signals.<type>.at|amount|detail|type). Helpers: ${TEMPLATE_HELPERS.join(", ")}.`,
  request: definitionBody,
  responses: { 201: json(SequenceSchema, "Created"), ...problemResponses(400, 401, 403, 413), ...unprocessable },
});

export const list = createRoute({
  method: "get",
  path: "/",
  tags: ["Sequences"],
  summary: "The workspace's sequences at their latest versions",
  responses: { 200: json(z.object({ items: z.array(SequenceSchema) }), "Sequences"), ...problemResponses(401) },
});

export const get = createRoute({
  method: "get",
  path: "/{id}",
  tags: ["Sequences"],
  summary: "A sequence at its latest version",
  request: { params: IdParam },
  responses: { 200: json(SequenceSchema, "Sequence"), ...problemResponses(400, 401, 404) },
});

export const update = createRoute({
  method: "put",
  path: "/{id}",
  tags: ["Sequences"],
  summary: "Save a new version; enrollments keep the version they started with",
  request: { params: IdParam, ...definitionBody },
  responses: {
    200: json(SequenceSchema, "Saved"),
    ...problemResponses(400, 401, 403, 404, 409, 413),
    ...unprocessable,
  },
});

export const listVersions = createRoute({
  method: "get",
  path: "/{id}/versions",
  tags: ["Sequences"],
  summary: "Every version, oldest first, with who saved it, when, and what changed",
  request: { params: IdParam },
  responses: {
    200: json(z.object({ items: z.array(SequenceVersionSchema) }), "Versions"),
    ...problemResponses(400, 401, 404),
  },
});

export const getVersion = createRoute({
  method: "get",
  path: "/{id}/versions/{version}",
  tags: ["Sequences"],
  summary: "One version",
  request: { params: VersionParam },
  responses: { 200: json(SequenceVersionSchema, "Version"), ...problemResponses(400, 401, 404) },
});

export const preview = createRoute({
  method: "post",
  path: "/{id}/preview",
  tags: ["Sequences"],
  summary: "Render one step for one account (and contact) as it would be sent: subject, HTML, text, variant",
  description:
    "The variant is chosen like for an enrollment (segment+persona > segment > persona targeted content, " +
    "else the A/B split by `seed`, else the default) unless `variant` forces one. Values are HTML-escaped.",
  request: {
    params: IdParam,
    body: {
      required: true,
      content: {
        "application/json": {
          schema: PreviewBody,
          example: { accountId: "acme.com", stepId: "intro", variant: "B" },
        },
      },
    },
  },
  responses: { 200: json(PreviewSchema, "Rendered step"), ...problemResponses(400, 401, 403, 404) },
});
