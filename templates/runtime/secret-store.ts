// Sessions on disk whose secrets may live in the OS keychain: the same files,
// atomic writes and lock as the disk mode, with the refresh token and the
// client secret moved out of `token.json` and `auth_client.json` into the
// keychain and a reference left in their place. Every disk session goes
// through this store, so a profile in keychain mode is read the same way
// whoever opens it, and stays in that mode until moved on purpose.
import { ConfigError } from './errors.js';
import {
  KEYCHAIN_REFERENCE,
  SECRET_FIELDS,
  keychainDelete,
  keychainGetSync,
  keychainReference,
  keychainService,
  keychainSet,
  missingSecret,
  parseSecretStorage,
  type KeychainReference,
  type SecretStorage,
} from './keychain.js';
import { CLIENT_FILE, TOKEN_FILE, homeDir } from './profile.js';
import type { SdkSettings } from './settings.js';
import { FileStore, readJsonObjectSync } from './store.js';
import { join } from 'node:path';

/** The files whose secrets may move to the keychain. */
const SECRET_FILES: readonly string[] = [CLIENT_FILE, TOKEN_FILE];

/**
 * Where new profiles keep their secrets when the code does not say: the
 * secret storage environment variable (`PLANET_AUTH_SECRET_STORAGE`), else
 * the same key in `~/.planet.json`, else in files.
 */
export function defaultSecretStorage(settings: SdkSettings): SecretStorage {
  const variable = settings.env.secretStorage;
  const fromEnv = process.env[variable];
  if (fromEnv !== undefined && fromEnv.trim() !== '') return parseSecretStorage(fromEnv.trim(), `$${variable}`);
  const defaultsPath = join(homeDir(), settings.disk.defaultsFile);
  const fromFile = readJsonObjectSync(defaultsPath)?.[variable];
  if (fromFile !== undefined) return parseSecretStorage(fromFile, `"${variable}" in ${defaultsPath}`);
  return 'file';
}

/** The secret storage an option names; a ConfigError for anything but "keychain" and "file". */
export function secretStorageOption(value: unknown): SecretStorage | undefined {
  if (value === undefined) return undefined;
  if (value === 'file' || value === 'keychain') return value;
  throw new ConfigError(`option secretStorage must be "keychain" or "file", not ${JSON.stringify(value)}`);
}

/**
 * Makes `account` of `data` a secret read from the keychain when something
 * uses it (a refresh, a login, a copy or a write), not when the file is read:
 * status and a valid access token need no keychain. Read once, then kept; a
 * failed read throws the keychain's error and is tried again on the next use.
 */
function defineKeychainSecret(data: Record<string, unknown>, path: string, ref: KeychainReference, account: string): void {
  let secret: string | undefined;
  Object.defineProperty(data, account, {
    enumerable: true,
    configurable: true,
    get(): string {
      if (secret === undefined) {
        secret = keychainGetSync(ref.service, account);
        if (secret === undefined) throw missingSecret(path, ref, account);
      }
      return secret;
    },
    set(value: unknown): void {
      Object.defineProperty(data, account, { value, enumerable: true, configurable: true, writable: true });
    },
  });
}

function splitKey(key: string): { profile: string; file: string } {
  const parts = key.split('/');
  return { profile: parts[parts.length - 2] ?? '', file: parts[parts.length - 1] ?? '' };
}

/**
 * Files under the home folder, as {@link FileStore}, whose secrets live in
 * the keychain for profiles in keychain mode. `wanted` is the mode a write
 * uses (the application's or the CLI's choice); undefined keeps the
 * profile's own mode, and a new profile takes {@link defaultSecretStorage}.
 */
export class SessionFileStore extends FileStore {
  constructor(
    root: string,
    readonly settings: SdkSettings,
    readonly wanted: SecretStorage | undefined,
  ) {
    super(root);
  }

