// The commands on one profile's session: status, print-access-token,
// refresh and logout.
import { join } from 'node:path';
import type { AuthCore, SessionStatus } from './auth-core.js';
import type { CommandSpec } from './cli-args.js';
import { CliError, EXIT_FAILURE, EXIT_NOT_LOGGED_IN, EXIT_OK, EXIT_USAGE, type CliContext, type CliSpec, type Runner } from './cli-context.js';
import { printable } from './cli-output.js';
import { ERR_NETWORK, ERR_SERVER, ERR_TOKEN_REQUEST, LoginRequiredError, PlanetAuthError, specificHint } from './errors.js';
import { CLIENT_FILE, homeDir, profileFolder, profileKey, readJsonFileSync, secretsLocation } from './profile.js';
import { isRevocationUnsupported } from './protocol.js';
import { SessionFileStore } from './secret-store.js';
import { GRANTS } from './registry.js';
import { clientAuthMethod } from './client-auth/index.js';

export function statusJson(status: SessionStatus): Record<string, unknown> {
  return {
    profile: status.profile,
    flow: status.flow,
    client_type: status.clientType,
    client_id: status.clientId,
    issuer: status.issuer,
    scopes: status.scopes,
    logged_in: status.loggedIn,
    access_token_valid: status.accessTokenValid,
    expires_at: expiry(status),
    has_refresh_token: status.hasRefreshToken,
  };
}

function expiry(status: SessionStatus): string | null {
  return status.expiresAt !== undefined ? new Date(status.expiresAt * 1000).toISOString() : null;
}

/** A session that logs in again by itself (a service account): its grant needs no person. */
function isServiceAccount(auth: AuthCore): boolean {
  return GRANTS[auth.flow.grant].unattended;
}

/** A service account whose profile keeps a client secret (not a reference to a private key). */
function holdsSecret(auth: AuthCore): boolean {
  return isServiceAccount(auth) && clientAuthMethod(auth.flow.tokenEndpointAuthMethod).holds === 'secret';
}

/**
 * Whether anything usable remains: a valid access token, a refresh token
 * the server still takes (checked with one refresh when the access token
 * has expired), or a service account's saved secret, with which the next
 * command logs in again by itself. Saved tokens alone are not enough.
 */
async function usableSession(auth: AuthCore, before: SessionStatus): Promise<{ status: SessionStatus; usable: boolean; why?: string }> {
  if (!before.loggedIn) return { status: before, usable: false };
  if (before.accessTokenValid) return { status: before, usable: true };
  if (before.hasRefreshToken) {
    try {
      await auth.refresh();
      return { status: await auth.sessionStatus(), usable: true };
    } catch (error) {
      if (error instanceof LoginRequiredError) return { status: before, usable: false, why: error.reason };
      // The server could not say: the refresh token may still be good.
      return { status: before, usable: true, why: `the refresh token could not be checked (${error instanceof PlanetAuthError ? withoutSdkHint(error) : String(error)})` };
    }
  }
  if (isServiceAccount(auth) && before.storage !== 'memory') {
    return { status: before, usable: true, why: `the access token has expired; the next command logs in again with the saved ${holdsSecret(auth) ? 'secret' : 'key reference'}` };
  }
  return { status: before, usable: false, why: 'the access token has expired and there is no refresh token' };
}

async function status(cli: CliContext, call: Parameters<Runner>[1]): Promise<number> {
  const auth = cli.auth(call.options);
  const { status: s, usable, why } = await usableSession(auth, await auth.sessionStatus());
  cli.out.data({ ...statusJson(s), logged_in: usable, ...(why ? { note: printable(why) } : {}) });
  cli.out.result(
    [
      `profile:        ${s.profile}`,
      `flow:           ${s.flow} (${printable(s.clientType)})`,
      `client id:      ${printable(s.clientId)}`,
      `issuer:         ${printable(s.issuer)}`,
      `scopes:         ${printable(s.scopes.join(' '))}`,
      `logged in:      ${usable ? 'yes' : 'no'}${why ? ` (${printable(why)})` : ''}`,
      `access token:   ${s.loggedIn ? `${s.accessTokenValid ? 'valid' : 'expired'} until ${expiry(s) ?? 'unknown'}` : 'none'}`,
      `refresh token:  ${s.hasRefreshToken ? (usable ? 'held' : 'refused or unusable') : 'none'}`,
    ].join('\n'),
  );
  if (!usable && s.loggedIn) cli.out.info(`${cli.spec.name}: hint: ${cli.loginHint(auth)}`);
  return usable ? EXIT_OK : EXIT_NOT_LOGGED_IN;
}

