import { accountId, isAccountId, newId, normalizeDomain } from "@icp/core";
import fc from "fast-check";
import { describe, expect, it } from "vitest";

describe("normalizeDomain", () => {
  it.each([
    ["HTTPS://www.Acme.com/about?x=1", "acme.com"],
    ["acme.com", "acme.com"],
    ["  Acme.COM  ", "acme.com"],
    ["http://acme.com", "acme.com"],
    ["ftp://files.acme.com", "files.acme.com"],
    ["acme.com:8080", "acme.com"],
    ["https://acme.com:443/path", "acme.com"],
    ["acme.com.", "acme.com"],
    ["https://acme.com./", "acme.com"],
    ["user@acme.com", "acme.com"],
    ["bob.smith@Acme.com", "acme.com"],
    ["mailto:bob@acme.com", "acme.com"],
    ["https://user:pass@acme.com:8443/x", "acme.com"],
    ["www.acme.com", "acme.com"],
    ["www2.acme.com", "acme.com"],
    ["WWW3.acme.co.uk", "acme.co.uk"],
    ["acme.com#pricing", "acme.com"],
    ["acme.com?utm=x", "acme.com"],
    ["app.acme.io/login", "app.acme.io"],
    ["my-company.de", "my-company.de"],
    ["123.example.org", "123.example.org"],
    ["wwwfoo.com", "wwwfoo.com"],
    ["foo.xn--p1ai", "foo.xn--p1ai"],
  ])("%j -> %j", (raw, want) => {
    expect(normalizeDomain(raw)).toBe(want);
  });

  it.each([
    [""],
    ["   "],
    ["localhost"],
    ["acme"],
    ["http://"],
    ["https:///path"],
    ["www."],
    ["-acme.com"],
    ["acme-.com"],
    ["a..com"],
    [".acme.com"],
    ["acme.com.."],
    ["acme.c"],
    ["acme.123"],
    ["1.2.3.4"],
    ["acme.com:abc"],
    ["acme_corp.com"],
    ["acme corp.com"],
    ["exämple.com"],
    ["n/a"],
    ["-"],
    [`${"a".repeat(64)}.com`],
    [`${"abcdefghi.".repeat(26)}com`],
  ])("%j -> undefined", (raw) => {
    expect(normalizeDomain(raw)).toBeUndefined();
  });

  it("accepts 63-character labels and names up to 253 characters", () => {
    const label = "a".repeat(63);
    expect(normalizeDomain(`${label}.com`)).toBe(`${label}.com`);
    const long = `${"abcdefghi.".repeat(24)}abcdefghi.com`; // 253 characters
    expect(long).toHaveLength(253);
    expect(normalizeDomain(long)).toBe(long);
  });
});

// Labels that cannot be mistaken for a "www" prefix (see the report on "www.www.acme.com").
const labelArb = fc.stringMatching(/^[a-z0-9]([a-z0-9-]{0,10}[a-z0-9])?$/).filter((l) => !/^www\d*$/.test(l));
const hostArb = fc
  .tuple(fc.array(labelArb, { minLength: 1, maxLength: 3 }), fc.stringMatching(/^[a-z]{2,6}$/))
  .map(([labels, tld]) => [...labels, tld].join("."));

/** The ways a host shows up in CRM exports: scheme, www, case, user@, port, path, trailing dot. */
const decoratedArb = fc
  .record({
    host: hostArb,
    scheme: fc.constantFrom("", "http://", "https://", "HTTPS://", "ftp://"),
    www: fc.constantFrom("", "www.", "WWW.", "www2."),
    user: fc.constantFrom("", "bob@", "user:pw@"),
    port: fc.constantFrom("", ":80", ":8443"),
    dot: fc.constantFrom("", "."),
    path: fc.constantFrom("", "/", "/about", "?x=1", "#top", "/a/b?c=d#e"),
    upper: fc.boolean(),
    pad: fc.constantFrom("", " ", "\t"),
  })
  .map((r) => {
    const host = r.upper ? r.host.toUpperCase() : r.host;
    // A port follows the host (and its trailing dot is then not at the end): keep one or the other.
    const tail = r.port || r.dot;
    return { raw: `${r.pad}${r.scheme}${r.user}${r.www}${host}${tail}${r.path}${r.pad}`, host: r.host };
  });

