// The authorization code grant with PKCE for a native application (RFC 7636,
// RFC 8252): the user logs in in a browser, which is sent back to a loopback
// listener with a code that is exchanged for tokens.
// The listener (node:http), the browser opener (node:child_process) and the
// prompt (node:readline) load when a login starts, not when the SDK does.
import { AbortedError, AccessDeniedError, CallbackError, ConfigError } from '../errors.js';
import type { LoopbackListener } from '../loopback.js';
import type { Grant, GrantProfile } from './types.js';
import { parseCallbackUrl } from '../callback-url.js';
import { BROWSER_LOGIN_TIMEOUT_MS } from '../core/api-types.js';

/** The callback a CLI login listens at when neither its options nor the profile name one: a free port on this machine. */
const DEFAULT_CALLBACK = 'http://127.0.0.1:0/callback';

function stringField(config: Readonly<Record<string, unknown>>, field: string): string | undefined {
  const value = config[field];
  return typeof value === 'string' && value !== '' ? value : undefined;
}

function isParseableLoopback(url: string): boolean {
  try {
    parseCallbackUrl(url);
    return true;
  } catch {
    return false;
  }
}

/**
 * The callback URL of a saved profile. Planet's Python CLI sends
 * `redirect_uri` to the server and listens at `local_redirect_uri`; this SDK
 * listens where it sends, so a loopback `redirect_uri` (what the client
 * registered) wins.
 */
function callbackUrlOf(config: Readonly<Record<string, unknown>>): string | undefined {
  const registered = stringField(config, 'redirect_uri');
  if (registered !== undefined && isParseableLoopback(registered)) return registered;
  return stringField(config, 'local_redirect_uri') ?? registered;
}

/** A profile keeps the callback URL the login listened at, unless it is already either of the file's redirect URIs. */
const callbackProfile: GrantProfile = {
  savedFields: ['local_redirect_uri', 'redirect_uri'],
  fields: (options, existing): Record<string, string> => {
    const callback = options.callbackUrl;
    if (!callback || (existing !== undefined && callback === callbackUrlOf(existing))) return {};
    return { local_redirect_uri: callback };
  },
  fromProfile: (config) => {
    const callbackUrl = callbackUrlOf(config);
    return callbackUrl !== undefined ? { callbackUrl } : {};
  },
};