async function printAccessToken(cli: CliContext, call: Parameters<Runner>[1]): Promise<number> {
  const auth = cli.auth(call.options);
  let token: string | undefined;
  if (call.options['no-refresh'] === true) {
    token = await auth.savedAccessToken();
    if (token === undefined) throw new LoginRequiredError(`profile "${auth.profileName}" has no saved access token`, cli.loginHint(auth));
  } else {
    if (call.options['refresh'] === true) await auth.refresh();
    token = await auth.getAccessToken();
  }
  cli.out.data({ profile: auth.profileName, access_token: token });
  cli.out.result(token);
  return EXIT_OK;
}

async function refresh(cli: CliContext, call: Parameters<Runner>[1]): Promise<number> {
  const auth = cli.auth(call.options);
  await auth.refresh();
  const s = await auth.sessionStatus();
  cli.out.data(statusJson(s));
  cli.out.result(`Refreshed: profile ${s.profile}, access token valid until ${expiry(s) ?? 'unknown'}.`);
  return EXIT_OK;
}

/** The server could not be reached to revoke, or refused the revocation: the SDK kept the session. */
function revocationFailed(error: unknown): error is PlanetAuthError {
  return error instanceof PlanetAuthError && (error.code === ERR_NETWORK || error.code === ERR_SERVER || error.code === ERR_TOKEN_REQUEST);
}

/**
 * Ends the session: revokes it at the server, then forgets the tokens. When
 * the server cannot be reached the session is kept (the tokens would stay
 * valid there) and this rejects, unless `forgetLocally`.
 */
export async function endSession(auth: AuthCore, forgetLocally: boolean): Promise<{ revoked: boolean; warning?: string }> {
  return auth.logout({ forgetLocally });
}

/** An SDK error's message without the SDK's own advice, which names SDK calls; the CLI gives a command instead. */
export function withoutSdkHint(error: PlanetAuthError): string {
  const hint = specificHint(error);
  return hint !== undefined && error.message.endsWith(`; ${hint}`) ? error.message.slice(0, -(hint.length + 2)) : error.message;
}

async function logout(cli: CliContext, call: Parameters<Runner>[1]): Promise<number> {
  const { out, spec } = cli;
  const forgetLocally = call.options['forget-locally'] === true;
  const forgetSecret = call.options['forget-secret'] === true;
  const auth = cli.auth(call.options);
  if (forgetSecret && !holdsSecret(auth)) {
    throw new CliError(
      'ERR_USAGE',
      `--forget-secret is for service accounts with a client secret; profile "${auth.profileName}" is a ${auth.flow.clientType} profile with no secret`,
      `run ${cli.command(`logout --profile ${auth.profileName}`)}`,
      EXIT_USAGE,
    );
  }
  const before = await auth.sessionStatus();
  let revoked = false;
  let notRevoked = false;
  try {
    const result = await endSession(auth, forgetLocally);
    revoked = result.revoked;
    notRevoked = result.warning !== undefined;
    if (result.warning !== undefined) out.info(`${spec.name}: warning: ${printable(result.warning)}.`);
  } catch (error) {
    if (!revocationFailed(error) || forgetLocally) throw error;
    const cause = error.cause instanceof PlanetAuthError ? error.cause : error;
    const forget = `${cli.command(`logout --forget-locally --profile ${auth.profileName}`)} to forget it here only (its tokens stay valid at the server until they expire)`;
    throw new CliError(
      error.code,
      `the session of profile "${auth.profileName}" could not be revoked (${withoutSdkHint(cause)}); it was kept`,
      isRevocationUnsupported(error) ? `run ${forget}` : `run ${cli.command(`logout --profile ${auth.profileName}`)} again once the server can be reached, or ${forget}`,
      EXIT_FAILURE,
    );
  }

  let secret: 'kept' | 'forgotten' | 'environment' | undefined;
  if (holdsSecret(auth)) {
    const fromEnv = before.storage === 'memory';
    if (fromEnv) secret = 'environment';
    else if (forgetSecret) {
      await forgetClientSecret(cli, auth.profileName);
      secret = 'forgotten';
    } else secret = 'kept';
  }
  const next = secret === 'kept' ? `${spec.name} print-access-token --profile ${auth.profileName}` : undefined;
  out.data({ profile: auth.profileName, logged_out: before.loggedIn, revoked, ...(secret ? { client_secret: secret } : {}), ...(next ? { next_login: next } : {}) });
  out.result(before.loggedIn ? `Logged out: profile ${auth.profileName}${notRevoked ? ' (forgotten here only, not revoked)' : ''}.` : `Profile ${auth.profileName} had no session.`);
  if (secret === 'kept') {
    const file = secretsLocation(cli.settings, auth.profileName) === 'keychain' ? 'the OS keychain' : `~/${cli.settings.disk.root}/${auth.profileName}/${CLIENT_FILE}`;
    out.result(
      `The client secret stays in ${file}: the next command that needs a token (such as "${next}") logs in again with it.\n` +
        `To forget the secret too: ${cli.command(`logout --forget-secret --profile ${auth.profileName}`)}.`,
    );
  } else if (secret === 'forgotten') {
    out.result(`The client secret was removed; log in again with ${cli.command(`login ${cli.loginFor(auth.flow)?.command ?? ''} --profile ${auth.profileName}`)}.`);
  } else if (secret === 'environment') {
    out.result(`The client secret comes from $${cli.settings.env.clientSecret}: unset it, or the next command logs in again with it.`);
  }
  return EXIT_OK;
}

