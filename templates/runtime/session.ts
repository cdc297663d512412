// HTTP calls with the session's bearer token. The token goes only to the
// configured API origin; a 401 gets one retry with a fresh token.
import type { AuthCore } from './auth-core.js';

export class Session {
  readonly #auth: AuthCore;
  readonly #apiOrigin: string;
  readonly #apiBase: URL;

  constructor(auth: AuthCore) {
    this.#auth = auth;
    this.#apiBase = new URL(auth.apiBaseUrl.endsWith('/') ? auth.apiBaseUrl : `${auth.apiBaseUrl}/`);
    this.#apiOrigin = this.#apiBase.origin;
  }

  /**
   * Like `fetch`; a path such as `/data/v1/searches` is resolved against the
   * API base URL. Requests to the API's origin carry `Authorization: Bearer`.
   */
  async fetch(input: string | URL, init: RequestInit = {}): Promise<Response> {
    const url = typeof input === 'string' && input.startsWith('/') ? new URL(`.${input}`, this.#apiBase) : new URL(input);
    if (url.origin !== this.#apiOrigin) return fetch(url, init);
    const token = await this.#auth.getAccessToken();
    const response = await fetch(url, withBearer(init, token));
    if (response.status !== 401 || !replayable(init.body)) return response;
    await response.body?.cancel();
    const fresh = await this.#auth.tokenRejected(token);
    return fetch(url, withBearer(init, fresh));
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return `Session { api: ${JSON.stringify(this.#apiOrigin)} }`;
  }
}

function withBearer(init: RequestInit, token: string): RequestInit {
  const headers = new Headers(init.headers);
  headers.set('authorization', `Bearer ${token}`);
  return { ...init, headers };
}

function replayable(body: RequestInit['body']): boolean {
  return body === undefined || body === null || typeof body === 'string' || body instanceof URLSearchParams || body instanceof ArrayBuffer || ArrayBuffer.isView(body) || body instanceof Blob;
}
