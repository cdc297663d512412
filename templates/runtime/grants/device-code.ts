// The device authorization grant (RFC 8628): the server hands out a user
// code and a verification URL, the user completes the login on any device,
// and the SDK polls until it has.
import type * as OidcClient from 'openid-client';
import { AbortedError, AccessDeniedError, ConfigError, DeviceCodeExpiredError, ERR_TOKEN_REQUEST, TokenRequestError } from '../errors.js';
import { isLoopbackHost, printable } from '../http.js';
import { NOTHING_SAVED, type CliLoginSession, type CliLoginTerminal, type DeviceLoginInfo, type Grant, type GrantContext, type LoginResult } from './types.js';

const deviceResponses = new WeakMap<DeviceLoginInfo, OidcClient.DeviceAuthorizationResponse>();

/** Starts a device login (RFC 8628, section 3.1): what to show the user. */
export async function initiateDeviceLogin(context: GrantContext): Promise<DeviceLoginInfo> {
  const metadata = context.config.serverMetadata() as unknown as Record<string, unknown>;
  requireDeviceEndpoint(metadata, String(metadata['issuer']));
  let response: OidcClient.DeviceAuthorizationResponse;
  try {
    response = await context.oidc.initiateDeviceAuthorization(context.config, context.parameters({ scope: context.scopes.join(' ') }));
  } catch (error) {
    throw context.protocolError(error, 'the device authorization request');
  }
  // What the server sent is shown to the user: only web addresses a browser should open, and no control characters.
  const verificationUri = verificationUrl(response.verification_uri, 'verification_uri');
  const complete = response.verification_uri_complete ? verificationUrl(response.verification_uri_complete, 'verification_uri_complete') : undefined;
  const userCode = printable(String(response.user_code), 64);
  if (userCode === '') throw context.protocolError(new TypeError('the device authorization answer has an empty user_code'), 'the device authorization request');
  const info: DeviceLoginInfo = {
    verificationUri,
    ...(complete ? { verificationUriComplete: complete } : {}),
    userCode,
    expiresIn: response.expires_in,
    interval: response.interval ?? 5,
  };
  deviceResponses.set(info, { ...response, interval: info.interval });
  context.log.debug('device login started', { expiresIn: info.expiresIn, interval: info.interval });
  return info;
}

/**
 * A verification URL from the server, refused unless it is https (or plain
 * http to this machine), so a `javascript:` or `file:` URL is never shown or
 * opened; returned in its normalised form, which has no control characters.
 */
function verificationUrl(value: unknown, field: string): string {
  let url: URL | undefined;
  try {
    url = typeof value === 'string' ? new URL(value) : undefined;
  } catch {
    url = undefined;
  }
  if (url === undefined || !(url.protocol === 'https:' || (url.protocol === 'http:' && isLoopbackHost(url.hostname))) || url.username !== '' || url.password !== '') {
    throw new TokenRequestError(ERR_TOKEN_REQUEST, `the device authorization request failed: the server's ${field} ${JSON.stringify(printable(String(value), 100))} is not an https URL`, undefined, undefined, {
      hint: 'check the issuer URL: the server is not answering as a trustworthy authorization server does',
    });
  }
  return url.href;
}

/**
 * Polls until the user completed the device login, at the server's interval
 * (5 s longer after each `slow_down`), until the code expires or `signal`
 * aborts (RFC 8628, section 3.4).
 */
export async function completeDeviceLogin(context: GrantContext, info: DeviceLoginInfo, signal: AbortSignal | undefined): Promise<LoginResult> {
  const response = deviceResponses.get(info);
  if (!response) throw new ConfigError('deviceUserLoginComplete() needs the object deviceUserLoginInitiate() returned, unchanged');
  const expiry = AbortSignal.timeout(response.expires_in * 1000);
  const combined = signal ? AbortSignal.any([signal, expiry]) : expiry;
  try {
    const tokens = await context.oidc.pollDeviceAuthorizationGrant(context.config, response, context.parameters({}), { ...context.requestOptions, signal: combined });
    return { response: tokens as unknown as Record<string, unknown> };
  } catch (error) {
    if (signal?.aborted) throw new AbortedError('the device login was cancelled');
    if (expiry.aborted || (error as { error?: string }).error === 'expired_token') {
      throw new DeviceCodeExpiredError(`the device code expired before the login was completed; start the login again and finish it within ${response.expires_in} s`);
    }
    const mapped = context.protocolError(error, 'the device login');
    if (mapped instanceof AccessDeniedError) throw new AccessDeniedError('the device login was refused at the verification page; start the login again and allow access');
    throw mapped;
  }
}

