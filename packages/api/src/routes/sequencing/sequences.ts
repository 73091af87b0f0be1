import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import {
  type SequenceDefinition as Definition,
  renderStep,
  SequenceDefinition,
  stepVariants,
  TEMPLATE_HELPERS,
  TEMPLATE_VARIABLES,
  TemplateError,
  templateContext,
  validateSequence,
} from "@icp/core";
import {
  createSequence,
  getAccount,
  getSender,
  getSequence,
  getSequenceVersion,
  listSequences,
  listSequenceVersions,
  pickContact,
  putSequenceVersion,
  resolveAccountRef,
  SequenceConflictError,
  SequenceTooLargeError,
  type SequenceVersionRecord,
  type StoredSequence,
} from "@icp/store";
import type { Context } from "hono";
import type { AppEnv } from "../../context.js";
import { Problem } from "../../problem.js";
import { problemResponses } from "../../schemas.js";

const IdParam = z.object({
  id: z
    .string()
    .regex(/^seq_[0-9A-Z]{26}$/, "not a sequence id")
    .openapi({ param: { name: "id", in: "path" }, example: "seq_01JB3ZQ8V4Y6M7N2P5R8S0T1W3" }),
});
const VersionParam = IdParam.extend({
  version: z.coerce
    .number()
    .int()
    .min(1)
    .openapi({ param: { name: "version", in: "path" }, example: 2 }),
});

const EXAMPLE: z.input<typeof SequenceDefinition> = {
  name: "SaaS priority outreach",
  description: "Priority accounts of the SaaS scale-ups ICP",
  steps: [
    {
      id: "intro",
      channel: "email",
      content: {
        subject: "{{company}} + faster outbound",
        body: 'Hi {{default firstName "there"}},\n\n{{#if signals.funding}}Congrats on raising {{money signals.funding.amount}} in {{monthYear signals.funding.at}}!\n{{/if}}Teams in {{default industry "your space"}} use us to …\n\n{{sender.name}}',
      },
      targeted: [
        {
          segment: "saas",
          persona: "vp-sales",
          subject: "Pipeline for {{company}}'s sales team",
          body: "Hi {{firstName}}, …",
        },
      ],
      abVariants: [
        {
          id: "A",
          subject: "{{company}} + faster outbound",
          body: 'Hi {{default firstName "there"}}, short version A',
        },
        {
          id: "B",
          subject: 'Quick question, {{default firstName "there"}}',
          body: 'Hi {{default firstName "there"}}, version B',
        },
      ],
    },
    {
      id: "connect",
      channel: "linkedin_invite",
      delay: { amount: 2, unit: "business_days" },
      content: { body: 'Hi {{default firstName "there"}}, saw {{company}} is hiring {{signals.hiring.detail}}.' },
    },
    {
      id: "bump",
      channel: "email",
      delay: { amount: 3, unit: "business_days" },
      condition: { event: "replied", happened: false, otherwise: "stop" },
      content: { subject: "Re: {{company}}", body: '<p>Any thoughts, {{default firstName "there"}}?</p>' },
    },
  ],
};

const ChangeSchema = z.object({
  op: z.enum(["added", "removed", "changed"]),
  path: z.string().openapi({ example: "steps.intro.content" }),
  from: z.unknown().optional(),
  to: z.unknown().optional(),
});

const Bookkeeping = {
  id: z.string().openapi({ example: "seq_01JB3ZQ8V4Y6M7N2P5R8S0T1W3" }),
  version: z.number().int(),
  createdAt: z.string(),
  createdBy: z.string().openapi({ example: "key:ci" }),
};

const SequenceSchema = z
  .intersection(
    SequenceDefinition,
    z.object({
      ...Bookkeeping,
      version: z.number().int().describe("The latest version: what new enrollments use"),
      updatedAt: z.string(),
      updatedBy: z.string(),
      changes: z.array(ChangeSchema).optional().describe("After a PUT: what changed against the previous version"),
    }),
  )
  .openapi("Sequence");

const SequenceVersionSchema = z
  .intersection(
    SequenceDefinition,
    z.object({ ...Bookkeeping, changes: z.array(ChangeSchema).describe("What changed against the previous version") }),
  )
  .openapi("SequenceVersion");

const TemplateProblemSchema = z
  .object({
    type: z.string().openapi({ example: "/problems/unprocessable" }),
    title: z.string(),
    status: z.number().openapi({ example: 422 }),
    detail: z.string(),
    instance: z.string().optional(),
    errors: z.array(
      z.object({
        field: z.string().openapi({ example: "steps.0.content.body" }),
        step: z.string().openapi({ example: "intro" }),
        line: z.number().int().optional().openapi({ example: 3 }),
        column: z.number().int().optional().openapi({ example: 14 }),
        variable: z.string().optional().openapi({ example: "compnay" }),
        variantId: z.string().optional(),
        segment: z.string().optional(),
        persona: z.string().optional(),
        message: z.string().openapi({ example: 'unknown variable "compnay"; did you mean "company"?' }),
      }),
    ),
  })
  .openapi("TemplateProblem");