const checkInvariants = (out: string) => {
  expect(out).not.toMatch(/[/:?#@\s]/);
  expect(out).toBe(out.toLowerCase());
  expect(out.startsWith("www.")).toBe(false);
  expect(out.endsWith(".")).toBe(false);
  expect(out.length).toBeLessThanOrEqual(253);
  expect(out.split(".").length).toBeGreaterThanOrEqual(2);
};

describe("normalizeDomain properties", () => {
  it("recovers the host from any decoration", () => {
    fc.assert(
      fc.property(decoratedArb, ({ raw, host }) => {
        expect(normalizeDomain(raw)).toBe(host);
      }),
    );
  });

  it("is idempotent on decorated hosts and its output has no /, :, uppercase or leading www.", () => {
    fc.assert(
      fc.property(decoratedArb, ({ raw }) => {
        const once = normalizeDomain(raw);
        expect(once).toBeDefined();
        if (once === undefined) return;
        checkInvariants(once);
        expect(normalizeDomain(once)).toBe(once);
      }),
    );
  });

  it("is idempotent on arbitrary text, and whatever it returns is clean", () => {
    const textArb = fc.oneof(
      fc.string({ maxLength: 40 }),
      fc.string({ unit: fc.constantFrom(..."aZ0.-/:@?#w3 ".split("")), maxLength: 30 }),
    );
    fc.assert(
      fc.property(textArb, (raw) => {
        const once = normalizeDomain(raw);
        if (once === undefined) return;
        checkInvariants(once);
        expect(normalizeDomain(once)).toBe(once);
      }),
    );
  });
});

describe("accountId", () => {
  const crockford = /^acc_[0-9A-HJKMNP-TV-Z]+$/;

  it("is deterministic for a workspace and domain", () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1 }), hostArb, (ws, domain) => {
        expect(accountId(ws, domain)).toBe(accountId(ws, domain));
        expect(accountId(ws, domain)).toMatch(crockford);
      }),
    );
    expect(accountId("ws_1", "acme.com")).toBe(accountId("ws_1", "acme.com"));
  });

  it("is a valid account id (acc_ + 26 Crockford base32 characters)", () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1 }), hostArb, (ws, domain) => {
        const id = accountId(ws, domain);
        expect(id).toHaveLength(30);
        expect(isAccountId(id)).toBe(true);
      }),
    );
  });

  it("differs per workspace and per domain", () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1 }), fc.string({ minLength: 1 }), hostArb, (a, b, domain) => {
        fc.pre(a !== b);
        expect(accountId(a, domain)).not.toBe(accountId(b, domain));
      }),
    );
    expect(accountId("ws_1", "acme.com")).not.toBe(accountId("ws_1", "acme.io"));
    expect(accountId("ws_1", "acme.com")).not.toBe(accountId("ws_2", "acme.com"));
  });

  it("separates the workspace from the domain (no concatenation collisions)", () => {
    expect(accountId("ws_1", "a.com")).not.toBe(accountId("ws_1a", ".com"));
  });
});

describe("isAccountId", () => {
  it("accepts acc_ + 26 Crockford base32 characters only", () => {
    expect(isAccountId(`acc_${"0123456789ABCDEFGHJKMNPQRS"}`)).toBe(true);
    expect(isAccountId(`acc_${"Z".repeat(26)}`)).toBe(true);
    expect(isAccountId(`acc_${"Z".repeat(25)}`)).toBe(false);
    expect(isAccountId(`acc_${"Z".repeat(27)}`)).toBe(false);
    expect(isAccountId(`acc_${"I".repeat(26)}`)).toBe(false);
    expect(isAccountId(`acc_${"L".repeat(26)}`)).toBe(false);
    expect(isAccountId(`acc_${"O".repeat(26)}`)).toBe(false);
    expect(isAccountId(`acc_${"U".repeat(26)}`)).toBe(false);
    expect(isAccountId(`acc_${"z".repeat(26)}`)).toBe(false);
    expect(isAccountId(`imp_${"Z".repeat(26)}`)).toBe(false);
    expect(isAccountId("")).toBe(false);
  });
});

describe("newId", () => {
  it("is prefixed, unique and time-sortable", () => {
    const a = newId("imp");
    const b = newId("imp");
    expect(a).toMatch(/^imp_[0-9A-HJKMNP-TV-Z]{26}$/);
    expect(a).not.toBe(b);
    expect(newId("evt").startsWith("evt_")).toBe(true);
    expect(newId("icp").slice(4, 14) >= a.slice(4, 14)).toBe(true);
  });
});

describe("normalizeDomain: regressions", () => {
  it("strips a repeated www prefix but keeps www.com itself", () => {
    expect(normalizeDomain("www.www.acme.com")).toBe("acme.com");
    expect(normalizeDomain("https://www2.www.acme.com/")).toBe("acme.com");
    expect(normalizeDomain("www.com")).toBe("www.com");
    expect(normalizeDomain(normalizeDomain("www.www.acme.com") ?? "")).toBe("acme.com");
  });
});
