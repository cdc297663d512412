// How one session is put together from the SDK's settings, its flow and the
// application's options: the storage it is saved in, the authorization
// server it talks to, and the engine (core/engine.ts) wired to both. The
// facade (auth-core.ts) only calls into what this returns.
import { clientSecretOf, type ClientOptions } from './client-options.js';
import { AuthServer, REAL_CLOCK, StoredTokens, leaseHoldMs } from './core/adapters.js';
import { SessionEngine } from './core/engine.js';
import { sessionHost, type TokenListeners } from './core/session-host.js';
import { GRANT_MODULES, type Grant } from './grants/index.js';
import { sessionLog, type SessionLog } from './log.js';
import { normalizeProfileName } from './profile.js';
import { insecureAllowed } from './protocol.js';
import { resolveOptions } from './resolve-options.js';
import { SessionStorage } from './session-storage.js';
import { destinations, flowById, refuseBuiltinDestinations, type FlowDescriptor, type SdkSettings } from './settings.js';
import { scopesToRequest } from './registry.js';
import { credentialsOf } from './client-auth/index.js';

/** The parts of one session. */
export interface SessionParts {
  readonly flow: FlowDescriptor;
  /** The application's options with the environment's applied. */
  readonly options: ClientOptions;
  readonly grant: Grant;
  readonly profileName: string;
  readonly log: SessionLog;
  readonly apiBaseUrl: string;
  readonly scopes: readonly string[];
  readonly storage: SessionStorage;
  readonly server: AuthServer;
  readonly engine: SessionEngine;
  readonly listeners: TokenListeners;
}

/**
 * The parts of a session of flow `flowId` of `settings`. `owner` is the
 * object the application holds (in-memory turns and the API destination
 * check are keyed by it). Throws `ConfigError` for options that cannot work.
 */
export function wireSession(settings: SdkSettings, flowId: string, options: ClientOptions, owner: object): SessionParts {
  const flow = flowById(settings, flowId);
  const resolved = resolveOptions(flow, options);
  const chosen = { audiences: typeof options.audience === 'string', scopes: options.requestedScopes !== undefined };
  const { issuer, issuerSource, apiBaseUrl, audience } = destinations(settings, flow, resolved);
  const grant = GRANT_MODULES[flow.grant];
  const profileName = normalizeProfileName(resolved.profileName ?? resolved.clientId);
  const log = sessionLog(resolved.logger, settings.env.debug, { profile: profileName, flow: flow.id });
  log.secret(resolved.clientSecret);
  for (const option of flow.options) {
    const value = (resolved as unknown as Record<string, unknown>)[option.name];
    if (option.secret && typeof value === 'string') log.secret(value);
  }
  const requested = resolved.requestedScopes ?? settings.defaultScopes;
  const scopes = scopesToRequest(flow.grant, requested);
  // Refused here, not at the first request: an issuer from the code or the environment the SDK would never talk to.
  insecureAllowed(issuer, resolved.allowInsecureHttp === true, issuerSource);
  const storage = new SessionStorage(settings, profileName, resolved, owner, { clientId: resolved.clientId, issuer, maxHoldMs: leaseHoldMs(resolved.requestTimeoutSeconds) });
  const authServer = new AuthServer({
    identity: {
      issuer,
      clientId: resolved.clientId,
      clientSecret: () => log.secret(clientSecretOf(resolved)),
      credentials: credentialsOf(resolved),
      authMethod: flow.tokenEndpointAuthMethod,
      fetch: resolved.fetch,
      log,
      ...(resolved.allowInsecureHttp === true ? { allowInsecureHttp: true } : {}),
      ...(resolved.requestTimeoutSeconds !== undefined ? { timeoutSeconds: resolved.requestTimeoutSeconds } : {}),
    },
    flow,
    grant,
    scopes,
    callbackUrl: resolved.callbackUrl,
    audience: { parameter: settings.audienceParameter, value: audience },
    profile: profileName,
    storage,
  });
  // A token goes only where its issuer's settings send it: a custom issuer with built-in destinations is refused before any request.
  refuseBuiltinDestinations(owner, settings, authServer.identity.issuer, audience, apiBaseUrl);
  const listeners: TokenListeners = new Set();
  const engine = new SessionEngine({
    clock: REAL_CLOCK,
    store: new StoredTokens(storage, authServer.identity, resolved.persistClientConfig !== false),
    turns: storage.turns,
    endpoint: authServer,
    host: sessionHost({ profile: profileName, flow, options: resolved, storage, server: authServer, scopes, log, chosen, unattended: grant.unattended }, listeners),
  });
  return { flow, options: resolved, grant, profileName, log, apiBaseUrl, scopes, storage, server: authServer, engine, listeners };
}
