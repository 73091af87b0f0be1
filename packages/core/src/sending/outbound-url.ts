import type { SequenceDefinition } from "../sequencing/index.js";

/**
 * Where we may send outbound requests (webhook steps, later webhook subscriptions): https to a
 * public address only, so a tenant cannot aim our workers at the loopback, the VPC, or a cloud
 * metadata endpoint. Pure: the caller passes the policy (core never reads the environment) and,
 * at send time, checks every address the name resolves to with `addressAllowed`.
 *
 * Odd IPv4 spellings (2130706433, 0177.0.0.1, 127.1, 0x7f.1) need no parsing here: the WHATWG
 * URL parser behind `new URL` normalises them to dotted quads, and IPv6 to its compressed form.
 */
export type OutboundPolicy = {
  /** Local development only: http, and loopback / private / link-local targets (never metadata). */
  allowPrivate: boolean;
};

export type AddressClass =
  | "public"
  | "loopback"
  | "private"
  | "link-local"
  | "unique-local"
  | "unspecified"
  | "multicast"
  | "metadata"
  | "reserved";

/** Classes `allowPrivate` opens; the others (unspecified, multicast, metadata, reserved) stay closed. */
const PRIVATE_CLASSES: readonly AddressClass[] = ["loopback", "private", "link-local", "unique-local"];

export type OutboundUrlCheck =
  | { ok: true; url: URL /** The address when the host is an IP literal, else undefined (resolve it). */; ip?: string }
  | { ok: false; reason: "invalid-url" | "scheme" | "unsafe-address"; message: string };

type V4Range = readonly [base: number, bits: number, cls: AddressClass];
const v4 = (a: number, b: number, c: number, d: number) => ((a << 24) | (b << 16) | (c << 8) | d) >>> 0;

/** Most specific first: the first range that holds an address names its class. */
const V4_RANGES: readonly V4Range[] = [
  [v4(169, 254, 169, 254), 32, "metadata"], // AWS, GCP, Azure instance metadata
  [v4(169, 254, 170, 2), 32, "metadata"], // ECS task metadata
  [v4(0, 0, 0, 0), 8, "unspecified"],
  [v4(10, 0, 0, 0), 8, "private"],
  [v4(100, 64, 0, 0), 10, "private"], // CGNAT
  [v4(127, 0, 0, 0), 8, "loopback"],
  [v4(169, 254, 0, 0), 16, "link-local"],
  [v4(172, 16, 0, 0), 12, "private"],
  [v4(192, 0, 0, 0), 24, "reserved"], // IETF protocol assignments
  [v4(192, 0, 2, 0), 24, "reserved"], // documentation
  [v4(192, 168, 0, 0), 16, "private"],
  [v4(198, 18, 0, 0), 15, "reserved"], // benchmarking
  [v4(198, 51, 100, 0), 24, "reserved"],
  [v4(203, 0, 113, 0), 24, "reserved"],
  [v4(224, 0, 0, 0), 4, "multicast"],
  [v4(240, 0, 0, 0), 4, "reserved"], // incl. broadcast
];

const inRange = (n: number, base: number, bits: number) => bits === 0 || (n ^ base) >>> (32 - bits) === 0;

function parseIPv4(s: string): number | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(s);
  if (!m) return undefined;
  const parts = m.slice(1).map(Number);
  if (parts.some((p) => p > 255)) return undefined;
  const [a = 0, b = 0, c = 0, d = 0] = parts;
  return v4(a, b, c, d);
}

function classifyV4(n: number): AddressClass {
  for (const [base, bits, cls] of V4_RANGES) if (inRange(n, base, bits)) return cls;
  return "public";
}

/** Eight 16-bit words, or undefined when `s` is not an IPv6 address (a zone id `%eth0` is ignored). */
function parseIPv6(raw: string): number[] | undefined {
  let s = raw.replace(/^\[|\]$/g, "").replace(/%.*$/, "");
  if (!s.includes(":")) return undefined;
  // A trailing dotted quad (::ffff:127.0.0.1) stands for the last two words.
  const dotted = /(\d{1,3}(?:\.\d{1,3}){3})$/.exec(s);
  if (dotted?.[1]) {
    const n = parseIPv4(dotted[1]);
    if (n === undefined) return undefined;
    s = `${s.slice(0, dotted.index)}${(n >>> 16).toString(16)}:${(n & 0xffff).toString(16)}`;
  }
  const halves = s.split("::");
  if (halves.length > 2) return undefined;
  const words = (h: string | undefined) => (h ? h.split(":") : []);
  const head = words(halves[0]);
  const rest = words(halves[1]);
  const explicit = head.length + rest.length;
  if (halves.length === 1 ? explicit !== 8 : explicit > 7) return undefined;
  const hex = (w: string) => (/^[0-9a-f]{1,4}$/i.test(w) ? Number.parseInt(w, 16) : Number.NaN);
  const out = [...head.map(hex), ...Array(8 - explicit).fill(0), ...rest.map(hex)];
  return out.length === 8 && out.every((w) => Number.isInteger(w)) ? out : undefined;
}

const embeddedV4 = (hi: number, lo: number) => ((hi << 16) | lo) >>> 0;

