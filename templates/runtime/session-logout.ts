// Ending a session: revoke what the server can revoke (RFC 7009), then forget
// the tokens here, in the session's turn so no refresh runs meanwhile.
import type { LogoutOptions, LogoutResult } from './core/api-types.js';
import { emitTokens, keptSession } from './core/session-host.js';
import type { PlanetAuthError } from './errors.js';
import { TOKEN_FILE } from './profile.js';
import { revocationUnsupported } from './protocol.js';
import type { SessionParts } from './session-wiring.js';
import { holdsString } from './token.js';

/**
 * Revokes the session's refresh token (and an opaque access token) where the
 * server supports it, then forgets the tokens; the client configuration
 * stays. When revocation fails the session is kept and this rejects, unless
 * `options.forgetLocally` is set.
 */
export function logoutSession(parts: SessionParts, options: LogoutOptions): Promise<LogoutResult> {
  const { engine, storage, server, profileName } = parts;
  return storage.turns.take(async (turn) => {
    const file = engine.file ?? (storage.kind === 'memory' ? undefined : (await engine.load())?.file);
    let revoked = false;
    let failure: PlanetAuthError | undefined;
    if (file && (file.access_token || holdsString(file, 'refresh_token'))) {
      try {
        revoked = await server.revoke(file);
        if (!revoked) failure = revocationUnsupported(server.identity.issuer, profileName);
      } catch (error) {
        failure = server.error(error, `revoking the session of profile "${profileName}"`);
      }
    }
    if (failure && options.forgetLocally !== true) throw keptSession(failure, profileName);
    engine.forget();
    await storage.remove(TOKEN_FILE, turn);
    emitTokens(parts.listeners, parts.log, 'logout', undefined);
    const warning = failure ? `${failure.message}; the session was forgotten here, but its refresh token stays valid at the server until it expires` : undefined;
    return { revoked, forgotten: true, ...(warning ? { warning } : {}) };
  });
}
