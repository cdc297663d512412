// Profiles: named sessions kept under `~/.planet/<profile>/` in the CLI's
// layout, and the rules for which profile is meant when none is named.
import { existsSync, readdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { ERR_STATE_CORRUPT, ProfileError, StateError } from './errors.js';
import type { FlowDescriptor, SdkSettings } from './settings.js';
import { readJsonObjectSync } from './store.js';
import type { ClientOptions } from './client-options.js';

export type { ClientOptions } from './client-options.js';

/** `auth_client.json`, as the CLI writes it. */
export interface ClientConfigFile {
  readonly client_type: string;
  readonly auth_server: string;
  readonly client_id: string;
  readonly client_secret?: string;
  readonly scopes?: readonly string[];
  readonly audiences?: readonly string[];
  readonly local_redirect_uri?: string;
  readonly redirect_uri?: string;
  readonly [extra: string]: unknown;
}

/** The home folder: `HOME` when set (so tests and tools can point it elsewhere), else the account's. */
export function homeDir(): string {
  const fromEnv = process.env['HOME'];
  return fromEnv !== undefined && fromEnv !== '' ? fromEnv : homedir();
}

export const CLIENT_FILE = 'auth_client.json';
export const TOKEN_FILE = 'token.json';
/** The authorization server's metadata, kept so a new process needs no discovery request. */
export const METADATA_FILE = 'auth_server_metadata.json';

/** Lowercased profile name; one that could leave the profile folder is refused. */
export function normalizeProfileName(name: string): string {
  const lowered = name.trim().toLowerCase();
  if (lowered === '' || lowered === '.' || lowered === '..' || /[\\/]/.test(lowered) || lowered.includes('\0')) {
    throw new ProfileError(`profile name ${JSON.stringify(name)} is not allowed: use a plain name without "/" or "\\", such as "my-app"`);
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
  for (const field of ['client_secret', 'local_redirect_uri', 'redirect_uri'] as const) {
    if (data[field] !== undefined && typeof data[field] !== 'string') {
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

export function optionsFromClientConfig(config: ClientConfigFile, profile: string): ClientOptions {
  return {
    clientId: config.client_id,
    clientSecret: config.client_secret,
    callbackUrl: config.local_redirect_uri ?? config.redirect_uri,
    requestedScopes: config.scopes,
    profileName: profile,
    saveStateToStorage: true,
    issuer: config.auth_server,
    audience: config.audiences?.[0],
  };
}

/** The flow and options of a profile saved on disk (by the CLI or an earlier run). */
export function readProfileOptions(settings: SdkSettings, profileName: string): { flowId: string; options: ClientOptions } {
  const profile = normalizeProfileName(profileName);
  const path = join(profileFolder(settings, profile), CLIENT_FILE);
  const data = readJsonFileSync(path);
  if (data === undefined) {
    throw new ProfileError(`profile "${profile}" does not exist (no ${path}): log in with that profile first, or name another one`);
  }
  const config = parseClientConfig(path, data);
  const flow = flowForClientType(settings, config.client_type, path);
  return { flowId: flow.id, options: optionsFromClientConfig(config, profile) };
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
  readonly hasSession: boolean;
}

/** Every profile under the session root, usable or not, sorted by name. */
export function listProfiles(settings: SdkSettings): ProfileSummary[] {
  const root = join(homeDir(), settings.disk.root);
  let names: string[];
  try {
    names = readdirSync(root, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name);
  } catch {
    return [];
  }
  return names.sort().map((name) => {
    const folder = join(root, name);
    const hasSession = existsSync(join(folder, TOKEN_FILE));
    try {
      const data = readJsonFileSync(join(folder, CLIENT_FILE));
      if (data === undefined) return { name, usable: false, reason: `no ${CLIENT_FILE}`, builtin: false, hasSession };
      const config = parseClientConfig(join(folder, CLIENT_FILE), data);
      flowForClientType(settings, config.client_type, join(folder, CLIENT_FILE));
      return { name, usable: true, builtin: false, clientType: config.client_type, hasSession };
    } catch (error) {
      return { name, usable: false, reason: (error as Error).message, builtin: false, hasSession };
    }
  });
}

/**
 * What to write as `auth_client.json` after a login, given what is there
 * (`existing`, undefined when there is no file) and the settings the login
 * used (`wanted`); undefined when the file should be left as it is.
 */
export function clientConfigToWrite(existing: ClientConfigFile | undefined, wanted: ClientConfigFile): ClientConfigFile | undefined {
  if (existing === undefined) return wanted;
  return { ...existing, ...wanted };
}

export type DefaultSessionSource = 'env-profile' | 'env-client' | 'defaults-file' | 'built-in';

/**
 * Which session is meant when none is named: the profile in the environment,
 * else a service account given by client ID and secret in the environment,
 * else the same keys in `~/.planet.json`, else the built-in default profile.
 */
export function defaultSession(settings: SdkSettings): { source: DefaultSessionSource; profile?: string; flowId?: string; options?: ClientOptions } {
  const env = (name: string) => {
    const v = process.env[name];
    return v === undefined || v === '' ? undefined : v;
  };
  const fromKeys = (get: (name: string) => unknown, source: DefaultSessionSource) => {
    const profile = get(settings.env.profile);
    if (typeof profile === 'string' && profile !== '') return { source, profile: normalizeProfileName(profile) };
    const clientId = get(settings.env.clientId);
    const clientSecret = get(settings.env.clientSecret);
    if (typeof clientId === 'string' && clientId !== '' && typeof clientSecret === 'string' && clientSecret !== '') {
      const flow = settings.flows.find((f) => f.grant === 'client_credentials');
      if (flow) return { source, flowId: flow.id, options: { clientId, clientSecret, saveStateToStorage: false } satisfies ClientOptions };
    }
    return undefined;
  };
  const fromEnv = fromKeys(env, 'env-profile');
  if (fromEnv) return fromEnv.options ? { ...fromEnv, source: 'env-client' } : fromEnv;
  const defaultsPath = join(homeDir(), settings.disk.defaultsFile);
  const defaults = readJsonFileSync(defaultsPath);
  if (defaults) {
    const fromFile = fromKeys((name) => defaults[name], 'defaults-file');
    if (fromFile) return fromFile;
  }
  return { source: 'built-in', profile: settings.disk.defaultProfile };
}

/** The flow and options of the default session (see {@link defaultSession}). */
export function defaultSessionOptions(settings: SdkSettings): { flowId: string; options: ClientOptions } {
  const session = defaultSession(settings);
  if (session.flowId !== undefined && session.options !== undefined) return { flowId: session.flowId, options: session.options };
  return readProfileOptions(settings, session.profile ?? settings.disk.defaultProfile);
}
