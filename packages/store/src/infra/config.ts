import { dlqName, QUEUES, type QueueName, TABLE } from "./manifest.js";

/**
 * Where the table and queues are. In AWS the names come from SST links (`SST_RESOURCE_<Name>`
 * env vars, exactly what `Resource` from "sst" reads); locally packages/local sets the same
 * variables plus endpoints. This module is the only reader of those variables.
 */
export type StoreConfig = {
  tableName: string;
  queues: Record<QueueName, string>;
  /** Each queue's dead-letter queue, where handlers put poison messages with their reason. */
  dlqs?: Partial<Record<QueueName, string>>;
  region: string;
  dynamoEndpoint?: string;
  sqsEndpoint?: string;
};

/**
 * Every function needs the table and all queues (handlers publish to each other's queues); a
 * function missing any of them fails naming them all, before touching anything.
 */
export function configFromEnv(env: NodeJS.ProcessEnv = process.env): StoreConfig {
  const missing = [TABLE.name, ...QUEUES.map((q) => q.name)].filter((n) => !env[`SST_RESOURCE_${n}`]);
  if (missing.length) throw new MissingSettingsError(missing);
  const queues = {} as StoreConfig["queues"];
  const dlqs: StoreConfig["dlqs"] = {};
  for (const q of QUEUES) {
    queues[q.name] = linked(q.name, env)?.url ?? "";
    const dlq = linked(dlqName(q.name), env)?.url;
    if (dlq !== undefined) dlqs[q.name] = dlq;
  }
  const cfg: StoreConfig = {
    tableName: linked(TABLE.name, env)?.name ?? "",
    queues,
    dlqs,
    region: env.AWS_REGION ?? "us-east-1",
  };
  if (env.ICP_DYNAMODB_ENDPOINT) cfg.dynamoEndpoint = env.ICP_DYNAMODB_ENDPOINT;
  if (env.ICP_SQS_ENDPOINT) cfg.sqsEndpoint = env.ICP_SQS_ENDPOINT;
  return cfg;
}

/** The env vars a Lambda would get for this config (used by the local runtime and tests). */
export function configToEnv(cfg: StoreConfig): Record<string, string> {
  const env: Record<string, string> = {
    [`SST_RESOURCE_${TABLE.name}`]: JSON.stringify({ name: cfg.tableName }),
    AWS_REGION: cfg.region,
  };
  for (const q of QUEUES) {
    env[`SST_RESOURCE_${q.name}`] = JSON.stringify({ url: cfg.queues[q.name] });
    const dlq = cfg.dlqs?.[q.name];
    if (dlq) env[`SST_RESOURCE_${dlqName(q.name)}`] = JSON.stringify({ url: dlq });
  }
  if (cfg.dynamoEndpoint) env.ICP_DYNAMODB_ENDPOINT = cfg.dynamoEndpoint;
  if (cfg.sqsEndpoint) env.ICP_SQS_ENDPOINT = cfg.sqsEndpoint;
  return env;
}

/**
 * Settings beyond the table and queues, each under the name of the SST resource that links it:
 * `TrackingSecret` (an `sst.Secret`), `PublicUrl` (a Linkable with the API's URL or custom
 * domain), `Email` (the SES identity; its presence selects SES v2 as the mail transport) and
 * `MailFrom` (a Secret; without it the Email's sender when that is an address). Locally
 * packages/local links the same names and mails through its SMTP capture (`ICP_SMTP_URL`).
 */
export type MailSettings =
  | { kind: "ses"; region: string; configSet?: string; endpoint?: string }
  | { kind: "smtp"; url: string };

export type Settings = {
  trackingSecret: string;
  /** Base of tracking and unsubscribe links, without a trailing slash. */
  publicUrl: string;
  mail: MailSettings;
  defaultFrom: string;
};

