import type { RouteHandler, z } from "@hono/zod-openapi";
import {
  type SequenceDefinition as Definition,
  renderStep,
  stepVariants,
  TEMPLATE_HELPERS,
  TEMPLATE_VARIABLES,
  TemplateError,
  templateContext,
  unsafeWebhookUrls,
  validateSequence,
} from "@icp/core";
import {
  allowPrivateWebhooks,
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
  type SequenceVersionRecord,
  type StoredSequence,
} from "@icp/store";
import type { Context } from "hono";
import type { AppEnv } from "../../../context.js";
import { Problem } from "../../../problem.js";
import type * as routes from "./routes.js";
import type { PreviewBody } from "./schemas.js";

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

/** 422 `unsafe-url` naming each webhook step whose URL outbound requests may not use (see core outbound-url.ts). */
function assertSafeWebhooks(def: Definition) {
  const unsafe = unsafeWebhookUrls(def, { allowPrivate: allowPrivateWebhooks() });
  const first = unsafe[0];
  if (!first) return;
  const errors = unsafe.map((u) => ({ field: u.path, step: u.stepId, reason: u.reason, message: u.message }));
  throw new Problem("unsafe-url", `step ${first.stepId} ${first.path}: ${first.message}`, errors);
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

export const create: RouteHandler<typeof routes.create, AppEnv> = async (c) => {
  const def = c.req.valid("json");
  assertValid(def);
  assertSafeWebhooks(def);
  // Too large (413) and concurrent saves (409) are mapped in errors.ts.
  const seq = await createSequence(c.get("store"), c.get("workspaceId"), def, c.get("actor"));
  c.header("location", `/v1/sequences/${seq.id}`);
  return c.json(seq, 201);
};

export const list: RouteHandler<typeof routes.list, AppEnv> = async (c) =>
  c.json({ items: await listSequences(c.get("store"), c.get("workspaceId")) }, 200);

export const get: RouteHandler<typeof routes.get, AppEnv> = async (c) =>
  c.json(await mustGet(c, c.req.valid("param").id), 200);

export const update: RouteHandler<typeof routes.update, AppEnv> = async (c) => {
  const { id } = c.req.valid("param");
  const def = c.req.valid("json");
  assertValid(def);
  assertSafeWebhooks(def);
  const saved = await putSequenceVersion(c.get("store"), c.get("workspaceId"), id, def, c.get("actor"));
  if (!saved) throw new Problem("not-found", `no sequence ${id} in this workspace`);
  return c.json({ ...saved.sequence, changes: saved.version.changes }, 200);
};

export const listVersions: RouteHandler<typeof routes.listVersions, AppEnv> = async (c) => {
  const { id } = c.req.valid("param");
  const items = await listSequenceVersions(c.get("store"), c.get("workspaceId"), id);
  if (!items.length) throw new Problem("not-found", `no sequence ${id} in this workspace`);
  return c.json({ items }, 200);
};

export const getVersion: RouteHandler<typeof routes.getVersion, AppEnv> = async (c) => {
  const { id, version } = c.req.valid("param");
  return c.json(await mustGetVersion(c, id, version), 200);
};

type PreviewRequest = z.infer<typeof PreviewBody>;

/** The sequence version and step to render; 404 / 400 naming what is missing. */
async function previewStep(c: Context<AppEnv>, id: string, b: PreviewRequest) {
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
  return { seq, step, variants };
}

/** The account, contact (named or the one an enrollment would pick) and sender the templates read. */
async function previewRecipient(c: Context<AppEnv>, b: PreviewRequest) {
  const store = c.get("store");
  const ws = c.get("workspaceId");
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
  return { account, contact, sender };
}

export const preview: RouteHandler<typeof routes.preview, AppEnv> = async (c) => {
  const { id } = c.req.valid("param");
  const b = c.req.valid("json");
  const { seq, step, variants } = await previewStep(c, id, b);
  const { account, contact, sender } = await previewRecipient(c, b);
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
};
