// Where one session's objects live (memory, the disk shared with the CLI, or
// application storage) and how its writers take turns. Every read and write
// of the session engine goes through here, with typed errors that name the
// file or key, and fenced writes where the storage offers them.
import type { ClientOptions } from './client-options.js';
import { ConfigError, ERR_STORAGE, PlanetAuthError, StateError, TurnLostError } from './errors.js';
import type { Turn } from './lock.js';
import { homeDir, profileFolder, profileKey } from './profile.js';
import type { SdkSettings } from './settings.js';
import { SessionFileStore, secretStorageOption } from './secret-store.js';
import { replaceObj, type ObjectStore } from './store.js';
import { canLease, folderTurns, leaseTurns, processTurns, type TurnTaker } from './turns.js';

type Backend = { kind: 'memory' } | { kind: 'disk'; store: SessionFileStore } | { kind: 'provider'; store: ObjectStore };

/** The object, beside a profile's files, whose lease decides whose turn it is in shared application storage. */
const LEASE_FILE = 'session.lease';

const instanceIds = new WeakMap<object, number>();
let nextInstanceId = 1;

/** A number for `value`, stable while it lives: keys in-process turns without holding the object. */
function instanceId(value: object): number {
  let id = instanceIds.get(value);
  if (id === undefined) {
    id = nextInstanceId++;
    instanceIds.set(value, id);
  }
  return id;
}

/** `store`'s view for one session where it offers one (`forSession`), else `store` itself. */
function boundStore(store: ObjectStore, session: { clientId: string; issuer: string }): ObjectStore {
  if (typeof store.forSession !== 'function') return store;
  let view: unknown;
  try {
    view = store.forSession({ clientId: session.clientId, issuer: session.issuer });
  } catch (error) {
    throw new ConfigError(`the storageProvider's forSession failed for client ${JSON.stringify(session.clientId)} at ${session.issuer}: ${(error as Error)?.message ?? String(error)}`);
  }
  if (view === null || typeof view !== 'object' || typeof (view as ObjectStore).loadObj !== 'function') {
    throw new ConfigError("the storageProvider's forSession returned no storage; it must return the provider for that session (an object with loadObj, saveObj and the other storage methods), not a promise");
  }
  return view as ObjectStore;
}

export class SessionStorage {
  readonly #backend: Backend;
  readonly #settings: SdkSettings;
  readonly #profile: string;
  /** How this session's writers take turns. */
  readonly turns: TurnTaker;

  /**
   * The storage `options` choose for `profile`; `owner` keys in-memory turns.
   * Application storage that offers `forSession` is used through its view
   * bound to `session` (client ID and issuer); a lease lasts at most
   * `session.maxHoldMs`, however long its holder's work runs.
   */
  constructor(
    settings: SdkSettings,
    profile: string,
    options: Pick<ClientOptions, 'saveStateToStorage' | 'storageProvider' | 'secretStorage'>,
    owner: object,
    session: { clientId: string; issuer: string; maxHoldMs: number },
  ) {
    this.#settings = settings;
    this.#profile = profile;
    const secretStorage = secretStorageOption(options.secretStorage);
    if (secretStorage !== undefined && (options.saveStateToStorage === false || options.storageProvider)) {
      throw new ConfigError('option secretStorage applies to sessions saved on disk; leave it out with saveStateToStorage: false or a storageProvider');
    }
    if (options.saveStateToStorage === false) {
      this.#backend = { kind: 'memory' };
      this.turns = processTurns(`memory:${instanceId(owner)}`);
    } else if (options.storageProvider) {
      const store = boundStore(options.storageProvider, session);
      this.#backend = { kind: 'provider', store };
      this.turns = canLease(store) ? leaseTurns(store, this.#key(LEASE_FILE), `lease:${instanceId(store)}:${profile}`, session.maxHoldMs) : processTurns(`provider:${instanceId(store)}:${profile}`);
    } else {
      this.#backend = { kind: 'disk', store: new SessionFileStore(homeDir(), settings, secretStorage) };
      this.turns = folderTurns(profileFolder(settings, profile));
    }
  }

  /** Where the session is kept. */
  get kind(): Backend['kind'] {
    return this.#backend.kind;
  }

  #key(file: string): string {
    return profileKey(this.#settings, this.#profile, file);
  }

  /** Where `file` of the profile is, for messages: a path on disk, else the storage key. */
  location(file: string): string {
    const key = this.#key(file);
    return this.#backend.kind === 'disk' ? this.#backend.store.pathOf(key) : key;
  }

  /** `error` as a typed storage error naming `file`, unless it is one of this SDK's already. */
  error(error: unknown, file: string, doing: 'reading' | 'writing' | 'removing'): PlanetAuthError {
    if (error instanceof PlanetAuthError) return error;
    const location = this.location(file);
    return new StateError(ERR_STORAGE, location, `${doing} ${location} failed: ${(error as Error)?.message ?? String(error)}`, {
      cause: error,
      hint: this.#backend.kind === 'provider' ? 'check that the application storage is reachable' : 'check the permissions of that folder',
    });
  }

  /** The object saved as `file`; undefined when there is none (always, in memory). */
  async load(file: string): Promise<Record<string, unknown> | undefined> {
    if (this.#backend.kind === 'memory') return undefined;
    const { store } = this.#backend;
    const key = this.#key(file);
    try {
      if (!(await store.objExists(key))) return undefined;
      return await store.loadObj(key);
    } catch (error) {
      throw this.error(error, file, 'reading');
    }
  }

  /** Whether `file` is saved. */
  async exists(file: string): Promise<boolean> {
    if (this.#backend.kind === 'memory') return false;
    try {
      return await this.#backend.store.objExists(this.#key(file));
    } catch (error) {
      throw this.error(error, file, 'reading');
    }
  }

  /**
   * Saves `data` as `file` during `turn`: after checking the turn is still
   * held, and fenced by its lease where the storage can fence writes.
   */
  async write(file: string, data: Record<string, unknown>, turn: Turn): Promise<void> {
    if (this.#backend.kind === 'memory') return;
    const store: ObjectStore = this.#backend.store;
    const key = this.#key(file);
    await turn.assertHeld();
    try {
      if (turn.fence !== undefined && typeof store.saveObjFenced === 'function') {
        if (!(await store.saveObjFenced(key, data, this.#key(LEASE_FILE), turn.fence))) {
          throw new TurnLostError(`this process lost its lease on profile "${this.#profile}" before writing ${file}; nothing was written`);
        }
        return;
      }
      await replaceObj(store, key, data);
    } catch (error) {
      throw this.error(error, file, 'writing');
    }
  }

  /** Saves a cache (such as the server's metadata) outside any turn: losing it costs a request, nothing more. */
  async cache(file: string, data: Record<string, unknown>): Promise<void> {
    if (this.#backend.kind === 'memory') return;
    try {
      await replaceObj(this.#backend.store, this.#key(file), data);
    } catch (error) {
      throw this.error(error, file, 'writing');
    }
  }

  /** Removes `file` during `turn`. */
  async remove(file: string, turn: Turn): Promise<void> {
    if (this.#backend.kind === 'memory') return;
    await turn.assertHeld();
    try {
      await this.#backend.store.deleteObj(this.#key(file));
    } catch (error) {
      throw this.error(error, file, 'removing');
    }
  }
}
