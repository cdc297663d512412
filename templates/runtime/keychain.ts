// The operating system's keychain (Secret Service on Linux, Keychain on
// macOS, Credential Manager on Windows), reached through the optional package
// `@napi-rs/keyring`. It is loaded on first use only, so sessions that keep
// their secrets in files never load it and need not install it.
import { ERR_STATE_CORRUPT, ERR_STORAGE, StateError } from './errors.js';
import type { SdkSettings } from './settings.js';
import { SECRET_FIELDS } from './secret-fields.js';

/** The npm package that reaches the keychain; an optional peer dependency of the SDK. */
export const KEYRING_PACKAGE = '@napi-rs/keyring';

/** Where a session on disk keeps its secrets: in its files (as Planet's Python CLI does) or in the OS keychain. */
export type SecretStorage = 'file' | 'keychain';
export const SECRET_STORAGES: readonly SecretStorage[] = ['file', 'keychain'];

/** Fields of `token.json` and `auth_client.json` that are secrets; in keychain mode they live in the keychain only. */
export { SECRET_FIELDS } from './secret-fields.js';

/**
 * The field a session file in keychain mode carries instead of its secrets:
 * `{ "service": "<package>:<profile>", "accounts": ["refresh_token"] }`.
 * Its presence alone says the profile keeps its secrets in the keychain.
 */
export const KEYCHAIN_REFERENCE = '_keychain';

/** A file's reference to its secrets in the keychain. */
export interface KeychainReference {
  readonly service: string;
  readonly accounts: readonly string[];
}

/** The keychain service holding a profile's secrets: the package's name and the profile's. */
export function keychainService(settings: SdkSettings, profile: string): string {
  return `${settings.packageName ?? 'planet-auth'}:${profile}`;
}

/** The keychain reference in a session file's data, when it has one; `location` names the file in errors. */
export function keychainReference(location: string, data: Record<string, unknown>): KeychainReference | undefined {
  const value = data[KEYCHAIN_REFERENCE];
  if (value === undefined) return undefined;
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-assertion -- `value` is narrowed to `{} | null` here; the rule takes the cast for a no-op, but without it no field can be read
  const ref = value as { service?: unknown; accounts?: unknown } | null;
  if (ref === null || typeof ref !== 'object' || typeof ref.service !== 'string' || !Array.isArray(ref.accounts) || !ref.accounts.every((a) => typeof a === 'string' && SECRET_FIELDS.includes(a))) {
    throw new StateError(
      ERR_STATE_CORRUPT,
      location,
      `field "${KEYCHAIN_REFERENCE}" in ${location} must be { "service": string, "accounts": [${SECRET_FIELDS.map((f) => `"${f}"`).join(', ')}...] }; the file was left as it is. Fix it, or log in again`,
    );
  }
  return { service: ref.service, accounts: ref.accounts.filter((a): a is string => typeof a === 'string') };
}

/** `value` as a secret storage mode; `source` names where it came from in the error. */
export function parseSecretStorage(value: unknown, source: string): SecretStorage {
  if (value === 'file' || value === 'keychain') return value;
  throw new StateError(ERR_STORAGE, source, `${source} is ${JSON.stringify(value)}; it must be "keychain" or "file"`);
}

interface AsyncKeyringEntry {
  getPassword(): Promise<string | null | undefined>;
  setPassword(password: string): Promise<void>;
  deleteCredential(): Promise<boolean>;
}

interface SyncKeyringEntry {
  getPassword(): string | null | undefined;
}

interface KeyringBinding {
  readonly AsyncEntry: new (service: string, account: string) => AsyncKeyringEntry;
  readonly Entry: new (service: string, account: string) => SyncKeyringEntry;
  findCredentials(service: string): unknown;
}

let binding: KeyringBinding | undefined;

