import { addressAllowed, addressClass, checkOutboundUrl, unsafeWebhookUrls } from "@icp/core";
import fc from "fast-check";
import { describe, expect, it } from "vitest";

const STRICT = { allowPrivate: false };
const DEV = { allowPrivate: true };

/** [url, verdict without the flag, verdict with ICP_WEBHOOK_ALLOW_PRIVATE] */
const TABLE: [string, string, string][] = [
  ["https://hooks.example.com/x", "ok", "ok"],
  ["https://93.184.216.34/x", "ok", "ok"],
  ["https://[2606:4700::1111]/x", "ok", "ok"],
  ["http://hooks.example.com/x", "scheme", "ok"],
  ["ftp://hooks.example.com/x", "scheme", "scheme"],
  ["not a url", "invalid-url", "invalid-url"],
  // Loopback, by name and by every spelling the URL parser folds into 127.0.0.1.
  ["https://localhost/x", "unsafe-address", "ok"],
  ["https://LOCALHOST./x", "unsafe-address", "ok"],
  ["https://api.localhost/x", "unsafe-address", "ok"],
  ["https://127.0.0.1/x", "unsafe-address", "ok"],
  ["https://2130706433/x", "unsafe-address", "ok"],
  ["https://0177.0.0.1/x", "unsafe-address", "ok"],
  ["https://0x7f.1/x", "unsafe-address", "ok"],
  ["https://127.1/x", "unsafe-address", "ok"],
  ["https://[::1]/x", "unsafe-address", "ok"],
  ["https://[::ffff:127.0.0.1]/x", "unsafe-address", "ok"],
  ["https://[0:0:0:0:0:ffff:7f00:1]/x", "unsafe-address", "ok"],
  // Private, CGNAT, link-local, unique-local.
  ["https://10.1.2.3/x", "unsafe-address", "ok"],
  ["https://172.16.0.1/x", "unsafe-address", "ok"],
  ["https://172.31.255.255/x", "unsafe-address", "ok"],
  ["https://192.168.1.1/x", "unsafe-address", "ok"],
  ["https://100.64.0.1/x", "unsafe-address", "ok"],
  ["https://169.254.1.1/x", "unsafe-address", "ok"],
  ["https://[fe80::1]/x", "unsafe-address", "ok"],
  ["https://[fd12:3456::1]/x", "unsafe-address", "ok"],
  ["https://[::ffff:10.0.0.1]/x", "unsafe-address", "ok"],
  ["https://[64:ff9b::a00:1]/x", "unsafe-address", "ok"],
  ["https://[2002:c0a8:101::1]/x", "unsafe-address", "ok"],
  // Never, not even in development: metadata, unspecified, multicast, broadcast.
  ["https://169.254.169.254/latest/meta-data", "unsafe-address", "unsafe-address"],
  ["http://169.254.169.254/latest/meta-data", "scheme", "unsafe-address"],
  ["https://[fd00:ec2::254]/x", "unsafe-address", "unsafe-address"],
  ["https://[::ffff:169.254.169.254]/x", "unsafe-address", "unsafe-address"],
  ["https://metadata.google.internal/computeMetadata/v1/", "unsafe-address", "unsafe-address"],
  ["https://0.0.0.0/x", "unsafe-address", "unsafe-address"],
  ["https://0/x", "unsafe-address", "unsafe-address"],
  ["https://[::]/x", "unsafe-address", "unsafe-address"],
  ["https://224.0.0.1/x", "unsafe-address", "unsafe-address"],
  ["https://[ff02::1]/x", "unsafe-address", "unsafe-address"],
  ["https://255.255.255.255/x", "unsafe-address", "unsafe-address"],
  // Public neighbours of refused ranges stay allowed.
  ["https://172.32.0.1/x", "ok", "ok"],
  ["https://100.128.0.1/x", "ok", "ok"],
  ["https://11.0.0.1/x", "ok", "ok"],
];

