import { createHmac } from "node:crypto";
import { signInboundWebhook, signWebhook, verifyInboundWebhook, verifyWebhook } from "@icp/core";
import fc from "fast-check";
import { describe, expect, it } from "vitest";

/** The one `t=…,v1=<hmac>` signature (core/src/shared/signature.ts), seen through its outbound and inbound callers. */

const hmac = (secret: string, t: number, body: string) =>
  createHmac("sha256", secret).update(`${t}.${body}`).digest("hex");

describe("webhook signatures", () => {
  it("outbound and inbound headers are the same wire format: t=<unix seconds>,v1=<hex HMAC of t.body>", () => {
    const at = new Date("2026-03-04T10:15:00.900Z");
    const t = Math.floor(at.getTime() / 1000);
    expect(signWebhook("whsec_x", "{}", at)).toBe(`t=${t},v1=${hmac("whsec_x", t, "{}")}`);
    expect(signInboundWebhook("whsec_x", "{}", t)).toBe(signWebhook("whsec_x", "{}", at));
  });

  it("verifies what it signs, and only with the same secret, body and a timestamp within the tolerance", () => {
    fc.assert(
      fc.property(
        fc.string({ minLength: 1 }),
        fc.string(),
        fc.integer({ min: 1_000_000, max: 4_000_000_000 }),
        fc.integer({ min: -400, max: 400 }),
        (secret, body, t, skew) => {
          const h = signInboundWebhook(secret, body, t);
          const inTime = Math.abs(skew) <= 300;
          expect(verifyInboundWebhook(secret, h, body, t + skew).ok).toBe(inTime);
          expect(verifyWebhook(secret, h, body, new Date((t + skew) * 1000))).toBe(inTime);
          expect(verifyInboundWebhook(`${secret}x`, h, body, t).ok).toBe(false);
          expect(verifyInboundWebhook(secret, h, `${body} `, t).ok).toBe(false);
          expect(verifyWebhook(secret, h, body, new Date((t + 50) * 1000), 30)).toBe(false);
        },
      ),
      { numRuns: 200 },
    );
  });

  it("accepts one matching v1 among several (secret rotation), in either hex case", () => {
    const body = '{"type":"opened"}';
    const t = 1_000_000;
    const good = hmac("new", t, body);
    const header = `t=${t},v1=${hmac("old", t, body)},v1=${good.toUpperCase()}`;
    expect(verifyInboundWebhook("new", header, body, t)).toEqual({ ok: true, t, v1: good });
    expect(verifyWebhook("new", header, body, new Date(t * 1000))).toBe(true);
  });

  it("refuses malformed headers with a reason", () => {
    const t = 1_000_000;
    const v1 = hmac("s", t, "b");
    for (const h of ["", "t=1000000", `v1=${v1}`, `t=-5,v1=${v1}`, `t=1e6,v1=${v1}`, `t=${t},v1=${v1.slice(1)}`]) {
      const check = verifyInboundWebhook("s", h, "b", t);
      expect(check.ok, h).toBe(false);
      expect(check.ok ? "" : check.reason, h).toMatch(/missing|malformed/);
      expect(verifyWebhook("s", h, "b", new Date(t * 1000)), h).toBe(false);
    }
    expect(verifyInboundWebhook("s", `t=${t},v1=${v1}`, "b", t + 301)).toEqual({
      ok: false,
      reason: "signature timestamp outside the 5-minute window",
    });
  });
});
