// The loopback listener that receives the browser's redirect after login
// (RFC 8252, section 7.3). It binds 127.0.0.1 (::1 when the callback URL says
// [::1]), accepts one callback that carries the expected `state`, escapes
// everything it echoes, answers any other path with 404 and bytes that are
// not HTTP with 400, and closes on success, failure and timeout. The
// browser's callback request is answered only when the login's outcome is
// known: the success page once the code exchange succeeded.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { parseCallbackUrl } from './callback-url.js';
import { AccessDeniedError, CallbackError, ConfigError, LoginTimeoutError, type PlanetAuthError } from './errors.js';
import { printable } from './http.js';

export { parseCallbackUrl } from './callback-url.js';

/** How long the browser's callback request waits for `respond` before it gets a neutral page. */
export const RESPOND_TIMEOUT_MS = 60_000;

export interface LoopbackListener {
  /** The redirect URI with the port actually bound; used in both the authorization and the token request. */
  readonly redirectUri: string;
  /** Resolves with the callback URL (query included) once a valid callback arrived. */
  readonly callback: Promise<URL>;
  /**
   * Answers the browser that brought the callback: the success page only
   * once the code exchange succeeded, else an error page with `message`.
   * Until then the browser's request stays open; without an answer within
   * RESPOND_TIMEOUT_MS (or at `close`) it gets a page that sends the user
   * back to the application.
   */
  respond(outcome: { readonly ok: true } | { readonly ok: false; readonly message: string }): void;
  close(): void;
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

function page(res: ServerResponse, status: number, title: string, body: string): void {
  const html = `<!doctype html><html><head><meta charset="utf-8"><title>${escapeHtml(title)}</title></head><body><h1>${escapeHtml(title)}</h1><p>${escapeHtml(body)}</p></body></html>`;
  res.writeHead(status, {
    'content-type': 'text/html; charset=utf-8',
    'content-security-policy': "default-src 'none'",
    'cache-control': 'no-store',
    connection: 'close',
  });
  res.end(html);
}

/**
 * Starts listening at the callback URL's port (a free one when it says 0).
 * `expectedState` guards against callbacks the login did not start.
 */
export async function startLoopbackListener(callbackUrl: string, expectedState: string, timeoutMs: number, options: { respondTimeoutMs?: number } = {}): Promise<LoopbackListener> {
  const configured = parseCallbackUrl(callbackUrl);
  const path = configured.pathname || '/';
  const host = configured.hostname === '[::1]' ? '::1' : '127.0.0.1';
  let settle: { resolve: (url: URL) => void; reject: (error: PlanetAuthError) => void } | undefined;
  const callback = new Promise<URL>((resolve, reject) => {
    settle = { resolve, reject };
  });
  let done = false;
  let redirectUri = '';
  /** The browser's callback request, held open until the outcome is known. */
  let held: ServerResponse | undefined;
  let respondTimer: NodeJS.Timeout | undefined;

  function answerHeld(status: number, title: string, body: string): void {
    if (held === undefined || held.headersSent || held.destroyed) return;
    clearTimeout(respondTimer);
    page(held, status, title, body);
    shutDown();
  }

  function route(req: IncomingMessage, res: ServerResponse): void {
    // Origin-form targets only ("/path?query"); appended to a fixed origin, "//host" cannot move the host.
    const target = req.url ?? '';
    let url: URL | undefined;
    try {
      url = target.startsWith('/') ? new URL(`http://127.0.0.1${target}`) : undefined;
    } catch {
      url = undefined;
    }
    if (url === undefined) {
      page(res, 400, 'Bad request', 'This address only receives the login redirect.');
      return;
    }
    if (req.method !== 'GET' || url.pathname !== path) {
      page(res, 404, 'Not found', 'This address only receives the login redirect.');
      return;
    }
    if (done) {
      page(res, 410, 'Login already finished', 'You can close this window.');
      return;
    }
    const params = url.searchParams;
    if (params.get('state') !== expectedState) {
      // Not from the login this process started: refuse it and keep waiting for the real one.
      page(res, 400, 'Login not accepted', 'This response does not belong to the login in progress. Start the login again from the application.');
      return;
    }
    const rawError = params.get('error');
    if (rawError !== null) {
      done = true;
      // Server text: shown on the page (escaped there) and in messages a terminal prints, so without control characters.
      const error = printable(rawError, 80);
      const description = params.get('error_description') === null ? null : printable(params.get('error_description')!, 300);
      page(res, 200, 'Login refused', `The authorization server answered: ${error}${description ? ` (${description})` : ''}. You can close this window.`);
      shutDown();
      settle!.reject(
        rawError === 'access_denied'
          ? new AccessDeniedError(`the login was refused (${error}${description ? `: ${description}` : ''}); log in again and allow access`)
          : new CallbackError(`the authorization server answered the login with ${error}${description ? `: ${description}` : ''}`),
      );
      return;
    }
    if (!params.get('code')) {
      page(res, 400, 'Login not accepted', 'The response carries no authorization code.');
      return;
    }
    done = true;
    held = res;
    stopAccepting();
    respondTimer = setTimeout(() => answerHeld(200, 'Return to the application', NEUTRAL_TEXT), options.respondTimeoutMs ?? RESPOND_TIMEOUT_MS);
    respondTimer.unref();
    settle!.resolve(new URL(url.href));
  }

  const server = createServer((req, res) => {
    try {
      route(req, res);
    } catch {
      // Whatever a request holds, it must not take the login (or the application hosting it) down.
      if (!res.headersSent) page(res, 400, 'Bad request', 'This address only receives the login redirect.');
      else res.destroy();
    }
  });
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Socket) => {
    if (error.code === 'ECONNRESET' || !socket.writable) {
      socket.destroy();
      return;
    }
    const status = error.code === 'HPE_HEADER_OVERFLOW' ? '431 Request Header Fields Too Large' : error.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? '408 Request Timeout' : '400 Bad Request';
    socket.end(`HTTP/1.1 ${status}\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`);
  });

  const timer = setTimeout(() => {
    if (done) return;
    done = true;
    shutDown();
    settle!.reject(new LoginTimeoutError(`no login arrived at ${redirectUri} within ${Math.round(timeoutMs / 1000)} s; run the login again and complete it in the browser`));
  }, timeoutMs);
  timer.unref();

  /** Stops accepting connections; a held callback request stays open. */
  function stopAccepting(): void {
    clearTimeout(timer);
    server.close();
    server.closeIdleConnections();
  }

  function shutDown(): void {
    stopAccepting();
    clearTimeout(respondTimer);
    // Let the answer just written reach the browser, then drop every connection left, half-sent requests included.
    setTimeout(() => server.closeAllConnections(), 200).unref();
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => {
      if (host === '::1' && ['EADDRNOTAVAIL', 'EAFNOSUPPORT', 'EINVAL'].includes(error.code ?? '')) {
        reject(
          new ConfigError(
            `the callback URL ${callbackUrl} needs IPv6, which this machine does not offer on [::1] (${error.code}); use a callback URL on 127.0.0.1 instead, such as http://127.0.0.1:${configured.port || 8080}${path}, and register it with the authorization server`,
          ),
        );
        return;
      }
      reject(
        new ConfigError(
          `cannot listen on ${configured.hostname === '[::1]' ? '[::1]' : '127.0.0.1'}:${configured.port || 0} for the login callback (${error.code ?? error.message}); free that port or register another callback URL`,
        ),
      );
    });
    server.listen(Number(configured.port || 0), host, () => resolve());
  });
  // A server error after it started listening must not become an uncaught exception in the host application.
  server.on('error', () => undefined);
  const { port } = server.address() as AddressInfo;
  const actual = new URL(configured.href);
  actual.port = String(port);
  actual.search = '';
  actual.hash = '';
  redirectUri = actual.href;
  return {
    redirectUri,
    callback,
    respond: (outcome) => {
      if (outcome.ok) answerHeld(200, 'Login complete', 'You are logged in and can close this window.');
      else answerHeld(400, 'Login failed', `The login could not be completed: ${outcome.message}. Return to the application and try again.`);
    },
    close: () => {
      if (!done) {
        done = true;
        shutDown();
        settle!.reject(new CallbackError('the login was cancelled'));
        return;
      }
      answerHeld(200, 'Return to the application', NEUTRAL_TEXT);
      shutDown();
    },
  };
}

const NEUTRAL_TEXT = 'The login was received. Return to the application to see whether it finished; you can close this window.';