  /** The reference in the file under `key`, read without the keychain; undefined when there is no file or none. */
  #reference(key: string): KeychainReference | undefined {
    const path = this.pathOf(key);
    const data = readJsonObjectSync(path);
    return data === undefined ? undefined : keychainReference(path, data);
  }

  /** The mode of the profile `key` belongs to, from its files: undefined when it has none yet. */
  #profileMode(key: string): SecretStorage | undefined {
    const folder = key.slice(0, key.lastIndexOf('/'));
    let mode: SecretStorage | undefined;
    for (const file of SECRET_FILES) {
      const path = this.pathOf(`${folder}/${file}`);
      const data = readJsonObjectSync(path);
      if (data === undefined) continue;
      if (keychainReference(path, data) !== undefined) return 'keychain';
      mode = 'file';
    }
    return mode;
  }

  /** The mode a write of `key` uses. */
  modeFor(key: string): SecretStorage {
    return this.wanted ?? this.#profileMode(key) ?? defaultSecretStorage(this.settings);
  }

  override async loadObj(key: string): Promise<Record<string, unknown>> {
    const data = await super.loadObj(key);
    if (!SECRET_FILES.includes(splitKey(key).file)) return data;
    const path = this.pathOf(key);
    const ref = keychainReference(path, data);
    if (ref === undefined) return data;
    const { [KEYCHAIN_REFERENCE]: _reference, ...rest } = data;
    const out: Record<string, unknown> = rest;
    for (const account of ref.accounts) defineKeychainSecret(out, path, ref, account);
    return out;
  }

  /**
   * Writes `data` as `key`. In keychain mode its secrets go to the keychain
   * first, then the file with the reference replaces the old one, so a
   * reader that finds the new file finds the new secrets; entries the new
   * file no longer names are removed after it is in place. With a mode asked
   * for, the profile's other file moves to that mode too, so a profile is
   * never half in one mode and half in the other.
   */
  override async saveObj(key: string, data: Record<string, unknown>): Promise<void> {
    const { file } = splitKey(key);
    if (!SECRET_FILES.includes(file)) return super.saveObj(key, data);
    const mode = this.modeFor(key);
    await this.#write(key, data, mode);
    if (this.wanted === undefined) return;
    const folder = key.slice(0, key.lastIndexOf('/'));
    for (const sibling of SECRET_FILES.filter((f) => f !== file).map((f) => `${folder}/${f}`)) {
      const path = this.pathOf(sibling);
      const existing = readJsonObjectSync(path);
      if (existing === undefined) continue;
      const inKeychain = keychainReference(path, existing) !== undefined;
      if (inKeychain !== (mode === 'keychain')) await this.#write(sibling, await this.loadObj(sibling), mode);
    }
  }

  async #write(key: string, data: Record<string, unknown>, mode: SecretStorage): Promise<void> {
    const { profile } = splitKey(key);
    const before = this.#reference(key);
    const { [KEYCHAIN_REFERENCE]: _dropped, ...plain } = data;
    let written: string[] = [];
    if (mode === 'keychain') {
      const service = keychainService(this.settings, profile);
      const rest: Record<string, unknown> = { ...plain };
      for (const field of SECRET_FIELDS) {
        const secret = rest[field];
        if (typeof secret !== 'string') continue;
        await keychainSet(service, field, secret);
        written.push(field);
        delete rest[field];
      }
      await super.saveObj(key, { ...rest, [KEYCHAIN_REFERENCE]: { service, accounts: written } });
      if (before !== undefined && before.service !== service) written = [];
    } else {
      await super.saveObj(key, plain);
    }
    for (const account of before?.accounts ?? []) {
      if (!written.includes(account)) await keychainDelete(before!.service, account);
    }
  }

  /** Removes the file under `key` and the keychain entries it names. */
  override async deleteObj(key: string): Promise<void> {
    let before: KeychainReference | undefined;
    try {
      before = SECRET_FILES.includes(splitKey(key).file) ? this.#reference(key) : undefined;
    } catch {
      before = undefined; // An unreadable file is still removed as asked; its entries stay.
    }
    await super.deleteObj(key);
    for (const account of before?.accounts ?? []) await keychainDelete(before!.service, account);
  }
}

/**
 * Removes every keychain entry of `profile`, whatever its files say (they may
 * be gone or unreadable): for `profile remove`. Touches the keychain only
 * when the profile's files refer to it.
 */
export async function forgetProfileSecrets(settings: SdkSettings, profile: string): Promise<void> {
  const store = new FileStore(homeDir());
  const services = new Set<string>();
  for (const file of SECRET_FILES) {
    const path = store.pathOf(`${settings.disk.root}/${profile}/${file}`);
    let found: KeychainReference | undefined;
    try {
      const data = readJsonObjectSync(path);
      found = data === undefined ? undefined : keychainReference(path, data);
    } catch {
      found = undefined; // An unreadable file names no service.
    }
    if (found) services.add(found.service);
  }
  if (services.size === 0) return;
  services.add(keychainService(settings, profile));
  for (const service of services) for (const account of SECRET_FIELDS) await keychainDelete(service, account);
}
