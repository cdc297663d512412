// The device authorization grant (RFC 8628): the server hands out a user
// code and a verification URL, the user completes the login on any device,
// and the SDK polls until it has.
import type * as OidcClient from 'openid-client';
import { AbortedError, AccessDeniedError, ConfigError, DeviceCodeExpiredError } from '../errors.js';
import type { DeviceLoginInfo, Grant, GrantContext, LoginResult } from './types.js';

const deviceResponses = new WeakMap<DeviceLoginInfo, OidcClient.DeviceAuthorizationResponse>();

/** Starts a device login (RFC 8628, section 3.1): what to show the user. */
export async function initiateDeviceLogin(context: GrantContext): Promise<DeviceLoginInfo> {
  let response: OidcClient.DeviceAuthorizationResponse;
  try {
    response = await context.oidc.initiateDeviceAuthorization(context.config, context.parameters({ scope: context.scopes.join(' ') }));
  } catch (error) {
    throw context.protocolError(error, 'the device authorization request');
  }
  const info: DeviceLoginInfo = {
    verificationUri: response.verification_uri,
    ...(response.verification_uri_complete ? { verificationUriComplete: response.verification_uri_complete } : {}),
    userCode: response.user_code,
    expiresIn: response.expires_in,
    interval: response.interval ?? 5,
  };
  deviceResponses.set(info, { ...response, interval: info.interval });
  context.log.debug('device login started', { expiresIn: info.expiresIn, interval: info.interval });
  return info;
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
    const tokens = await context.oidc.pollDeviceAuthorizationGrant(context.config, response, context.parameters({}), { signal: combined });
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
  unattended: false,
  async login(context, options) {
    const info = await initiateDeviceLogin(context);
    (options.onDeviceCode ?? printDeviceInstructions)(info);
    return completeDeviceLogin(context, info, options.signal);
  },
};
