import { lookup as dnsLookup } from "node:dns/promises";
import { type ClientRequest, request as httpRequest, type IncomingMessage, type RequestOptions } from "node:http";
import { request as httpsRequest } from "node:https";
import type { LookupFunction } from "node:net";
import { addressAllowed, checkOutboundUrl, type OutboundPolicy } from "@icp/core";

/**
 * One outbound POST to a URL a tenant chose, safe against SSRF: the URL passes the core policy,
 * the name is resolved once and EVERY address checked, and the connection goes to the checked
 * address (a custom `lookup` pins it, so DNS cannot answer differently at connect time) while TLS
 * SNI, certificate check and Host stay the name. No redirects are followed, the whole exchange
 * is bounded by a timeout, and the answer is a failure class only — never the remote's text.
 */
export type ResolvedAddress = { address: string; family: number };
/** Every address of a host name (the send worker's deps can swap it in tests). */
export type Resolver = (hostname: string) => Promise<ResolvedAddress[]>;

export const systemResolver: Resolver = (hostname) => dnsLookup(hostname, { all: true, verbatim: true });

export type PostFailure =
  | "unsafe-address"
  | "dns"
  | "connect"
  | "timeout"
  | "tls"
  | "http-4xx"
  | "http-5xx"
  | "redirect";

export type PostResult = { ok: true; status: number } | { ok: false; failure: PostFailure };

export type SafePostOptions = {
  policy: OutboundPolicy;
  resolve?: Resolver;
  timeoutMs?: number;
};

const familyOf = (ip: string) => (ip.includes(":") ? 6 : 4);

/** The checked addresses of the URL's host, or why there are none we may use. */
async function checkedAddresses(
  rawUrl: string,
  o: SafePostOptions,
): Promise<{ url: URL; pinned: ResolvedAddress } | { failure: PostFailure }> {
  const check = checkOutboundUrl(rawUrl, o.policy);
  if (!check.ok) return { failure: "unsafe-address" };
  let addresses: ResolvedAddress[];
  if (check.ip) addresses = [{ address: check.ip, family: familyOf(check.ip) }];
  else {
    try {
      addresses = await (o.resolve ?? systemResolver)(check.url.hostname);
    } catch {
      return { failure: "dns" };
    }
  }
  const [pinned] = addresses;
  if (!pinned) return { failure: "dns" };
  // One refused address refuses the name: a rebinding answer could pick it at any time.
  if (addresses.some((a) => !addressAllowed(a.address, o.policy))) return { failure: "unsafe-address" };
  return { url: check.url, pinned };
}

/** A `lookup` that always answers the checked address, in either callback shape net may ask for. */
function pinnedLookup(pinned: ResolvedAddress): LookupFunction {
  return ((_host: string, opts: { all?: boolean }, cb: (...a: unknown[]) => void) => {
    if (opts?.all) cb(null, [pinned]);
    else cb(null, pinned.address, pinned.family);
  }) as unknown as LookupFunction;
}

const TLS_CODE = /^(ERR_TLS|ERR_SSL|ERR_OSSL|CERT_|UNABLE_TO_|DEPTH_ZERO|SELF_SIGNED|HOSTNAME_MISMATCH|EPROTO$)/;

function statusFailure(status: number): PostFailure | undefined {
  if (status >= 200 && status < 300) return undefined;
  if (status >= 300 && status < 400) return "redirect";
  if (status >= 400 && status < 500) return "http-4xx";
  if (status >= 500) return "http-5xx";
  return "connect";
}

/** POST `body` to `rawUrl` under the policy; see the module comment. */
export async function safePost(
  rawUrl: string,
  msg: { headers: Record<string, string>; body: string },
  o: SafePostOptions,
): Promise<PostResult> {
  const target = await checkedAddresses(rawUrl, o);
  if ("failure" in target) return { ok: false, failure: target.failure };
  const { url, pinned } = target;
  const options: RequestOptions = {
    method: "POST",
    host: url.hostname.replace(/^\[|\]$/g, ""),
    port: url.port || (url.protocol === "https:" ? 443 : 80),
    path: `${url.pathname}${url.search}`,
    headers: { ...msg.headers, "content-length": String(Buffer.byteLength(msg.body)) },
    lookup: pinnedLookup(pinned),
    agent: false,
  };
  return new Promise<PostResult>((resolve) => {
    let timedOut = false;
    const settle = (r: PostResult) => {
      clearTimeout(timer);
      resolve(r);
    };
    const onResponse = (res: IncomingMessage) => {
      const status = res.statusCode ?? 0;
      res.destroy(); // the body is never read: nothing of the remote's answer is kept
      const failure = statusFailure(status);
      settle(failure ? { ok: false, failure } : { ok: true, status });
    };
    const req: ClientRequest =
      url.protocol === "https:" ? httpsRequest(options, onResponse) : httpRequest(options, onResponse);
    const timer = setTimeout(() => {
      timedOut = true;
      req.destroy(new Error("timeout"));
    }, o.timeoutMs ?? 10_000);
    req.on("error", (err: NodeJS.ErrnoException) => {
      if (timedOut) return settle({ ok: false, failure: "timeout" });
      settle({ ok: false, failure: TLS_CODE.test(err.code ?? "") ? "tls" : "connect" });
    });
    req.end(msg.body);
  });
}