export const authorizationCode: Grant = {
  requiredOptions: ['clientId', 'callbackUrl'],
  publicClients: true,
  see: 'https://www.rfc-editor.org/rfc/rfc7636 PKCE (RFC 7636) and https://www.rfc-editor.org/rfc/rfc8252 native apps (RFC 8252)',
  unattended: false,
  profile: callbackProfile,
  cli: {
    options: (doc) => [
      { name: 'callback-url', value: 'URL', help: `${doc('callbackUrl', 'Loopback callback URL.')} Default: the profile's, else ${DEFAULT_CALLBACK}.` },
      { name: 'open-browser', help: 'Open the login page in the browser (the default)', conflicts: ['no-open-browser'] },
      { name: 'no-open-browser', help: 'Print the login URL instead of opening a browser', conflicts: ['open-browser'] },
    ],
    exampleArgs: ['--callback-url http://127.0.0.1:8080/callback'],
    sessionOptions: (values, existing) => ({ callbackUrl: (values['callback-url'] as string | undefined) ?? existing?.callbackUrl ?? DEFAULT_CALLBACK }),
    async login(terminal, session, values) {
      const waiting = () => terminal.progress((spin) => `${spin} Waiting for the login in the browser...`);
      let stop = (): void => undefined;
      let finished = false;
      try {
        await session.userLogin({
          allowOpenBrowser: values['no-open-browser'] !== true,
          // The URL first, then the spinner below it: nothing redraws over the URL.
          onAuthorizationUrl: (url, opening) => {
            terminal.info(`${opening ? 'Opening a browser to log in. If none opens, open this URL in a browser' : 'Open this URL in a browser to log in'}:\n\n  ${url}\n`);
            stop = waiting();
            void opening?.then((opened) => {
              if (opened || finished) return;
              stop();
              terminal.info('No browser could be opened here: open the URL above in a browser on this machine.');
              stop = waiting();
            });
          },
        });
      } finally {
        finished = true;
        stop();
      }
    },
  },
  example: {
    who: 'The user',
    login: ['await auth.userLogin({ allowOpenBrowser: true });'],
    ensureComment: 'Reuse the saved session, refresh it if it expired, or log in with the browser (or a pasted URL) when there is none.',
    ensureArguments: '{ allowOpenBrowser: true, allowTtyPrompt: true }',
    clientId: { env: 'userClientId', fallback: 'your-client-id' },
  },
  async login(context, options) {
    if (context.callbackUrl === undefined) throw new ConfigError(`callbackUrl is required for ${context.flow.factory}()`);
    const { oidc, config } = context;
    const verifier = oidc.randomPKCECodeVerifier();
    const challenge = await oidc.calculatePKCECodeChallenge(verifier);
    const state = oidc.randomState();
    const nonce = oidc.randomNonce();
    const openid = context.scopes.includes('openid');
    const { startLoopbackListener } = await import('../loopback.js');
    const listener = await startLoopbackListener(context.callbackUrl, state, options.timeoutMs ?? BROWSER_LOGIN_TIMEOUT_MS);
    const onAbort = () => listener.close();
    options.signal?.addEventListener('abort', onAbort, { once: true });
    let handedOver = false;
    try {
      if (options.signal?.aborted) throw new AbortedError('the login was cancelled');
      const url = oidc.buildAuthorizationUrl(
        config,
        context.parameters({
          redirect_uri: listener.redirectUri,
          scope: context.scopes.join(' '),
          code_challenge: challenge,
          code_challenge_method: 'S256',
          state,
          // A nonce belongs to OpenID Connect: sent (and checked) only when `openid` is requested.
          ...(openid ? { nonce } : {}),
        }),
      );
      context.log.debug('browser login started', { redirectUri: listener.redirectUri });
      // The URL is shown before any opener runs: a browser that never shows up must not leave the user waiting blind.
      const opening = options.allowOpenBrowser === true ? (await import('../browser.js')).openBrowser(url.href) : undefined;
      if (options.onAuthorizationUrl) options.onAuthorizationUrl(url.href, opening);
      else if (opening) {
        process.stderr.write(`Opening a browser to log in. If none opens, open this URL in a browser:\n\n  ${url.href}\n\n`);
        void opening.then((opened) => opened || process.stderr.write('No browser could be opened here: open the URL above in a browser on this machine.\n'));
      } else process.stderr.write(`Open this URL in a browser to log in:\n\n  ${url.href}\n\n`);
      let callback: URL;
      try {
        callback = await (options.allowTtyPrompt === true && process.stdin.isTTY ? raceWithPastedUrl(listener, state, (await import('node:readline')).createInterface) : listener.callback);
      } catch (error) {
        if (options.signal?.aborted) throw new AbortedError('the login was cancelled');
        throw error;
      }
      const currentUrl = new URL(listener.redirectUri);
      currentUrl.search = callback.search;
      let response: Record<string, unknown>;
      try {
        const tokens = await oidc.authorizationCodeGrant(
          config,
          currentUrl,
          { pkceCodeVerifier: verifier, expectedState: state, ...(openid ? { expectedNonce: nonce, idTokenExpected: true } : {}) },
          context.parameters({}),
          context.requestOptions,
        );
        response = tokens;
      } catch (error) {
        const mapped = context.protocolError(error, 'exchanging the authorization code');
        listener.respond({ ok: false, message: mapped.message });
        throw mapped;
      }
      handedOver = true;
      return {
        response,
        finish: (outcome) => {
          listener.respond(outcome);
          listener.close();
        },
      };
    } finally {
      options.signal?.removeEventListener('abort', onAbort);
      if (!handedOver) listener.close();
    }
  },
};

/** Lets the user paste the URL the browser landed on, for when the loopback redirect cannot reach this process. */
function raceWithPastedUrl(listener: LoopbackListener, state: string, createInterface: typeof import('node:readline').createInterface): Promise<URL> {
  const prompt = createInterface({ input: process.stdin, output: process.stderr });
  const pasted = new Promise<URL>((resolve, reject) => {
    prompt.question('Or paste the URL the browser was sent to after logging in: ', (answer) => {
      let url: URL;
      try {
        url = new URL(answer.trim());
      } catch {
        reject(new CallbackError('the pasted text is not a URL; run the login again'));
        return;
      }
      if (url.searchParams.get('state') !== state) reject(new CallbackError('the pasted URL does not belong to this login; run the login again'));
      else if (url.searchParams.get('error') === 'access_denied') reject(new AccessDeniedError('the login was refused; log in again and allow access'));
      else resolve(url);
    });
  });
  return Promise.race([listener.callback, pasted]).finally(() => prompt.close());
}