/** Where the keychain is, for messages. */
function keychainName(): string {
  if (process.platform === 'darwin') return 'the macOS Keychain';
  if (process.platform === 'win32') return 'the Windows Credential Manager';
  return 'the OS keychain (Secret Service over D-Bus)';
}

const FILE_MODE_HINT = 'or keep this profile\'s secrets in files: log in with --storage file (SDK option secretStorage: "file")';

function installHint(): string {
  if (process.platform === 'darwin' || process.platform === 'win32') return `unlock ${keychainName()} and try again, ${FILE_MODE_HINT}`;
  return `start a Secret Service such as gnome-keyring, unlocked in your D-Bus session (Debian/Ubuntu: apt-get install gnome-keyring dbus; on a headless machine run it under dbus-run-session), ${FILE_MODE_HINT}`;
}

/** The binding, loaded on first use; a clear error when the optional package is not installed. */
function keyring(): KeyringBinding {
  if (binding) return binding;
  try {
    // An ES module resolves from its own location; in the CommonJS bundle import.meta is empty and require is real.
    // (A bundler's ES-module require shim exists but throws, so typeof require cannot tell the two apart.)
    const moduleUrl = (import.meta as { url?: string }).url;
    // node:module is loaded here, on first use, so that a run that keeps its secrets in files never loads it.
    const load = moduleUrl ? process.getBuiltinModule('node:module').createRequire(moduleUrl) : require;
    binding = load(KEYRING_PACKAGE) as KeyringBinding;
  } catch (error) {
    throw new StateError(
      ERR_STORAGE,
      KEYRING_PACKAGE,
      `keeping secrets in the OS keychain needs the package "${KEYRING_PACKAGE}", which could not be loaded (${(error as Error)?.message?.split('\n')[0] ?? String(error)})`,
      {
        cause: error,
        hint: `install it next to the SDK (npm install ${KEYRING_PACKAGE}), ${FILE_MODE_HINT}`,
      },
    );
  }
  return binding;
}

function unreachable(service: string, account: string, doing: string, error: unknown): StateError {
  const reason = error instanceof Error ? error.message.split('\n')[0] : String(error);
  return new StateError(ERR_STORAGE, `${service} ${account}`, `${doing} the ${account} of profile secrets "${service}" in ${keychainName()} failed (${reason})`, {
    cause: error,
    hint: installHint(),
  });
}

/**
 * The secret under `service` and `account`; undefined when there is none.
 * Synchronous: a secret is read where it is spent, inside a refresh or when a
 * saved profile is opened.
 */
export function keychainGetSync(service: string, account: string): string | undefined {
  const binding = keyring();
  try {
    const secret = new binding.Entry(service, account).getPassword() ?? undefined;
    // The binding answers "no entry" when it cannot reach the keychain either: a search tells the two apart.
    if (secret === undefined) binding.findCredentials(service);
    return secret;
  } catch (error) {
    throw unreachable(service, account, 'reading', error);
  }
}

/** Stores `secret` under `service` and `account`, replacing what was there. */
export async function keychainSet(service: string, account: string, secret: string): Promise<void> {
  const { AsyncEntry } = keyring();
  try {
    await new AsyncEntry(service, account).setPassword(secret);
  } catch (error) {
    throw unreachable(service, account, 'writing', error);
  }
}

/** Removes the secret under `service` and `account`; nothing happens when there is none. */
export async function keychainDelete(service: string, account: string): Promise<void> {
  const { AsyncEntry } = keyring();
  try {
    await new AsyncEntry(service, account).deleteCredential();
  } catch (error) {
    throw unreachable(service, account, 'removing', error);
  }
}

/** The secret a reference names, or an error naming the file and the fix when the keychain has none. */
export function missingSecret(location: string, ref: KeychainReference, account: string): StateError {
  return new StateError(
    ERR_STATE_CORRUPT,
    location,
    `${location} keeps its ${account} in ${keychainName()} (service "${ref.service}", account "${account}"), which holds none; the file was left as it is. Log in again to store a new one`,
  );
}
