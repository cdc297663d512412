// HTTP calls with the session's bearer token (or DPoP-bound token and its
// proof). The token goes only to the configured API origin, and only over
// https (or plain http to this machine) unless plain http was allowed
// explicitly. A 401 gets one retry with a fresh token; a fresh token
// rejected again goes back to the caller. A DPoP API's request for a nonce
// (`use_dpop_nonce`) gets one retry with a proof carrying it.
import type { AuthCore } from './auth-core.js';
import { ConfigError } from './errors.js';
import { isPlainHttpOffMachine } from './http.js';
import { assertApiDestination } from './settings.js';

/**
 * Calls the API with a session's bearer token: `fetch` with the
 * `Authorization` header added for the API's origin, a fresh token ahead of
 * expiry, and one retry after a 401.
 *
 * @group Session
 */
export class Session {
  readonly #auth: AuthCore;
  readonly #apiOrigin: string;
  readonly #apiBase: URL;

  /** A session calling the API of `auth` (its `apiBaseUrl`) with `auth`'s tokens. */
  constructor(auth: AuthCore) {
    assertApiDestination(auth);
    this.#auth = auth;
    let base: URL;
    try {
      base = new URL(auth.apiBaseUrl.endsWith('/') ? auth.apiBaseUrl : `${auth.apiBaseUrl}/`);
    } catch {
      throw new ConfigError(`apiBaseUrl ${JSON.stringify(auth.apiBaseUrl)} is not a URL; set it to the API's https URL`);
    }
    if (base.protocol !== 'https:' && base.protocol !== 'http:') throw new ConfigError(`apiBaseUrl ${base.href} must be an https URL`);
    if (isPlainHttpOffMachine(base) && !auth.allowInsecureHttp) {
      throw new ConfigError(`apiBaseUrl ${base.href} uses plain http, which would send the bearer token unencrypted; use https (plain http is allowed only for 127.0.0.1 and localhost, or with allowInsecureHttp: true)`);
    }
    this.#apiBase = base;
    this.#apiOrigin = base.origin;
  }

  /**
   * Like `fetch`; a path such as `/data/v1/searches` is resolved against the
   * API base URL. Requests to the API's origin carry `Authorization: Bearer`,
   * or for a DPoP session `Authorization: DPoP` and a `DPoP` proof.
   * `init.signal` also stops the wait for a token.
   */
  async fetch(input: string | URL, init: RequestInit = {}): Promise<Response> {
    const url = typeof input === 'string' && input.startsWith('/') ? new URL(`.${input}`, this.#apiBase) : new URL(input);
    const send = this.#auth.fetchFunction;
    if (url.origin !== this.#apiOrigin) return send(url, init);
    const signal = init.signal ?? undefined;
    const token = await this.#auth.getAccessToken(signal ? { signal } : undefined);
    const response = await this.#send(url, init, token);
    if (response.status !== 401) {
      this.#auth.tokenAccepted(token);
      return response;
    }
    if (!replayable(init.body)) return response;
    const fresh = await this.#auth.tokenRejected(token, signal ? { signal } : undefined);
    if (fresh === undefined) return response;
    await response.body?.cancel();
    const retried = await this.#send(url, init, fresh);
    if (retried.status !== 401) this.#auth.tokenAccepted(fresh);
    return retried;
  }

  /** Sends with `token` presented; a DPoP API that asks for a nonce gets the request once more, with it. */
  async #send(url: URL, init: RequestInit, token: string): Promise<Response> {
    const method = (init.method ?? 'GET').toUpperCase();
    const send = this.#auth.fetchFunction;
    const response = await send(url, withHeaders(init, await this.#auth.headersFor(token, method, url)));
    if (!this.#auth.proofAnswered(response, url) || !replayable(init.body)) return response;
    await response.body?.cancel();
    return send(url, withHeaders(init, await this.#auth.headersFor(token, method, url)));
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return `Session { api: ${JSON.stringify(this.#apiOrigin)} }`;
  }
}

function withHeaders(init: RequestInit, added: Record<string, string>): RequestInit {
  const headers = new Headers(init.headers);
  for (const [name, value] of Object.entries(added)) headers.set(name, value);
  return { ...init, headers };
}

function replayable(body: RequestInit['body']): boolean {
  return body === undefined || body === null || typeof body === 'string' || body instanceof URLSearchParams || body instanceof ArrayBuffer || ArrayBuffer.isView(body) || body instanceof Blob;
}
