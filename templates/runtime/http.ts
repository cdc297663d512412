// Every request the SDK makes to the authorization server goes through here:
// the application's fetch (or the global one), bounded retries for answers
// that say "not now", and bounds on what the SDK reads from a response, so a
// hostile or broken server cannot make it hold or parse without limit.
import type { FetchFunction } from './hooks.js';
import type { SessionLog } from './log.js';

/** Attempts for a request the server turned away with 429, 502, 503 or 504. */
export const MAX_ATTEMPTS = 4;
/** The longest `Retry-After` the SDK waits, in seconds. */
export const MAX_RETRY_AFTER_SECONDS = 30;
/** The largest response body the SDK reads from the authorization server. */
export const MAX_RESPONSE_BYTES = 256 * 1024;
/** The deepest JSON nesting the SDK accepts from the authorization server. */
export const MAX_JSON_DEPTH = 32;

const RETRY_STATUSES = new Set([429, 502, 503, 504]);

/** Why a response was not read: too large or too deeply nested. */
export class ResponseBoundsError extends Error {
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
    this.name = 'ResponseBoundsError';
  }
}

/** A server asked the SDK to come back later than it is willing to wait. */
export class RetryLaterError extends Error {
  constructor(
    readonly status: number,
    readonly retryAfterSeconds: number,
  ) {
    super(`the server is busy (HTTP ${status}) and asked to be called again in ${retryAfterSeconds} s`);
    this.name = 'RetryLaterError';
  }
}

function retryAfterSeconds(response: Response): number | undefined {
  const header = response.headers.get('retry-after');
  if (header === null) return undefined;
  const seconds = /^\d+$/.test(header.trim()) ? Number(header.trim()) : (Date.parse(header) - Date.now()) / 1000;
  return Number.isFinite(seconds) ? Math.max(seconds, 0) : undefined;
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** Depth of the deepest nesting in JSON text, counted without parsing (so without recursion). */
export function jsonDepth(text: string): number {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++;
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) {
      depth++;
      if (depth > deepest) deepest = depth;
    } else if (c === 0x7d || c === 0x5d) depth--;
  }
  return deepest;
}

/** Reads a body up to `limit` bytes; rejects as soon as it grows past that. */
async function boundedText(response: Response, limit: number): Promise<string> {
  const declared = Number(response.headers.get('content-length'));
  if (Number.isFinite(declared) && declared > limit) {
    await response.body?.cancel();
    throw new ResponseBoundsError(`the server's answer is ${declared} bytes, more than the ${limit} this SDK reads`, response.status);
  }
  if (!response.body) return '';
  const reader: ReadableStreamDefaultReader<Uint8Array> = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel();
      throw new ResponseBoundsError(`the server's answer is more than the ${limit} bytes this SDK reads`, response.status);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}

export interface AuthServerFetchOptions {
  readonly fetch: FetchFunction | undefined;
  readonly log: SessionLog;
  /** The request's own deadline in seconds: a `Retry-After` that would outlast it is reported, not waited for. */
  readonly timeoutSeconds?: number;
}

/**
 * The fetch handed to openid-client: retries 429, 502, 503 and 504 a few
 * times, honouring Retry-After when it fits the request's own deadline (a
 * 500 is not retried: the server may already have used a one-time refresh
 * token), and reads at most {@link MAX_RESPONSE_BYTES} of JSON at most
 * {@link MAX_JSON_DEPTH} deep.
 */
export function authServerFetch({ fetch: custom, log, timeoutSeconds }: AuthServerFetchOptions) {
  const send = custom ?? ((input: string | URL | Request, init?: RequestInit) => fetch(input, init));
  return async (url: string, options: { method?: string; body?: unknown; headers?: unknown; signal?: AbortSignal | null; redirect?: unknown }): Promise<Response> => {
    const signal = options.signal ?? undefined;
    const path = safePath(url);
    const startedMs = Date.now();
    for (let attempt = 0; ; attempt++) {
      log.debug('request to the authorization server', { method: options.method ?? 'GET', url: path, attempt: attempt + 1 });
      const response = await send(url, options as RequestInit);
      log.debug('answer from the authorization server', { url: path, status: response.status });
      if (RETRY_STATUSES.has(response.status) && attempt + 1 < MAX_ATTEMPTS) {
        const asked = retryAfterSeconds(response);
        const waitMs = asked !== undefined ? asked * 1000 : Math.min(250 * 2 ** attempt, 4000);
        // A wait that would outlast the caller's deadline is no use: report the server's answer instead.
        const budget = Math.min(MAX_RETRY_AFTER_SECONDS, (timeoutSeconds ?? MAX_RETRY_AFTER_SECONDS) - (Date.now() - startedMs) / 1000 - 1);
        if (asked !== undefined && asked > budget) {
          await response.body?.cancel();
          throw new RetryLaterError(response.status, Math.ceil(asked));
        }
        await response.body?.cancel();
        await sleep(waitMs, signal);
        continue;
      }
      if (RETRY_STATUSES.has(response.status)) {
        const asked = retryAfterSeconds(response);
        if (asked !== undefined && asked > 0) {
          await response.body?.cancel();
          throw new RetryLaterError(response.status, Math.ceil(asked));
        }
      }
      return bounded(response);
    }
  };
}

async function bounded(response: Response): Promise<Response> {
  const text = await boundedText(response, MAX_RESPONSE_BYTES);
  const type = response.headers.get('content-type') ?? '';
  if (/json/i.test(type) && jsonDepth(text) > MAX_JSON_DEPTH) {
    throw new ResponseBoundsError(`the server's answer nests JSON more than ${MAX_JSON_DEPTH} levels deep`, response.status);
  }
  const body = response.status === 204 || response.status === 304 ? null : text;
  const copy = new Response(body, { status: response.status, statusText: response.statusText, headers: response.headers });
  if (response.url) Object.defineProperty(copy, 'url', { value: response.url });
  return copy;
}

/** The URL without its query, for logs: a query may carry a code or a token. */
function safePath(url: string): string {
  try {
    const u = new URL(url);
    return `${u.origin}${u.pathname}`;
  } catch {
    return '(not a URL)';
  }
}

/** Server text made safe for a terminal: control characters (escape sequences included) removed, length capped. */
export function printable(text: string, max = 300): string {
  const clean = text
    // eslint-disable-next-line no-control-regex -- control characters are what this removes
    .replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
  return clean.length > max ? `${clean.slice(0, max)}...` : clean;
}

/** Whether `hostname` (as `URL.hostname` gives it) is this machine. */
export function isLoopbackHost(hostname: string): boolean {
  return hostname === '127.0.0.1' || hostname === 'localhost' || hostname === '[::1]' || hostname === '::1' || /^127\.\d+\.\d+\.\d+$/.test(hostname);
}

/** Whether `url` is plain http to somewhere other than this machine. */
export function isPlainHttpOffMachine(url: URL): boolean {
  return url.protocol === 'http:' && !isLoopbackHost(url.hostname);
}
