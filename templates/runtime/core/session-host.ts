// What the facade (auth-core.ts) hands the engine besides effects: the
// profile's client settings written with a login, listeners of new tokens,
// and the errors in the SDK's terms.
import { CREDENTIAL_FIELDS, clientAuthMethod } from '../client-auth/index.js';
import { GRANTS } from '../registry.js';
import { clientSecretOf, holdsClientSecret, type ClientOptions } from '../client-options.js';
import { ERR_STORAGE, LoginRequiredError, NetworkError, StateError, TokenRequestError, TurnLostError, type PlanetAuthError } from '../errors.js';
import type { Turn } from '../lock.js';
import { containAsync, type SessionLog } from '../log.js';
import { CLIENT_FILE, METADATA_FILE, TOKEN_FILE, clientConfigToWrite, parseClientConfig } from '../profile.js';
import type { SessionStorage } from '../session-storage.js';
import type { FlowDescriptor } from '../settings.js';
import type { TokenFile } from '../token.js';
import type { AuthServer } from './adapters.js';
import type { TokenEvent } from './api-types.js';
import type { EngineHost } from './effects.js';

/** Everything the host needs to know about its session. */
export interface HostContext {
  readonly profile: string;
  readonly flow: FlowDescriptor;
  readonly options: ClientOptions;
  readonly storage: SessionStorage;
  readonly server: AuthServer;
  readonly scopes: readonly string[];
  readonly log: SessionLog;
  /** Which settings the application chose itself, rather than took from defaults (for `auth_client.json`). */
  readonly chosen: { readonly audiences: boolean; readonly scopes: boolean };
  readonly unattended: boolean;
}

export type TokenListeners = Set<{ listener: (event: TokenEvent) => void; includeRefreshToken: boolean }>;

/** The engine's host for a real session. */
export function sessionHost(context: HostContext, listeners: TokenListeners): EngineHost {
  const { profile, log, server, storage } = context;
  const hint = server.loginHint();
  const storageError = (error: unknown, outcome: string): Error => {
    const location = storage.location(TOKEN_FILE);
    const cause = storage.error(error, TOKEN_FILE, 'writing');
    if (cause instanceof TurnLostError) return cause;
    return new StateError(ERR_STORAGE, location, `the tokens of profile "${profile}" could not be saved to ${location} (${cause.message}); ${outcome}`, { cause, hint: 'check that the storage is writable and has room' });
  };
  return {
    unattended: context.unattended,
    beforeLoginWrite: (turn) => writeClientConfig(context, turn),
    tokens: (reason, file) => emitTokens(listeners, log, reason, file),
    secret: (value) => log.secret(value),
    debug: (message, fields) => log.debug(message, fields),
    warn: (message, fields) => log.warn(message, fields),
    noSession: (file) => new LoginRequiredError(file ? `the session of profile "${profile}" has expired and holds no refresh token` : `profile "${profile}" has no session`, hint),
    ended: () => new LoginRequiredError(`the session of profile "${profile}" has ended (the server refused its refresh token)`, hint),
    unsaved: (cause) => storageError(cause, 'they are kept in memory and saved again on the next call'),
    unwritable: (cause) => storageError(cause, 'the refresh token was not spent, as new tokens could not be saved'),
    expiredOnArrival: () =>
      new TokenRequestError(
        'ERR_SERVER',
        `the new tokens of profile "${profile}" expired before they could be saved and handed out; the token endpoint or the storage is slower than the tokens live`,
        undefined,
        undefined,
        {
          hint: 'check the storage and the server, then try again',
        },
      ),
    noAccessToken: () => server.error(new Error('the token response holds no access token'), 'the token request'),
  };
}

/** Tells every listener about new tokens (or none, after a logout); the refresh token only to those that asked. */
export function emitTokens(listeners: TokenListeners, log: SessionLog, reason: TokenEvent['reason'], file: TokenFile | undefined): void {
  if (listeners.size === 0) return;
  const base: TokenEvent = {
    reason,
    ...(file?.access_token ? { accessToken: file.access_token } : {}),
    ...(file?._exp !== undefined ? { expiresAt: file._exp } : {}),
    ...(file?.scope ? { scope: file.scope } : {}),
    ...(file?.id_token ? { idToken: file.id_token } : {}),
  };
  for (const { listener, includeRefreshToken } of listeners) {
    try {
      containAsync(listener(includeRefreshToken && file?.refresh_token ? { ...base, refreshToken: file.refresh_token } : base), log, 'an onTokens listener');
    } catch (error) {
      log.warn('an onTokens listener threw', { error: (error as Error)?.message });
    }
  }
}

/** Writes the profile's client settings (and the server's metadata) with a login, where the options say so. */
async function writeClientConfig(context: HostContext, turn: Turn): Promise<void> {
  const { storage, options, server, log } = context;
  if (options.persistClientConfig === false) return;
  const existingData = await storage.load(CLIENT_FILE);
  const existing = existingData ? parseClientConfig(storage.location(CLIENT_FILE), existingData) : undefined;
  const { issuer, clientId } = server.identity;
  const audience = server.audience;
  const method = clientAuthMethod(context.flow.tokenEndpointAuthMethod);
  // A secret read when first needed (a profile's in the OS keychain) is read now, to be saved with the client settings.
  const credential = method.profileFields(holdsClientSecret(options) ? { ...options, clientSecret: clientSecretOf(options) } : options);
  const file = {
    client_type: context.flow.clientType,
    auth_server: issuer,
    client_id: clientId,
    scopes: [...context.scopes],
    ...(audience !== undefined ? { audiences: [audience] } : {}),
    ...credential,
    ...GRANTS[context.flow.grant].profile.fields(options, existing),
  };
  // A credential field this login did not write goes: another method's (a secret left behind by a move to a private
  // key), or this method's own that the login no longer uses (a key file's path after a move to env:NAME, an old kid).
  const stale = CREDENTIAL_FIELDS.filter((field) => !Object.hasOwn(credential, field));
  const wanted = clientConfigToWrite(existing, file, context.chosen, stale);
  if (wanted) await storage.write(CLIENT_FILE, wanted, turn);
  const metadata = server.metadata;
  if (metadata) {
    try {
      await storage.write(METADATA_FILE, metadata, turn);
    } catch (error) {
      if (error instanceof TurnLostError) throw error;
      log.warn('could not keep the server metadata with the profile', { error: (error as Error)?.message });
    }
  }
}

/** The revocation failed and the session was kept: the same kind of error, saying so and what to do. */
export function keptSession(failure: PlanetAuthError, profile: string): PlanetAuthError {
  const message = `${failure.message}; the session of profile "${profile}" was kept`;
  const hint = 'log out again once the server can be reached, or forget the session here anyway with logout({ forgetLocally: true }) (its refresh token then stays valid at the server until it expires)';
  if (failure instanceof NetworkError) return new NetworkError(message, { cause: failure, hint });
  if (failure instanceof TokenRequestError) return new TokenRequestError(failure.code === 'ERR_SERVER' ? 'ERR_SERVER' : 'ERR_TOKEN_REQUEST', message, failure.status, failure.oauthError, { cause: failure, hint });
  return failure;
}
