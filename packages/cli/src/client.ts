import { retry } from "@icp/store/retry";
/** An application/problem+json answer (or any other HTTP error): main prints it and exits 1. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly detail: string,
    readonly errors: { field?: string; message?: string; line?: number }[] = [],
    readonly type?: string,
  ) {
    super(detail);
  }
}

/** The API could not be reached at all: main exits 2, naming the URL so a wrong --url is obvious. */
export class NetworkError extends Error {}

export type RequestOptions = {
  method?: string;
  query?: Record<string, string | number | undefined>;
  body?: string | Uint8Array;
  contentType?: string;
  headers?: Record<string, string>;
  /** Safe to send again after a network error or a 502/503/504 (GETs, uploads with an Idempotency-Key). */
  retry?: boolean;
  timeoutMs?: number;
};

const TRANSIENT = new Set([502, 503, 504]);
/** Connection dropped mid-request: worth one more try. Refused or unknown hosts fail at once. */
const TRANSIENT_NET = new Set(["ECONNRESET", "EPIPE", "UND_ERR_SOCKET", "UND_ERR_CLOSED"]);
/** Retries after 1, 2 and 4 s. */
const TRANSIENT_BACKOFF = { baseMs: 500, capMs: 4000, jitter: "none" } as const;

/** A 502/503/504 answer, thrown so that `retry` tries again. */
class TransientAnswer extends Error {
  constructor(readonly res: Response) {
    super(`HTTP ${res.status}`);
  }
}

const transient = (e: unknown) =>
  e instanceof TransientAnswer ||
  TRANSIENT_NET.has((e as { cause?: { code?: string } } | undefined)?.cause?.code ?? "");

export class Client {
  constructor(
    readonly baseUrl: string,
    private readonly key: string,
  ) {}

  /** Like request, for a text answer (e.g. `format=csv`): the body as it came. */
  async requestText(path: string, o: RequestOptions = {}): Promise<string> {
    return this.request<string>(path, { ...o, text: true });
  }

  async request<T>(path: string, o: RequestOptions & { text?: boolean } = {}): Promise<T> {
    // Relative to the base path too, so a URL like https://…/prod (an API Gateway stage) keeps its /prod.
    const url = new URL(path.replace(/^\//, ""), this.baseUrl.endsWith("/") ? this.baseUrl : `${this.baseUrl}/`);
    for (const [k, v] of Object.entries(o.query ?? {})) if (v !== undefined) url.searchParams.set(k, String(v));
    const headers: Record<string, string> = {
      authorization: `Bearer ${this.key}`,
      accept: o.text ? "text/csv, text/plain, application/problem+json" : "application/json",
      ...o.headers,
    };
    if (o.contentType) headers["content-type"] = o.contentType;
    const send = async () => {
      const res = await fetch(url, {
        method: o.method ?? "GET",
        headers,
        // A Blob is a BodyInit under both Node's and the DOM's typings (a Uint8Array is not in the latter).
        body: typeof o.body === "string" || !o.body ? (o.body ?? null) : new Blob([new Uint8Array(o.body)]),
        signal: AbortSignal.timeout(o.timeoutMs ?? 60_000),
      });
      if (TRANSIENT.has(res.status)) throw new TransientAnswer(res);
      return res;
    };
    let res: Response;
    try {
      res = await retry(send, { attempts: o.retry ? 4 : 1, ...TRANSIENT_BACKOFF, retryIf: transient });
    } catch (e) {
      if (!(e instanceof TransientAnswer))
        throw new NetworkError(`cannot reach the API at ${this.baseUrl}: ${describeFetchError(e)}`);
      res = e.res; // still 502/503/504 after the last attempt
    }
    if (!res.ok) throw await toApiError(res);
    return (o.text ? await res.text() : await res.json()) as T;
  }
}

/** fetch hides the useful part (ECONNREFUSED, ENOTFOUND, timeout) in `cause`. */
function describeFetchError(e: unknown): string {
  const err = e as Error & { cause?: { code?: string; message?: string } };
  if (err.name === "TimeoutError") return "no answer before the timeout";
  return err.cause?.code ?? err.cause?.message ?? err.message;
}

async function toApiError(res: Response): Promise<ApiError> {
  const text = await res.text();
  try {
    const p = JSON.parse(text) as { detail?: string; title?: string; errors?: ApiError["errors"]; type?: string };
    return new ApiError(
      res.status,
      p.detail ?? p.title ?? `HTTP ${res.status}`,
      Array.isArray(p.errors) ? p.errors : [],
      p.type,
    );
  } catch {
    return new ApiError(res.status, `HTTP ${res.status} ${res.statusText}${text ? `: ${text.slice(0, 200)}` : ""}`);
  }
}