const PreviewBody = z
  .object({
    accountId: z.string().min(1).max(300).describe("Account id (acc_…) or domain").openapi({ example: "acme.com" }),
    contactId: z
      .string()
      .min(1)
      .max(320)
      .optional()
      .describe("Contact id or email (default: the contact an enrollment would address)"),
    senderId: z.string().min(1).max(100).optional().describe("Sender whose name/email/signature fill sender.*"),
    stepId: z.string().min(1).max(40).openapi({ example: "intro" }),
    version: z.number().int().min(1).optional().describe("Version to render (default: the latest)"),
    variant: z
      .string()
      .min(1)
      .max(250)
      .optional()
      .describe('Force a variant: "default", an A/B id, or "segment:<s>", "persona:<p>", "segment:<s>+persona:<p>"'),
    seed: z
      .string()
      .min(1)
      .max(100)
      .optional()
      .describe("Enrollment id the A/B split hashes (default: derived from the account)"),
  })
  .openapi("SequencePreviewRequest");

const PreviewSchema = z
  .object({
    sequenceId: z.string(),
    version: z.number().int(),
    stepId: z.string(),
    channel: z.string(),
    accountId: z.string(),
    contactId: z.string().optional(),
    variant: z.string().openapi({ example: "segment:saas+persona:vp-sales" }),
    variants: z.array(z.string()).describe("Every variant of the step"),
    subject: z.string().optional(),
    html: z.string(),
    text: z.string(),
  })
  .openapi("SequencePreview");

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

/** 422 listing every problem of a definition, or nothing when it can be saved. */
function assertValid(def: Definition) {
  const problems = validateSequence(def);
  if (!problems.length) return;
  const errors = problems.map((p) => ({
    field: p.path,
    step: p.stepId,
    ...(p.line !== undefined ? { line: p.line } : {}),
    ...(p.column !== undefined ? { column: p.column } : {}),
    ...(p.variable !== undefined ? { variable: p.variable } : {}),
    ...(p.variantId !== undefined ? { variantId: p.variantId } : {}),
    ...(p.segment !== undefined ? { segment: p.segment } : {}),
    ...(p.persona !== undefined ? { persona: p.persona } : {}),
    message: p.message,
  }));
  const first = errors[0];
  throw new Problem(
    "unprocessable",
    `${problems.length} problem${problems.length === 1 ? "" : "s"} in the sequence; first: step ${first?.step} ${first?.field}${first?.line ? ` line ${first.line}` : ""}: ${first?.message}. Templates can use ${TEMPLATE_VARIABLES.join(", ")} and helpers ${TEMPLATE_HELPERS.join(", ")}`,
    errors,
  );
}

function storageProblem(e: unknown): never {
  if (e instanceof SequenceTooLargeError) throw new Problem("payload-too-large", e.message);
  if (e instanceof SequenceConflictError) throw new Problem("conflict", e.message);
  throw e;
}

async function mustGet(c: Context<AppEnv>, id: string): Promise<StoredSequence> {
  const s = await getSequence(c.get("store"), c.get("workspaceId"), id);
  if (!s) throw new Problem("not-found", `no sequence ${id} in this workspace`);
  return s;
}

async function mustGetVersion(c: Context<AppEnv>, id: string, version: number): Promise<SequenceVersionRecord> {
  const v = await getSequenceVersion(c.get("store"), c.get("workspaceId"), id, version);
  if (!v) throw new Problem("not-found", `sequence ${id} has no version ${version}`);
  return v;
}