/** The name an operator knows each setting by (error messages and the README use it). */
export const SETTING_NAMES: Record<keyof Settings, string> = {
  trackingSecret: "TrackingSecret",
  publicUrl: "PublicUrl",
  mail: "Email",
  defaultFrom: "MailFrom",
};

/** A function started without what it needs: thrown before it does any work (fail closed). */
export class MissingSettingsError extends Error {
  override name = "MissingSettingsError";
  constructor(readonly missing: readonly string[]) {
    super(`missing settings: ${missing.join(", ")}`);
  }
}

function linked(name: string, env: NodeJS.ProcessEnv): Record<string, string> | undefined {
  const raw = env[`SST_RESOURCE_${name}`];
  return raw ? (JSON.parse(raw) as Record<string, string>) : undefined;
}

function mailFromEnv(env: NodeJS.ProcessEnv): MailSettings | undefined {
  const email = linked("Email", env);
  if (email)
    return {
      kind: "ses",
      region: env.AWS_REGION ?? "us-east-1",
      ...(email.configSet ? { configSet: email.configSet } : {}),
      ...(env.ICP_SES_ENDPOINT ? { endpoint: env.ICP_SES_ENDPOINT } : {}),
    };
  return env.ICP_SMTP_URL ? { kind: "smtp", url: env.ICP_SMTP_URL } : undefined;
}

/** Whatever settings the environment has; absent ones are undefined, never defaulted. */
export function settingsFromEnv(env: NodeJS.ProcessEnv = process.env): Partial<Settings> {
  const sender = linked("Email", env)?.sender;
  const defaultFrom = linked("MailFrom", env)?.value || (sender?.includes("@") ? sender : undefined);
  const publicUrl = linked("PublicUrl", env)?.url?.replace(/\/+$/, "");
  const mail = mailFromEnv(env);
  const s: Partial<Settings> = {};
  const trackingSecret = linked("TrackingSecret", env)?.value;
  if (trackingSecret) s.trackingSecret = trackingSecret;
  if (publicUrl) s.publicUrl = publicUrl;
  if (mail) s.mail = mail;
  if (defaultFrom) s.defaultFrom = defaultFrom;
  return s;
}

/** The settings a function needs, or a MissingSettingsError naming every one that is missing. */
export function requireSettings<K extends keyof Settings>(
  needs: readonly K[],
  env: NodeJS.ProcessEnv = process.env,
): Pick<Settings, K> {
  const have = settingsFromEnv(env);
  const missing = needs.filter((k) => have[k] === undefined).map((k) => SETTING_NAMES[k]);
  if (missing.length) throw new MissingSettingsError(missing);
  return have as Pick<Settings, K>;
}

/** What each function refuses to start without, besides the table and queues. */
export const API_SETTINGS = ["trackingSecret", "publicUrl"] as const;
export const SEND_SETTINGS = ["trackingSecret", "publicUrl", "mail", "defaultFrom"] as const;

/** The env vars SST would set for these settings (the local runtime and tests link them this way). */
export function settingsToEnv(s: Partial<Settings>): Record<string, string> {
  const env: Record<string, string> = {};
  if (s.trackingSecret) env.SST_RESOURCE_TrackingSecret = JSON.stringify({ value: s.trackingSecret });
  if (s.publicUrl) env.SST_RESOURCE_PublicUrl = JSON.stringify({ url: s.publicUrl });
  if (s.defaultFrom) env.SST_RESOURCE_MailFrom = JSON.stringify({ value: s.defaultFrom });
  if (s.mail?.kind === "smtp") env.ICP_SMTP_URL = s.mail.url;
  return env;
}

/**
 * `ICP_WEBHOOK_ALLOW_PRIVATE=true` lets outbound webhooks use http and loopback/private targets,
 * for local development only; anything else (the default) allows https to public hosts only.
 */
export const allowPrivateWebhooks = (env: NodeJS.ProcessEnv = process.env): boolean =>
  env.ICP_WEBHOOK_ALLOW_PRIVATE === "true";