/** Removes the secret from the profile's `auth_client.json`, keeping every other field. */
async function forgetClientSecret(cli: CliContext, profile: string): Promise<void> {
  const data = readJsonFileSync(join(profileFolder(cli.settings, profile), CLIENT_FILE));
  if (data === undefined || !('client_secret' in data || secretsLocation(cli.settings, profile) === 'keychain')) return;
  // The keychain-aware store removes a secret kept in the keychain as it rewrites the file.
  const store = new SessionFileStore(homeDir(), cli.settings, undefined);
  const key = profileKey(cli.settings, profile, CLIENT_FILE);
  const { client_secret: _dropped, ...rest } = await store.loadObj(key);
  await store.saveObj(key, rest);
}

export function sessionCommands(spec: CliSpec): CommandSpec<Runner>[] {
  const n = spec.name;
  return [
    {
      path: ['status'],
      summary: "Show a profile's session (never its tokens); exits 3 when not logged in",
      args: [],
      options: [],
      examples: [`${n} status --profile work`, `${n} status --json`],
      run: status,
    },
    {
      path: ['print-access-token'],
      summary: 'Print a valid access token, refreshing it first when it is due',
      args: [],
      options: [
        { name: 'refresh', help: 'Refresh now, even if the token is still fresh', conflicts: ['no-refresh'] },
        { name: 'no-refresh', help: 'Print the saved token as it is, without any request', conflicts: ['refresh'] },
      ],
      examples: [`curl -H "Authorization: Bearer $(${n} print-access-token)" https://api.example.com/`],
      run: printAccessToken,
    },
    {
      path: ['refresh'],
      summary: 'Refresh the session now (a service account logs in again)',
      args: [],
      options: [],
      examples: [`${n} refresh --profile work`],
      run: refresh,
    },
    {
      path: ['logout'],
      summary: 'Revoke the session at the server and forget its tokens; the profile stays',
      description: [
        'When the server cannot be reached the session is kept and the exit code is 1, since',
        'its tokens would stay valid; --forget-locally forgets it anyway.',
        "A service account's secret stays in the profile, so the next command logs in again",
        'with it; --forget-secret removes it too.',
      ],
      args: [],
      options: [
        { name: 'forget-locally', help: 'Forget the session here even if the server cannot be reached to revoke it' },
        { name: 'forget-secret', help: 'Service accounts: also remove the client secret from the profile' },
      ],
      examples: [`${n} logout --profile work`, `${n} logout --forget-secret --profile my-service`],
      run: logout,
    },
  ];
}