export const sequenceRoutes = new OpenAPIHono<AppEnv>()
  .openapi(
    createRoute({
      method: "post",
      path: "/v1/sequences",
      tags: ["Sequences"],
      summary: "Create a sequence (version 1): steps per channel with Handlebars templates",
      description:
        "Templates are checked before saving: a template that does not compile, reads an unknown variable, " +
        "uses {{{ }}} or an unknown helper is refused with 422 naming the step, field, line and variable. " +
        `Variables: ${TEMPLATE_VARIABLES.join(", ")} (signals.<type>.at|amount|detail|type). Helpers: ${TEMPLATE_HELPERS.join(", ")}.`,
      request: definitionBody,
      responses: { 201: json(SequenceSchema, "Created"), ...problemResponses(400, 401, 403, 413), ...unprocessable },
    }),
    async (c) => {
      const def = c.req.valid("json");
      assertValid(def);
      const seq = await createSequence(c.get("store"), c.get("workspaceId"), def, c.get("actor")).catch(storageProblem);
      c.header("location", `/v1/sequences/${seq.id}`);
      return c.json(seq, 201);
    },
  )
  .openapi(
    createRoute({
      method: "get",
      path: "/v1/sequences",
      tags: ["Sequences"],
      summary: "The workspace's sequences at their latest versions",
      responses: { 200: json(z.object({ items: z.array(SequenceSchema) }), "Sequences"), ...problemResponses(401) },
    }),
    async (c) => c.json({ items: await listSequences(c.get("store"), c.get("workspaceId")) }, 200),
  )
  .openapi(
    createRoute({
      method: "get",
      path: "/v1/sequences/{id}",
      tags: ["Sequences"],
      summary: "A sequence at its latest version",
      request: { params: IdParam },
      responses: { 200: json(SequenceSchema, "Sequence"), ...problemResponses(400, 401, 404) },
    }),
    async (c) => c.json(await mustGet(c, c.req.valid("param").id), 200),
  )
  .openapi(
    createRoute({
      method: "put",
      path: "/v1/sequences/{id}",
      tags: ["Sequences"],
      summary: "Save a new version; enrollments keep the version they started with",
      request: { params: IdParam, ...definitionBody },
      responses: {
        200: json(SequenceSchema, "Saved"),
        ...problemResponses(400, 401, 403, 404, 409, 413),
        ...unprocessable,
      },
    }),
    async (c) => {
      const { id } = c.req.valid("param");
      const def = c.req.valid("json");
      assertValid(def);
      const saved = await putSequenceVersion(c.get("store"), c.get("workspaceId"), id, def, c.get("actor")).catch(
        storageProblem,
      );
      if (!saved) throw new Problem("not-found", `no sequence ${id} in this workspace`);
      return c.json({ ...saved.sequence, changes: saved.version.changes }, 200);
    },
  )
  .openapi(
    createRoute({
      method: "get",
      path: "/v1/sequences/{id}/versions",
      tags: ["Sequences"],
      summary: "Every version, oldest first, with who saved it, when, and what changed",
      request: { params: IdParam },
      responses: {
        200: json(z.object({ items: z.array(SequenceVersionSchema) }), "Versions"),
        ...problemResponses(400, 401, 404),
      },
    }),
    async (c) => {
      const { id } = c.req.valid("param");
      const items = await listSequenceVersions(c.get("store"), c.get("workspaceId"), id);
      if (!items.length) throw new Problem("not-found", `no sequence ${id} in this workspace`);
      return c.json({ items }, 200);
    },
  )
  .openapi(
    createRoute({
      method: "get",
      path: "/v1/sequences/{id}/versions/{version}",
      tags: ["Sequences"],
      summary: "One version",
      request: { params: VersionParam },
      responses: { 200: json(SequenceVersionSchema, "Version"), ...problemResponses(400, 401, 404) },
    }),
    async (c) => {
      const { id, version } = c.req.valid("param");
      return c.json(await mustGetVersion(c, id, version), 200);
    },
  )
  .openapi(
    createRoute({
      method: "post",
      path: "/v1/sequences/{id}/preview",
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
    }),
    async (c) => {
      const { id } = c.req.valid("param");
      const b = c.req.valid("json");
      const store = c.get("store");
      const ws = c.get("workspaceId");
      const seq = b.version === undefined ? await mustGet(c, id) : await mustGetVersion(c, id, b.version);
      const step = seq.steps.find((s) => s.id === b.stepId);
      if (!step)
        throw new Problem("validation", `sequence ${id} version ${seq.version} has no step "${b.stepId}"`, [
          { field: "stepId", message: `known steps: ${seq.steps.map((s) => s.id).join(", ")}` },
        ]);
      const variants = stepVariants(step);
      if (b.variant !== undefined && !variants.includes(b.variant))
        throw new Problem("validation", `step ${step.id} has no variant "${b.variant}"`, [
          { field: "variant", message: `variants of this step: ${variants.join(", ")}` },
        ]);
      const accountId = resolveAccountRef(ws, b.accountId);
      const account = accountId ? await getAccount(store, ws, accountId) : undefined;
      if (!account) throw new Problem("not-found", `no account ${b.accountId} in this workspace`);
      const ref = b.contactId;
      const contact = ref
        ? account.contacts.find((x) => x.id === ref || x.email === ref.toLowerCase())
        : await pickContact(store, ws, account);
      if (b.contactId && !contact)
        throw new Problem("not-found", `account ${account.domain} has no contact ${b.contactId}`);
      const sender = b.senderId ? await getSender(store, ws, b.senderId) : undefined;
      if (b.senderId && !sender) throw new Problem("not-found", `no sender ${b.senderId} in this workspace`);
      const ctx = templateContext(account, contact, sender);
      try {
        const r = renderStep(step, ctx, b.seed ?? `preview:${account.id}`, {
          ...(b.variant !== undefined ? { variant: b.variant } : {}),
        });
        return c.json(
          {
            sequenceId: id,
            version: seq.version,
            stepId: step.id,
            channel: step.channel,
            accountId: account.id,
            ...(contact ? { contactId: contact.id } : {}),
            variant: r.variant,
            variants,
            ...(r.subject !== undefined ? { subject: r.subject } : {}),
            html: r.html,
            text: r.text,
          },
          200,
        );
      } catch (e) {
        // Only a version saved before validation existed could hold a template that fails here.
        if (e instanceof TemplateError)
          throw new Problem(
            "unprocessable",
            e.message,
            e.problems.map((p) => ({ field: `steps.${step.id}`, ...p })),
          );
        throw e;
      }
    },
  );