function classifyV6(w: number[]): AddressClass {
  const [w0 = 0, w1 = 0, w2 = 0, w3 = 0, w4 = 0, w5 = 0, w6 = 0, w7 = 0] = w;
  const zeroTo = (i: number) => w.slice(0, i).every((x) => x === 0);
  if (zeroTo(8)) return "unspecified";
  if (zeroTo(7) && w7 === 1) return "loopback";
  // IPv4 inside IPv6: mapped ::ffff:a.b.c.d, translated ::ffff:0:a.b.c.d, compatible ::a.b.c.d, NAT64.
  if (zeroTo(5) && w5 === 0xffff) return classifyV4(embeddedV4(w6, w7));
  if (zeroTo(4) && w4 === 0xffff && w5 === 0) return classifyV4(embeddedV4(w6, w7));
  if (zeroTo(6)) return classifyV4(embeddedV4(w6, w7));
  if (w0 === 0x64 && w1 === 0xff9b && w2 === 0 && w3 === 0 && w4 === 0 && w5 === 0)
    return classifyV4(embeddedV4(w6, w7));
  if (w0 === 0x64 && w1 === 0xff9b && w2 === 1) return "private"; // local-use NAT64
  if (w0 === 0x2002) return classifyV4(embeddedV4(w1, w2)); // 6to4
  if (w0 === 0xfd00 && w1 === 0x0ec2 && w2 === 0 && w3 === 0 && w4 === 0 && w5 === 0 && w6 === 0 && w7 === 0x254)
    return "metadata"; // AWS IMDS over IPv6
  if ((w0 & 0xffc0) === 0xfe80) return "link-local";
  if ((w0 & 0xffc0) === 0xfec0) return "private"; // deprecated site-local
  if ((w0 & 0xfe00) === 0xfc00) return "unique-local";
  if ((w0 & 0xff00) === 0xff00) return "multicast";
  if (w0 === 0x2001 && (w1 === 0x0db8 || w1 === 0)) return "reserved"; // documentation, Teredo
  if (w0 === 0x0100 && w1 === 0 && w2 === 0 && w3 === 0) return "reserved"; // discard-only
  if (w0 === 0) return "reserved"; // the rest of ::/16 is unassigned
  return "public";
}

/** The class of an IP address (v4 dotted quad or v6, brackets optional); undefined when it is not one. */
export function addressClass(ip: string): AddressClass | undefined {
  const n = parseIPv4(ip);
  if (n !== undefined) return classifyV4(n);
  const w = parseIPv6(ip);
  return w ? classifyV6(w) : undefined;
}

/** Whether a request may go to this (resolved) address under the policy. */
export function addressAllowed(ip: string, policy: OutboundPolicy): boolean {
  const cls = addressClass(ip);
  if (cls === undefined) return false;
  return cls === "public" || (policy.allowPrivate && PRIVATE_CLASSES.includes(cls));
}

const METADATA_NAMES = new Set(["metadata.google.internal", "metadata", "instance-data", "instance-data.ec2.internal"]);

/** Names that mean this machine or the metadata service whatever DNS says. */
function hostNameClass(host: string): AddressClass | undefined {
  const h = host.toLowerCase().replace(/\.$/, "");
  if (h === "localhost" || h.endsWith(".localhost")) return "loopback";
  if (METADATA_NAMES.has(h)) return "metadata";
  return undefined;
}

/**
 * Check a URL before any request: https (http only when `allowPrivate`), and a host that is
 * neither a refused IP literal nor a name that always means loopback or metadata. A host name
 * that passes must still be resolved and each address checked with `addressAllowed`.
 */
export function checkOutboundUrl(raw: string, policy: OutboundPolicy): OutboundUrlCheck {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return { ok: false, reason: "invalid-url", message: "not a valid URL" };
  }
  const schemes = policy.allowPrivate ? ["https:", "http:"] : ["https:"];
  if (!schemes.includes(url.protocol))
    return { ok: false, reason: "scheme", message: `${url.protocol.replace(/:$/, "")} is not allowed: use https` };
  const host = url.hostname;
  const literal = addressClass(host) !== undefined ? host.replace(/^\[|\]$/g, "") : undefined;
  const cls = literal ? addressClass(literal) : hostNameClass(host);
  if (cls && !(cls === "public" || (policy.allowPrivate && PRIVATE_CLASSES.includes(cls))))
    return {
      ok: false,
      reason: "unsafe-address",
      message: `${host} is a ${cls} address: only public hosts are allowed`,
    };
  return { ok: true, url, ...(literal ? { ip: literal } : {}) };
}

/** A webhook step whose URL may not be used, named by its field path. */
export type UnsafeWebhookUrl = { stepId: string; path: string; reason: string; message: string };

/** Every webhook step of a sequence whose URL the policy refuses (empty when all may be saved). */
export function unsafeWebhookUrls(def: Pick<SequenceDefinition, "steps">, policy: OutboundPolicy): UnsafeWebhookUrl[] {
  return def.steps.flatMap((step, i) => {
    if (step.channel !== "webhook" || !step.webhookUrl) return [];
    const check = checkOutboundUrl(step.webhookUrl, policy);
    return check.ok
      ? []
      : [{ stepId: step.id, path: `steps.${i}.webhookUrl`, reason: check.reason, message: check.message }];
  });
}
