// Profiles: named sessions kept under `~/.planet/<profile>/` in the CLI's
// layout, and the rules for which profile is meant when none is named.
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { ERR_STATE_CORRUPT, PlanetAuthError, ProfileError, StateError } from './errors.js';
import { flowById, serverSettings, type BuiltinProfile, type FlowDescriptor, type SdkSettings } from './settings.js';
import { readJsonObjectSync } from './store.js';
import { valueInHand } from './token.js';
import { KEYCHAIN_REFERENCE, keychainGetSync, keychainReference, missingSecret } from './keychain.js';
import { withDeferredSecret, type ClientOptions } from './client-options.js';
import { CREDENTIAL_FIELDS, clientAuthMethod, credentialsFromProfile } from './client-auth/index.js';
import { GRANTS, TOKEN_BINDINGS, type TokenBindingName } from './registry.js';
import { GRANT_PROFILE_FIELDS, grantOptionsFromProfile } from './grants/index.js';

export type { ClientOptions } from './client-options.js';

/** `auth_client.json`, as the CLI writes it. */
export interface ClientConfigFile {
  readonly client_type: string;
  readonly auth_server: string;
  readonly client_id: string;
  readonly scopes?: readonly string[];
  readonly audiences?: readonly string[];
  /** The client authentication method's fields (client-auth/), the grant's (grants/), and fields this SDK does not know, kept as they are. */
  readonly [field: string]: unknown;
}

/** The home folder: `HOME` when set (so tests and tools can point it elsewhere), else the account's. */
export function homeDir(): string {
  const fromEnv = process.env['HOME'];
  // node:os only when HOME is unset: most runs never load it.
  return fromEnv !== undefined && fromEnv !== '' ? fromEnv : process.getBuiltinModule('node:os').homedir();
}

export const CLIENT_FILE = 'auth_client.json';
export const TOKEN_FILE = 'token.json';
/** The authorization server's metadata, kept so a new process needs no discovery request. */
export const METADATA_FILE = 'auth_server_metadata.json';

/** Room for the longest file name in a profile folder's parent under the usual 255-byte limit. */
const MAX_PROFILE_NAME_BYTES = 200;

/**
 * Lowercased profile name. It names a folder under the sessions folder, so it
 * is held to the registry's path segment, as the spec's names are: a name
 * that could leave that folder, or that some file system cannot hold, is refused.
 */
