// The loopback listener that receives the browser's redirect after login
// (RFC 8252, section 7.3). It binds 127.0.0.1 only, accepts one callback
// that carries the expected `state`, escapes everything it echoes, answers
// any other path with 404, and closes on success, failure and timeout.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { AccessDeniedError, CallbackError, ConfigError, LoginTimeoutError, type PlanetAuthError } from './errors.js';

export interface LoopbackListener {
  /** The redirect URI with the port actually bound; used in both the authorization and the token request. */
  readonly redirectUri: string;
  /** Resolves with the callback URL (query included) once a valid callback arrived. */
  readonly callback: Promise<URL>;
  /**
   * Answers the browser that brought the callback: the success page only
   * once the code exchange succeeded, else an error page with `message`.
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

export function parseCallbackUrl(callbackUrl: string): URL {
  let url: URL;
  try {
    url = new URL(callbackUrl);
  } catch {
    throw new ConfigError(`callbackUrl ${JSON.stringify(callbackUrl)} is not a URL; use a loopback URL such as http://127.0.0.1:8080/callback`);
  }
  if (url.protocol !== 'http:' || !['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname)) {
    throw new ConfigError(`callbackUrl ${callbackUrl} must be an http URL on 127.0.0.1 or localhost, such as http://127.0.0.1:8080/callback`);
  }
  return url;
}

/**
 * Starts listening at the callback URL's port (a free one when it says 0).
 * `expectedState` guards against callbacks the login did not start.
 */
export async function startLoopbackListener(callbackUrl: string, expectedState: string, timeoutMs: number): Promise<LoopbackListener> {
  const configured = parseCallbackUrl(callbackUrl);
  const path = configured.pathname || '/';
  let settle: { resolve: (url: URL) => void; reject: (error: PlanetAuthError) => void } | undefined;
  const callback = new Promise<URL>((resolve, reject) => {
    settle = { resolve, reject };
  });
  let done = false;
  let redirectUri = '';

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', redirectUri);
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
    const error = params.get('error');
    if (error !== null) {
      done = true;
      const description = params.get('error_description');
      page(res, 200, 'Login refused', `The authorization server answered: ${error}${description ? ` (${description})` : ''}. You can close this window.`);
      finish();
      settle!.reject(
        error === 'access_denied'
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
    page(res, 200, 'Login complete', 'You are logged in and can close this window.');
    finish();
    settle!.resolve(new URL(url.href));
  });

  const timer = setTimeout(() => {
    if (done) return;
    done = true;
    finish();
    settle!.reject(new LoginTimeoutError(`no login arrived at ${redirectUri} within ${Math.round(timeoutMs / 1000)} s; run the login again and complete it in the browser`));
  }, timeoutMs);
  timer.unref();

  function finish(): void {
    clearTimeout(timer);
    // Stop accepting at once; let the answer just written reach the browser.
    server.close();
    setTimeout(() => server.closeAllConnections(), 200).unref();
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) =>
      reject(new ConfigError(`cannot listen on 127.0.0.1:${configured.port || 0} for the login callback (${error.code ?? error.message}); free that port or register another callback URL`)),
    );
    server.listen(Number(configured.port || 0), '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const actual = new URL(configured.href);
  actual.port = String(port);
  actual.search = '';
  actual.hash = '';
  redirectUri = actual.href;
  return {
    redirectUri,
    callback,
    respond: () => undefined,
    close: () => {
      if (!done) {
        done = true;
        finish();
        settle!.reject(new CallbackError('the login was cancelled'));
      }
    },
  };
}
