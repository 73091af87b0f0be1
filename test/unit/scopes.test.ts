import { describe, expect, it } from "vitest";
import { needed } from "../../packages/api/src/auth.js";

describe("scope a request needs", () => {
  it.each([
    ["GET", "/v1/accounts", "read"],
    ["POST", "/v1/sequences/seq_1/preview", "read"],
    ["POST", "/v1/sequences/seq_1", "write"],
    ["POST", "/v1/sequences/seq_1/preview/x", "write"],
    ["POST", "/v1/events", "write"],
    ["PUT", "/v1/routing-rules", "write"],
    ["GET", "/v1/api-keys", "admin"],
    ["POST", "/v1/settings/webhook-secret", "admin"],
    ["GET", "/v1/settings/inbound-webhook-secret", "admin"],
    ["PUT", "/v1/settings/sending", "write"],
  ])("%s %s needs %s", (method, path, scope) => {
    expect(needed(method, path)).toBe(scope);
  });
});
