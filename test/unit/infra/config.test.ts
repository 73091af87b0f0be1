import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { localTrackingSecret } from "@icp/local";
import {
  configFromEnv,
  configToEnv,
  MissingSettingsError,
  QUEUES,
  requireSettings,
  SEND_SETTINGS,
  settingsFromEnv,
  settingsToEnv,
  TABLE,
} from "@icp/store";
import { describe, expect, it } from "vitest";

const link = (name: string, value: object) => ({ [`SST_RESOURCE_${name}`]: JSON.stringify(value) });
const AWS = {
  AWS_LAMBDA_FUNCTION_NAME: "icp-send",
  AWS_REGION: "eu-west-1",
  ...link("TrackingSecret", { value: "s3cret" }),
  ...link("PublicUrl", { url: "https://api.acme.com/" }),
  ...link("Email", { sender: "hello@acme.com", configSet: "acme-prod" }),
};

describe("settings (packages/store/src/infra/config.ts)", () => {
  it("reads every setting from its SST link: SES v2 when Email is linked, From its sender address", () => {
    expect(requireSettings(SEND_SETTINGS, AWS)).toEqual({
      trackingSecret: "s3cret",
      publicUrl: "https://api.acme.com",
      mail: { kind: "ses", region: "eu-west-1", configSet: "acme-prod" },
      defaultFrom: "hello@acme.com",
    });
  });

  it("takes MailFrom over the Email's sender, and needs it when the sender is a domain", () => {
    const domain = { ...AWS, ...link("Email", { sender: "acme.com", configSet: "c" }) };
    expect(() => requireSettings(SEND_SETTINGS, domain)).toThrow("missing settings: MailFrom");
    expect(requireSettings(["defaultFrom"], { ...domain, ...link("MailFrom", { value: "sales@acme.com" }) })).toEqual(
      expect.objectContaining({ defaultFrom: "sales@acme.com" }),
    );
  });

  it("never defaults: a missing setting fails naming every one missing", () => {
    const e = (() => {
      try {
        requireSettings(SEND_SETTINGS, { AWS_LAMBDA_FUNCTION_NAME: "icp-send" });
      } catch (err) {
        return err;
      }
    })();
    expect(e).toBeInstanceOf(MissingSettingsError);
    expect((e as Error).message).toBe("missing settings: TrackingSecret, PublicUrl, Email, MailFrom");
    expect(settingsFromEnv({})).toEqual({});
  });

  it("fails naming every missing table or queue link", () => {
    expect(() => configFromEnv({})).toThrow(
      `missing settings: ${[TABLE.name, ...QUEUES.map((q) => q.name)].join(", ")}`,
    );
  });

  it("round-trips what the local runtime links (settingsToEnv, configToEnv)", () => {
    const s = {
      trackingSecret: "t",
      publicUrl: "http://127.0.0.1:3001",
      defaultFrom: "x@y.local",
      mail: { kind: "smtp" as const, url: "smtp://127.0.0.1:2525" },
    };
    expect(requireSettings(SEND_SETTINGS, settingsToEnv(s))).toEqual(s);
    const cfg = configFromEnv(AWS_QUEUES);
    expect(configFromEnv(configToEnv(cfg))).toEqual(cfg);
  });
});

const AWS_QUEUES = {
  ...link(TABLE.name, { name: "t" }),
  ...Object.assign({}, ...QUEUES.map((q) => link(q.name, { url: `https://sqs/${q.name}` }))),
};

describe("the local stack's tracking secret", () => {
  it("is random per run in memory, and made once then kept (mode 0600) in a data folder", () => {
    expect(localTrackingSecret()).not.toBe(localTrackingSecret());
    const dir = mkdtempSync(join(tmpdir(), "icp-secret-"));
    try {
      const first = localTrackingSecret(dir);
      expect(first.length).toBeGreaterThanOrEqual(40);
      expect(localTrackingSecret(dir)).toBe(first);
      expect(readFileSync(join(dir, "tracking-secret"), "utf8").trim()).toBe(first);
      expect(statSync(join(dir, "tracking-secret")).mode & 0o777).toBe(0o600);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