const verdict = (url: string, policy: { allowPrivate: boolean }) => {
  const c = checkOutboundUrl(url, policy);
  return c.ok ? "ok" : c.reason;
};

describe("outbound URL policy", () => {
  it.each(TABLE)("%s: %s (strict), %s (allowPrivate)", (url, strict, dev) => {
    expect(verdict(url, STRICT)).toBe(strict);
    expect(verdict(url, DEV)).toBe(dev);
  });

  it("gives the literal address to pin, and none for a name (which must be resolved)", () => {
    expect(checkOutboundUrl("https://2130706433:8443/x", DEV)).toMatchObject({ ok: true, ip: "127.0.0.1" });
    expect(checkOutboundUrl("https://[::1]/x", DEV)).toMatchObject({ ok: true, ip: "::1" });
    const named = checkOutboundUrl("https://hooks.example.com/x", STRICT);
    expect(named.ok && named.ip).toBe(undefined);
  });

  it("classifies resolved addresses, v4 and v6, and refuses what is not an address", () => {
    expect(addressClass("8.8.8.8")).toBe("public");
    expect(addressClass("127.0.0.53")).toBe("loopback");
    expect(addressClass("::ffff:192.168.0.1")).toBe("private");
    expect(addressClass("fe80::1%eth0")).toBe("link-local");
    expect(addressClass("2001:db8::1")).toBe("reserved");
    expect(addressClass("2a00:1450:4001:80b::200e")).toBe("public");
    expect(addressClass("example.com")).toBeUndefined();
    expect(addressClass("1:2:3:4:5:6:7:8:9")).toBeUndefined();
    expect(addressAllowed("not-an-ip", DEV)).toBe(false);
    expect(addressAllowed("169.254.169.254", DEV)).toBe(false);
    expect(addressAllowed("10.0.0.1", DEV)).toBe(true);
  });

  const octet = fc.integer({ min: 0, max: 255 });
  const privateV4 = fc.oneof(
    fc.tuple(fc.constant(10), octet, octet, octet),
    fc.tuple(fc.constant(127), octet, octet, octet),
    fc.tuple(fc.constant(172), fc.integer({ min: 16, max: 31 }), octet, octet),
    fc.tuple(fc.constant(192), fc.constant(168), octet, octet),
    fc.tuple(fc.constant(169), fc.constant(254), octet, octet),
    fc.tuple(fc.constant(100), fc.integer({ min: 64, max: 127 }), octet, octet),
  );

  it("refuses every IPv4 address in a private range, however it is spelled", () => {
    fc.assert(
      fc.property(privateV4, ([a, b, c, d]) => {
        const dotted = `${a}.${b}.${c}.${d}`;
        const decimal = String(((a << 24) | (b << 16) | (c << 8) | d) >>> 0);
        const octal = [a, b, c, d].map((x) => `0${x.toString(8)}`).join(".");
        const mapped = `[::ffff:${dotted}]`;
        for (const host of [dotted, decimal, octal, mapped])
          expect(verdict(`https://${host}/hook`, STRICT), host).toBe("unsafe-address");
        expect(addressAllowed(dotted, STRICT)).toBe(false);
        expect(addressAllowed(`::ffff:${dotted}`, STRICT)).toBe(false);
      }),
      { numRuns: 500 },
    );
  });

  it("names each webhook step whose URL is refused, by field path", () => {
    const steps = [
      { id: "a", channel: "webhook" as const, webhookUrl: "https://hooks.example.com/x" },
      { id: "b", channel: "email" as const },
      { id: "c", channel: "webhook" as const, webhookUrl: "http://127.0.0.1:9/x" },
    ];
    expect(unsafeWebhookUrls({ steps } as never, STRICT)).toEqual([
      { stepId: "c", path: "steps.2.webhookUrl", reason: "scheme", message: "http is not allowed: use https" },
    ]);
    expect(unsafeWebhookUrls({ steps } as never, DEV)).toEqual([]);
  });
});