function printDeviceInstructions(info: DeviceLoginInfo): void {
  const text = info.verificationUriComplete
    ? `To log in, open ${info.verificationUriComplete} and check that it shows the code ${info.userCode}.`
    : `To log in, open ${info.verificationUri} and enter the code ${info.userCode}.`;
  process.stderr.write(`${text}\n`);
}

export const deviceCode: Grant = {
  requiredOptions: ['clientId'],
  publicClients: true,
  see: 'https://www.rfc-editor.org/rfc/rfc8628 device authorization grant (RFC 8628)',
  unattended: false,
  profile: NOTHING_SAVED,
  cli: {
    options: () => [
      { name: 'show-qr-code', help: 'Also draw the login URL as a QR code, for a phone' },
      // Accepted as the Python CLI accepts them: this machine may open the verification page too.
      { name: 'open-browser', help: 'Also open the verification page in a browser on this machine', conflicts: ['no-open-browser'] },
      { name: 'no-open-browser', help: 'Only print the verification page (the default)', conflicts: ['open-browser'] },
    ],
    exampleArgs: ['--show-qr-code'],
    sessionOptions: () => ({}),
    login: cliDeviceLogin,
  },
  example: {
    who: 'The user',
    login: [
      'const login = await auth.deviceUserLoginInitiate();',
      'if (login.verificationUriComplete) {',
      '  console.log(`Open ${login.verificationUriComplete} in a browser and check that it shows the code ${login.userCode}.`);',
      '} else {',
      '  console.log(`Open ${login.verificationUri} in a browser and enter the code ${login.userCode}.`);',
      '}',
      'await auth.deviceUserLoginComplete(login);',
    ],
    ensureComment: 'Reuse the saved session, refresh it if it expired, or log in when there is none.',
    ensureArguments: '',
    clientId: { env: 'userClientId', fallback: 'your-client-id' },
  },
  async login(context, options) {
    const info = await initiateDeviceLogin(context);
    (options.onDeviceCode ?? printDeviceInstructions)(info);
    return completeDeviceLogin(context, info, options.signal);
  },
};

/** Refuses a device login at a server whose metadata names no device authorization endpoint, before any request. */
export function requireDeviceEndpoint(metadata: Record<string, unknown>, issuer: string): void {
  const endpoint = metadata['device_authorization_endpoint'];
  if (typeof endpoint === 'string' && endpoint !== '') return;
  throw new ConfigError(`the authorization server ${printable(issuer, 200)} does not offer device login: its metadata names no device_authorization_endpoint`, {
    hint: 'log in with the browser (authorization code) flow instead, or check that the issuer URL is the server you meant',
  });
}

/** A device login at a terminal: the page and the code (and a QR code), then a countdown while the user logs in elsewhere. */
async function cliDeviceLogin(terminal: CliLoginTerminal, session: CliLoginSession, values: Readonly<Record<string, unknown>>): Promise<void> {
  const info = await session.deviceUserLoginInitiate();
  const code = terminal.strong(terminal.printable(info.userCode));
  if (info.verificationUriComplete) terminal.info(`To log in, open ${terminal.printable(info.verificationUriComplete)}\nand check that it shows the code ${code}.`);
  else terminal.info(`To log in, open ${terminal.printable(info.verificationUri)}\nand enter the code ${code}.`);
  if (values['show-qr-code'] === true) terminal.info(await terminal.qrCode(info.verificationUriComplete ?? info.verificationUri));
  if (values['open-browser'] === true && !(await terminal.openBrowser(info.verificationUriComplete ?? info.verificationUri))) terminal.info('No browser could be opened here: open the page above on any device.');
  const deadline = Date.now() + info.expiresIn * 1000;
  const stop = terminal.progress((spin) => {
    const left = Math.max(0, Math.round((deadline - Date.now()) / 1000));
    return `${spin} Waiting for the login to complete... ${Math.floor(left / 60)}:${String(left % 60).padStart(2, '0')} left`;
  });
  try {
    await session.deviceUserLoginComplete(info);
  } finally {
    stop();
  }
}