export function normalizeProfileName(name: string): string {
  const lowered = name.trim().toLowerCase();
  // A spec's defaults keep to the registry's narrow path segment; names people and Planet's Python CLI already
  // use (an "@", a space) stay usable: only what could leave the sessions folder, or not be a file name, is refused.
  if (lowered === '' || lowered === '.' || lowered === '..' || /[\\/\0]/.test(lowered) || Buffer.byteLength(lowered) > MAX_PROFILE_NAME_BYTES) {
    throw new ProfileError(`profile name ${JSON.stringify(name.slice(0, 120))} is not allowed: use one plain name without "/" or "\\" (not "." or "..", at most ${MAX_PROFILE_NAME_BYTES} bytes), such as "my-app"`);
  }
  // Control and direction-changing characters would be echoed to terminals (and into completions) as they are.
  // eslint-disable-next-line no-control-regex -- refuses profile names with control characters
  if (/[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/.test(lowered)) {
    throw new ProfileError(`profile name ${JSON.stringify(name)} is not allowed: it holds control characters; use a plain name, such as "my-app"`);
  }
  return lowered;
}

export function profileKey(settings: SdkSettings, profile: string, file: string): string {
  return `${settings.disk.root}/${profile}/${file}`;
}

export function profileFolder(settings: SdkSettings, profile: string): string {
  return join(homeDir(), settings.disk.root, profile);
}

function isStringArray(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((v) => typeof v === 'string');
}

export function parseClientConfig(location: string, data: Record<string, unknown>): ClientConfigFile {
  for (const field of ['client_type', 'auth_server', 'client_id'] as const) {
    if (typeof data[field] !== 'string' || data[field] === '') {
      throw new StateError(ERR_STATE_CORRUPT, location, `field "${field}" in ${location} must be a non-empty string; the file was left as it is. Fix it, or log in again to rewrite it`);
    }
  }
  for (const field of [...CREDENTIAL_FIELDS, ...GRANT_PROFILE_FIELDS]) {
    const value = valueInHand(data, field);
    if (value !== undefined && typeof value !== 'string') {
      throw new StateError(ERR_STATE_CORRUPT, location, `field "${field}" in ${location} must be a string; the file was left as it is`);
    }
  }
  for (const field of ['scopes', 'audiences'] as const) {
    if (data[field] !== undefined && !isStringArray(data[field])) {
      throw new StateError(ERR_STATE_CORRUPT, location, `field "${field}" in ${location} must be a list of strings; the file was left as it is`);
    }
  }
  return data as unknown as ClientConfigFile;
}

/**
 * Reads a JSON object from disk, synchronously; undefined when the file does
 * not exist. A file that is not a regular file (a symbolic link, FIFO, device
 * or socket) is refused without reading it; one that does not parse is read
 * again a few times before it counts as corrupt.
 */
export function readJsonFileSync(path: string): Record<string, unknown> | undefined {
  return readJsonObjectSync(path);
}

export function flowForClientType(settings: SdkSettings, clientType: string, location: string): FlowDescriptor {
  const flow = settings.flows.find((f) => f.clientType === clientType);
  if (!flow) {
    const known = settings.flows.map((f) => f.clientType).join(', ');
    throw new StateError(ERR_STATE_CORRUPT, location, `${location} has client_type ${JSON.stringify(clientType)}, which this SDK does not support (it knows ${known})`);
  }
  return flow;
}

/** Client types the Python CLI writes that this SDK has no flow for, and what a profile of each is. */
const FOREIGN_CLIENT_TYPES: Readonly<Record<string, string>> = {
  planet_legacy: 'a Planet legacy profile (username and password for an API key)',
  static_apikey: 'an API key profile',
  none: 'a profile without authentication',
  oidc_client_credentials_pubkey: 'a service account that signs with a private key',
  oidc_auth_code_pubkey: 'a user client that signs with a private key',
  oidc_device_code_pubkey: 'a user client that signs with a private key',
  oidc_auth_code_secret: 'a user client with a client secret',
  oidc_device_code_secret: 'a user client with a client secret',
  oidc_client_validator: 'a token validator, which cannot log in',
};

/** Files the Python CLI writes when asked to encrypt a profile with SOPS. */
const SOPS_FILES = ['auth_client.sops.json', 'token.sops.json'] as const;

function unsupportedProfile(settings: SdkSettings, profile: string, clientType: string): ProfileError {
  const what = FOREIGN_CLIENT_TYPES[clientType] ?? `a profile of client type ${JSON.stringify(clientType)}`;
  const known = settings.flows.map((f) => f.clientType).join(', ');
  return new ProfileError(
    `profile "${profile}" is ${what} (client_type ${JSON.stringify(clientType)}), which this SDK does not support; it works only with ${known}. ` +
      `Keep using it with Planet's Python CLI, and log in here under another profile name`,
  );
}

export function optionsFromClientConfig(config: ClientConfigFile, profile: string): ClientOptions {
  return {
    clientId: config.client_id,
    ...credentialsFromProfile(config),
    ...grantOptionsFromProfile(config),
    requestedScopes: config.scopes,
    profileName: profile,
    saveStateToStorage: true,
    issuer: config.auth_server,
    // A profile saved without an audience requests none (unless the environment names one), as the Python CLI does.
    audience: config.audiences?.[0] ?? null,
  };
}

function envSetting(name: string): string | undefined {
  const value = process.env[name];
  return value === undefined || value.trim() === '' ? undefined : value;
}

export function builtinProfile(settings: SdkSettings, name: string): BuiltinProfile | undefined {
  return settings.builtinProfiles?.find((b) => b.name === name);
}

/** The built-in profile an ad hoc service account's settings come from: a service account profile without a client of its own. */
function serviceAccountBuiltin(settings: SdkSettings): BuiltinProfile | undefined {
  return settings.builtinProfiles?.find((b) => b.clientId === undefined && GRANTS[flowById(settings, b.flowId).grant].unattended);
}

/**
 * Options of a session with a built-in profile's client settings. The
 * environment's issuer and audience still win, as they do for every flow;
 * the client settings are never written to `auth_client.json`.
 */
export function optionsFromBuiltin(settings: SdkSettings, builtin: BuiltinProfile, profile: string, client?: { clientId: string; clientSecret: string }): ClientOptions {
  const clientId = client?.clientId ?? builtin.clientId;
  if (clientId === undefined) throw new ProfileError(`built-in profile "${builtin.name}" has no client ID of its own`);
  return {
    clientId,
    ...(client ? { clientSecret: client.clientSecret } : {}),
    requestedScopes: builtin.scopes,
    profileName: profile,
    saveStateToStorage: true,
    // The environment still wins over the built-in profile's settings, as it does for every session (settings.ts, destinations()).
    issuer: serverSettings(settings).issuer ?? builtin.issuer,
    audience: serverSettings(settings).audience ?? builtin.audiences[0],
    persistClientConfig: false,
  };
}

/** The profile an ad hoc service account keeps its session in, as the Python CLI names it. */
export function adHocProfileName(builtin: BuiltinProfile, clientId: string): string {
  return normalizeProfileName(`${builtin.name}-${clientId}`);
}

/** A service account's client ID and secret, each from the environment, else from `~/.planet.json` (as the Python CLI reads them). */
function serviceAccountCredentials(settings: SdkSettings): { clientId: string; clientSecret: string } | undefined {
  const defaults = readJsonFileSync(join(homeDir(), settings.disk.defaultsFile));
  const read = (name: string) => {
    const value = envSetting(name) ?? defaults?.[name];
    return typeof value === 'string' && value !== '' ? value : undefined;
  };
  const clientId = read(settings.env.clientId);
  const clientSecret = read(settings.env.clientSecret);
  return clientId !== undefined && clientSecret !== undefined ? { clientId, clientSecret } : undefined;
}

interface ResolvedProfile {
  readonly flowId: string;
  readonly options: ClientOptions;
  readonly builtin: boolean;
  readonly clientType: string;
}

/**
 * What a profile is and how to use it: its `auth_client.json`, else a
 * built-in profile of that name, else an ad hoc service account's session.
 * Throws a ProfileError saying what the profile is and what to do when it
 * cannot be used, and a StateError when a file cannot be read.
 */
function resolveProfile(settings: SdkSettings, profile: string): ResolvedProfile {
  const folder = profileFolder(settings, profile);
  const path = join(folder, CLIENT_FILE);
  const data = readJsonFileSync(path);
  if (data !== undefined) {
    const clientType = data['client_type'];
    if (typeof clientType === 'string' && clientType !== '' && !settings.flows.some((f) => f.clientType === clientType)) {
      throw unsupportedProfile(settings, profile, clientType);
    }
    const config = parseClientConfig(path, data);
    const flow = flowForClientType(settings, config.client_type, path);
    return { flowId: flow.id, options: optionsFromClientConfig(config, profile), builtin: false, clientType: flow.clientType };
  }
  const sops = SOPS_FILES.find((name) => existsSync(join(folder, name)));
  if (sops !== undefined) {
    throw new ProfileError(`profile "${profile}" is encrypted with SOPS (${join(folder, sops)}), which this SDK cannot read; use it with Planet's Python CLI, or log in here under another profile name`);
  }
  const builtin = builtinProfile(settings, profile);
  const m2m = serviceAccountBuiltin(settings);
  const env = settings.env;
  if (builtin !== undefined) {
    const flow = flowById(settings, builtin.flowId);
    if (builtin.clientId === undefined) {
      throw new ProfileError(
        `built-in profile "${profile}" has no client of its own: set ${env.clientId} and ${env.clientSecret} to use a service account ` +
          `(its session is kept as "${profile}-<client id>"), or log in with a client ID under another profile name`,
      );
    }
    return { flowId: flow.id, options: optionsFromBuiltin(settings, builtin, profile), builtin: true, clientType: flow.clientType };
  }
  if (m2m !== undefined && profile.startsWith(`${m2m.name}-`)) {
    const flow = flowById(settings, m2m.flowId);
    const credentials = serviceAccountCredentials(settings);
    if (credentials !== undefined && adHocProfileName(m2m, credentials.clientId) === profile) {
      return { flowId: flow.id, options: optionsFromBuiltin(settings, m2m, profile, credentials), builtin: false, clientType: flow.clientType };
    }
    throw new ProfileError(
      `profile "${profile}" is the saved session of an ad hoc service account, whose client ID and secret are not kept on disk: ` +
        `set ${env.clientId} to the client ID "${profile.slice(m2m.name.length + 1)}" and ${env.clientSecret} to its secret (in the environment or ~/${settings.disk.defaultsFile})`,
    );
  }
  if (existsSync(join(folder, TOKEN_FILE))) {
    const names = (settings.builtinProfiles ?? []).map((b) => `"${b.name}"`).join(', ');
    throw new ProfileError(
      `profile "${profile}" has a ${TOKEN_FILE} but no ${CLIENT_FILE}, and is not a built-in profile (${names || 'there are none'}), so its client settings are unknown: ` +
        `log in with that profile name to save them, or use another profile`,
    );
  }
  throw new ProfileError(`profile "${profile}" does not exist (no ${path}): log in with that profile first, or name another one`);
}

/** The flow and options of a profile saved on disk (by either CLI or an earlier run), or of a built-in profile. */
export function readProfileOptions(settings: SdkSettings, profileName: string): { flowId: string; options: ClientOptions } {
  const profile = normalizeProfileName(profileName);
  const { flowId, options } = resolveProfile(settings, profile);
  return { flowId, options: withKeychainClientSecret(settings, profile, options) };
}

/** `options` with the client secret a profile in keychain mode keeps there, read from the keychain only when a token request needs it. */
function withKeychainClientSecret(settings: SdkSettings, profile: string, options: ClientOptions): ClientOptions {
  if (options.clientSecret !== undefined) return options;
  const path = join(profileFolder(settings, profile), CLIENT_FILE);
  const data = readJsonFileSync(path);
  const ref = data === undefined ? undefined : keychainReference(path, data);
  if (ref === undefined || !ref.accounts.includes('client_secret')) return options;
  return withDeferredSecret(options, () => {
    const secret = keychainGetSync(ref.service, 'client_secret');
    if (secret === undefined) throw missingSecret(path, ref, 'client_secret');
    return secret;
  });
}

/** Where a profile keeps its secrets: in the OS keychain, in its files, or nowhere (it holds none); read from its files only. */
export type SecretsLocation = 'keychain' | 'file' | 'none';

export function secretsLocation(settings: SdkSettings, profile: string): SecretsLocation {
  let location: SecretsLocation = 'none';
  for (const file of [CLIENT_FILE, TOKEN_FILE]) {
    let data: Record<string, unknown> | undefined;
    try {
      data = readJsonFileSync(join(profileFolder(settings, profile), file));
    } catch {
      continue;
    }
    if (data === undefined) continue;
    if (data[KEYCHAIN_REFERENCE] !== undefined) return 'keychain';
    if (typeof data['refresh_token'] === 'string' || typeof data['client_secret'] === 'string') location = 'file';
  }
  return location;
}

/** A profile as `profile list` shows it. */
export interface ProfileSummary {
  readonly name: string;
  /** Whether the SDK can use it; when not, `reason` says why. */
  readonly usable: boolean;
  readonly reason?: string;
  /** Declared by the SDK (no `auth_client.json` needed). */
  readonly builtin: boolean;
  readonly clientType?: string;
  /** The client the profile logs in with, when it is usable. */
  readonly clientId?: string;
  readonly hasSession: boolean;
  /** Where its refresh token or client secret is kept; `keychain` ones Planet's Python CLI cannot read. */
  readonly secrets: SecretsLocation;
  /** How its tokens are bound, when a bearer client cannot use them (its flow's `tokenBinding`, such as `dpop`): Planet's Python CLI cannot use it. */
  readonly tokenBinding?: TokenBindingName;
}

/**
 * Every profile folder under the session root, sorted by name, usable or
 * not (then `reason` says why); a folder named like a built-in profile is
 * that profile. Built-in profiles without a folder hold no session and are
 * in `settings.builtinProfiles`.
 */
export function listProfiles(settings: SdkSettings): ProfileSummary[] {
  const root = join(homeDir(), settings.disk.root);
  let names: string[];
  try {
    names = readdirSync(root, { withFileTypes: true })
      .filter((e) => e.isDirectory())
      .map((e) => e.name);
  } catch {
    return [];
  }
  // A folder holding nothing but the lock (left by a login that failed) is no profile.
  const onlyLock = (name: string) => {
    try {
      const entries = readdirSync(join(root, name));
      return entries.length === 0 || (entries.length === 1 && entries[0] === 'session.lock');
    } catch {
      return false;
    }
  };
  return names
    .filter((name) => !onlyLock(name))
    .sort()
    .map((name) => {
      const hasSession = existsSync(join(root, name, TOKEN_FILE));
      const builtin = builtinProfile(settings, name) !== undefined;
      const secrets = secretsLocation(settings, name);
      try {
        const resolved = resolveProfile(settings, name);
        const binding = flowById(settings, resolved.flowId).tokenBinding;
        const bound = binding !== undefined && TOKEN_BINDINGS[binding].listing !== undefined;
        return { name, usable: true, builtin: resolved.builtin, clientType: resolved.clientType, clientId: resolved.options.clientId, hasSession, secrets, ...(bound ? { tokenBinding: binding } : {}) };
      } catch (error) {
        if (!(error instanceof PlanetAuthError)) throw error;
        const clientType = savedClientType(join(root, name, CLIENT_FILE)) ?? builtinClientType(settings, name);
        return { name, usable: false, reason: error.message, builtin, ...(clientType !== undefined ? { clientType } : {}), hasSession, secrets };
      }
    });
}

/** The `client_type` an `auth_client.json` names, when it can be read at all. */
function savedClientType(path: string): string | undefined {
  try {
    const clientType = readJsonFileSync(path)?.['client_type'];
    return typeof clientType === 'string' ? clientType : undefined;
  } catch {
    return undefined;
  }
}

/** The client type of a built-in profile, or of an ad hoc service account's profile. */
function builtinClientType(settings: SdkSettings, profile: string): string | undefined {
  const m2m = serviceAccountBuiltin(settings);
  const builtin = builtinProfile(settings, profile) ?? (m2m !== undefined && profile.startsWith(`${m2m.name}-`) ? m2m : undefined);
  return builtin !== undefined ? flowById(settings, builtin.flowId).clientType : undefined;
}

/** The `auth_client.json` fields that make a session's settings; a change in any of them is worth a write. */
const SETTINGS_FIELDS = ['client_type', 'auth_server', 'client_id', ...CREDENTIAL_FIELDS, 'scopes', 'audiences', ...GRANT_PROFILE_FIELDS];

/** Settings the SDK fills in from its own defaults or the environment when a profile leaves them out. */
export interface ChosenSettings {
  /** The audience came from the caller (a code option), not from a default or the environment. */
  readonly audiences?: boolean;
  /** The scopes came from the caller, not from the SDK's default scopes. */
  readonly scopes?: boolean;
}

/**
 * What to write as `auth_client.json` after a login, given what is there
 * (`existing`, undefined when there is no file) and the settings the login
 * used (`wanted`); undefined when the file should be left as it is.
 *
 * A file is rewritten only when one of its settings changed, and keeps the
 * fields this SDK does not know (`organization`, `project_id`,
 * `_comment`...). A file without `audiences` or `scopes` stays without
 * unless `chosen` says the caller asked for them: a default written there
 * would pin it (the environment would no longer apply, and the Python CLI
 * would check tokens against it). A field left out of `wanted` keeps the
 * file's value, except those in `stale`: the credential fields the login
 * did not write (a secret left behind when a service account moved to a
 * private key, a key file's path after a move to `env:NAME`), which are removed.
 */
export function clientConfigToWrite(existing: ClientConfigFile | undefined, wanted: ClientConfigFile, chosen: ChosenSettings = {}, stale: readonly string[] = []): ClientConfigFile | undefined {
  if (existing === undefined) return wanted;
  // Own fields only, without reading them: a secret kept in the keychain is read when used, not here.
  const dropped = stale.filter((field) => Object.hasOwn(existing, field) && !Object.hasOwn(wanted, field));
  const keptAbsent = (field: 'scopes' | 'audiences') => existing[field] === undefined && chosen[field] !== true;
  const fields = SETTINGS_FIELDS.filter((field) => wanted[field] !== undefined && !((field === 'scopes' || field === 'audiences') && keptAbsent(field)));
  if (dropped.length === 0 && fields.every((field) => sameValue(existing[field], wanted[field]))) return undefined;
  const merged: Record<string, unknown> = { ...existing };
  for (const field of fields) merged[field] = wanted[field];
  for (const field of dropped) delete merged[field];
  return merged as ClientConfigFile;
}

function sameValue(a: unknown, b: unknown): boolean {
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((v, i) => v === b[i]);
  return a === b;
}

export type DefaultSessionSource = 'env-profile' | 'env-client' | 'defaults-file' | 'built-in';

/**
 * Which session is meant when none is named, as Planet's Python CLI decides
 * it: each setting is taken from the environment, else from
 * `~/.planet.json`, on its own. A profile named either way wins; else a
 * service account whose client ID and secret are both found (each from
 * either place), kept as an ad hoc profile; else the built-in default
 * profile. So a profile in `~/.planet.json` beats a client ID and secret in
 * the environment, as it does for the Python CLI.
 */
export function defaultSession(settings: SdkSettings): { source: DefaultSessionSource; profile?: string; flowId?: string; options?: ClientOptions } {
  const defaultsPath = join(homeDir(), settings.disk.defaultsFile);
  const defaults = readJsonFileSync(defaultsPath);
  const fromFile = (name: string): string | undefined => {
    const value = defaults?.[name];
    return typeof value === 'string' && value !== '' ? value : undefined;
  };
  const setting = (name: string): { value: string; fromEnv: boolean } | undefined => {
    const env = envSetting(name);
    if (env !== undefined) return { value: env, fromEnv: true };
    const file = fromFile(name);
    return file !== undefined ? { value: file, fromEnv: false } : undefined;
  };
  const profile = setting(settings.env.profile);
  if (profile !== undefined) return { source: profile.fromEnv ? 'env-profile' : 'defaults-file', profile: normalizeProfileName(profile.value) };
  const clientId = setting(settings.env.clientId);
  const clientSecret = setting(settings.env.clientSecret);
  if (clientId !== undefined && clientSecret !== undefined) {
    const source: DefaultSessionSource = clientId.fromEnv && clientSecret.fromEnv ? 'env-client' : 'defaults-file';
    const credentials = { clientId: clientId.value, clientSecret: clientSecret.value };
    // Saved where the Python CLI saves it, so either CLI reuses the other's token.
    const m2m = serviceAccountBuiltin(settings);
    if (m2m) {
      const adHoc = adHocProfileName(m2m, credentials.clientId);
      return { source, profile: adHoc, flowId: m2m.flowId, options: optionsFromBuiltin(settings, m2m, adHoc, credentials) };
    }
    const flow = settings.flows.find((f) => GRANTS[f.grant].unattended && clientAuthMethod(f.tokenEndpointAuthMethod).holds === 'secret');
    if (flow) return { source, flowId: flow.id, options: { ...credentials, saveStateToStorage: false } satisfies ClientOptions };
  }
  return { source: 'built-in', profile: settings.disk.defaultProfile };
}

/** The flow and options of the default session (see {@link defaultSession}). */
export function defaultSessionOptions(settings: SdkSettings): { flowId: string; options: ClientOptions } {
  const session = defaultSession(settings);
  if (session.flowId !== undefined && session.options !== undefined) return { flowId: session.flowId, options: session.options };
  return readProfileOptions(settings, session.profile ?? settings.disk.defaultProfile);
}

/**
 * Whether a saved access token was issued by another authorization server
 * or to another client than the session's (say after the issuer in the
 * environment changed, for a profile that keeps only `token.json`): such a
 * token is never printed or used. Only a JWT says who issued it; the issuer
 * is compared by origin, so spellings of one server agree. Logs why.
 */
export function tokenFromAnotherServer(accessToken: unknown, identity: { readonly issuer: string; readonly clientId: string; readonly log?: { warn(message: string, fields?: Record<string, unknown>): void } }): boolean {
  if (typeof accessToken !== 'string') return false;
  const parts = accessToken.split('.');
  if (parts.length !== 3) return false;
  let claims: Record<string, unknown>;
  try {
    claims = JSON.parse(Buffer.from(parts[1]!, 'base64url').toString('utf8')) as Record<string, unknown>;
  } catch {
    return false;
  }
  if (claims === null || typeof claims !== 'object') return false;
  const originOf = (url: unknown) => {
    try {
      return typeof url === 'string' ? new URL(url).origin : undefined;
    } catch {
      return undefined;
    }
  };
  const tokenIssuer = originOf(claims['iss']);
  const otherServer = tokenIssuer !== undefined && tokenIssuer !== originOf(identity.issuer);
  const otherClient = typeof claims['client_id'] === 'string' && claims['client_id'] !== identity.clientId;
  if (otherServer || otherClient) identity.log?.warn('saved token ignored: it was issued ' + (otherServer ? 'by another authorization server' : 'to another client'), {});
  return otherServer || otherClient;
}

/**
 * Refuses, before any request, a login that would save into a profile it
 * cannot use or would break for Planet's Python CLI: a profile of a kind
 * this SDK does not support (legacy, API key, ...), or a built-in profile
 * with another client than its own (the Python CLI keeps the built-in
 * client there, and would then spend this client's tokens with it).
 */
export function refuseLoginInto(settings: SdkSettings, profile: string, clientId: string): void {
  const data = readJsonFileSync(join(profileFolder(settings, profile), CLIENT_FILE));
  const clientType = data?.['client_type'];
  if (typeof clientType === 'string' && clientType !== '' && !settings.flows.some((f) => f.clientType === clientType)) {
    const refused = unsupportedProfile(settings, profile, clientType);
    throw new ProfileError(`${refused.message}; nothing was sent to any server`, { hint: 'log in under another profile name (--profile)' });
  }
  const builtin = builtinProfile(settings, profile);
  if (builtin?.clientId !== undefined && builtin.clientId !== clientId) {
    throw new ProfileError(
      `profile "${profile}" is built in, with its own client (${builtin.clientId}); Planet's Python CLI keeps that client there, so a login with client ${clientId} would leave it a session it cannot use. Nothing was sent to any server`,
      { hint: 'log in with this client under another profile name (--profile), or leave out --client-id to use the built-in client' },
    );
  }
}
