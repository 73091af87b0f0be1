import { z } from "@hono/zod-openapi";
import { SequenceDefinition } from "@icp/core";

export const IdParam = z.object({
  id: z
    .string()
    .regex(/^seq_[0-9A-Z]{26}$/, "not a sequence id")
    .openapi({ param: { name: "id", in: "path" }, example: "seq_01JB3ZQ8V4Y6M7N2P5R8S0T1W3" }),
});
export const VersionParam = IdParam.extend({
  version: z.coerce
    .number()
    .int()
    .min(1)
    .openapi({ param: { name: "version", in: "path" }, example: 2 }),
});

export const EXAMPLE: z.input<typeof SequenceDefinition> = {
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

export const SequenceSchema = z
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

export const SequenceVersionSchema = z
  .intersection(
    SequenceDefinition,
    z.object({ ...Bookkeeping, changes: z.array(ChangeSchema).describe("What changed against the previous version") }),
  )
  .openapi("SequenceVersion");

export const TemplateProblemSchema = z
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

export const PreviewBody = z
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

export const PreviewSchema = z
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
