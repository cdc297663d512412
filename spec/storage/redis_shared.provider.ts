import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { createClient, type RedisClientOptions } from 'redis';
import { ConfigError, ERR_STATE_CORRUPT, ERR_STATE_UNSAFE, ERR_STORAGE, SECRET_FIELDS, StateError, type ObjectStorageProvider } from '@planet-auth/sdk';

/** The commands this provider sends; a client made by `createClient`, `createCluster` or `createSentinel` has them all. */
export interface RedisConnection {
  readonly isReady: boolean;
  readonly isOpen?: boolean;
  connect(): Promise<unknown>;
  close(): Promise<unknown>;
  destroy(): unknown;
  on(event: 'error', listener: (error: Error) => void): unknown;
  eval(script: string, options: { keys: string[]; arguments: string[] }): Promise<unknown>;
  hGetAll(key: string): Promise<unknown>;
  hGet(key: string, field: string): Promise<unknown>;
  exists(key: string): Promise<number>;
  rename(key: string, newKey: string): Promise<unknown>;
  del(key: string): Promise<number>;
  configGet?(parameter: string): Promise<unknown>;
}

/** Who a session belongs to: two applications sharing a Redis never see each other's keys. */
export interface SessionIdentity {
  /** The client ID the session was made with. */
  readonly clientId: string;
  /** The authorization server's issuer URL. */
  readonly issuer: string;
}

/** Keys for the secrets at rest: key id to a 32-byte AES-256 key (raw, or base64 text). */
export interface SecretKeys {
  /** The key id new records are encrypted with. */
  readonly current: string;
  /** Every key that may still be read, the current one among them. */
  readonly keys: Readonly<Record<string, Uint8Array | string>>;
}

export interface RedisStorageOptions {
  /** Prefix of every Redis key this provider writes. */
  readonly keyPrefix?: string;
  /**
   * The application's own id (its package name, say): part of every key, so
   * two applications sharing a Redis and a profile name keep apart.
   */
  readonly application?: string;
  /** The client and issuer this provider's sessions belong to; `forSession` binds them per session instead. */
  readonly session?: SessionIdentity;
  /** How long one command (or the first connection) may take before the call fails; milliseconds. */
  readonly commandTimeoutMs?: number;
  /**
   * Encryption of refresh tokens, client secrets and DPoP keys at rest: keys, or
   * `'plain'` to store them as they are. Unset, the keys come from
   * `PLANET_AUTH_STORAGE_KEYS`, and without those a secret is not written.
   */
  readonly secrets?: SecretKeys | 'plain';
  /** Run on a Redis whose `maxmemory-policy` may evict any key (`allkeys-*`), accepting that a session may vanish. */
  readonly acceptEviction?: boolean;
  /**
   * Longest a worker may hold one lease, renewals included, unless the SDK
   * asks for less; milliseconds (default 120 s). A worker stuck past it loses
   * its turn, and the others go on.
   */
  readonly maxLeaseHoldMs?: number;
}

/** Environment variable with the keys for secrets at rest: `<key id>:<base64 of 32 bytes>`, comma-separated, the first one current. */
export const STORAGE_KEYS_ENV = 'PLANET_AUTH_STORAGE_KEYS';
const DEFAULT_MAX_LEASE_HOLD_MS = 120_000;

// Each script runs atomically on the server, so no other client sees a lease
// taken without its fencing value, or a fenced write whose check went stale.
// A lease holds "<fence> <hold deadline in server ms>". A fence is at least
// the server's time in microseconds and above the last one counted, so it
// never repeats, even when the counter was evicted or Redis restarted empty
// (no two scripts start in the same microsecond).
const NOW_MS = `local t = redis.call('TIME') local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)`;
const ACQUIRE = `
local held = redis.call('PTTL', KEYS[1])
if held == -1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) return 'repaired' end
if held >= 0 then return false end
${NOW_MS}
local fence = tonumber(redis.call('GET', KEYS[2]) or '0') + 1
local micros = tonumber(t[1]) * 1000000 + tonumber(t[2])
if fence < micros then fence = micros end
local text = string.format('%d', fence)
redis.call('SET', KEYS[2], text)
redis.call('SET', KEYS[1], text .. ' ' .. string.format('%d', now + tonumber(ARGV[2])), 'PX', ARGV[1])
return text`;
const leaseFence = (key: string) => `
local value = redis.call('GET', ${key})
local fence, hold = nil, nil
if value then fence, hold = string.match(value, '^(%d+) (%d+)$') if not fence then fence = value end end`;
const RENEW = `${leaseFence('KEYS[1]')}
if fence ~= ARGV[1] then return 0 end
local ttl = tonumber(ARGV[2])
if hold then
  ${NOW_MS}
  local left = tonumber(hold) - now
  if left <= 0 then redis.call('DEL', KEYS[1]) return 0 end
  if left < ttl then ttl = left end
end
return redis.call('PEXPIRE', KEYS[1], ttl)`;
const RELEASE = `${leaseFence('KEYS[1]')}
if fence == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`;
// The server's clock stamps mtime, so workers on machines whose clocks differ
// agree on it. A fenced write also keeps its fence in the object and refuses
// a lower one, and an object stamped for another client is never replaced.
const SAVE = `
local owner = redis.call('HMGET', KEYS[1], 'client', 'issuer', 'fence')
if ARGV[3] ~= '' and owner[1] and (owner[1] ~= ARGV[3] or owner[2] ~= ARGV[4]) then return -1 end
if #KEYS == 2 then
  ${leaseFence('KEYS[2]').trim()}
  if fence ~= ARGV[2] then return 0 end
  if owner[3] and tonumber(owner[3]) > tonumber(ARGV[2]) then return 0 end
end
${NOW_MS}
redis.call('HSET', KEYS[1], 'data', ARGV[1], 'mtime', t[1] .. '.' .. string.format('%06d', tonumber(t[2])))
if #KEYS == 2 then redis.call('HSET', KEYS[1], 'fence', ARGV[2]) end
if ARGV[3] ~= '' then redis.call('HSET', KEYS[1], 'client', ARGV[3], 'issuer', ARGV[4]) end
return 1`;

/** What the connection shared by a provider and its per-session views knows. */
class SharedConnection {
  readonly client: RedisConnection;
  readonly where: string;
  readonly timeoutMs: number;
  readonly acceptEviction: boolean;
  connecting: Promise<unknown> | undefined;
  /** The server's `maxmemory-policy`, or `unknown` when it may not be read (managed Redis). */
  evictionPolicy: string | undefined;
  checking: Promise<void> | undefined;
  lastError: Error | undefined;
  readonly views = new Map<string, RedisStorageProvider>();

  constructor(client: RedisConnection, where: string, timeoutMs: number, acceptEviction: boolean) {
    this.client = client;
    this.where = where;
    this.timeoutMs = timeoutMs;
    this.acceptEviction = acceptEviction;
    // Without a listener a dropped connection would crash the process; the reconnect strategy brings it back.
    client.on('error', (error) => {
      this.lastError = error;
    });
  }
}

/**
 * Session storage shared by every worker that points at the same Redis, on
 * any number of machines. Each object is a hash (`data`, `mtime`, and who
 * wrote it) under `<prefix>[<namespace>:]{<folder>}/<name>`: the namespace
 * keeps applications apart, and the braces keep a profile's objects, its
 * lease and its fencing counter in one Redis Cluster slot, so RENAME and the
 * scripts work there too. The lease methods let the SDK give exactly one
 * worker at a time the turn to refresh, and refuse the writes of a worker
 * whose lease ran out. Refresh tokens, client secrets and DPoP keys are encrypted
 * (AES-256-GCM) before they reach Redis.
 */
export class RedisStorageProvider implements ObjectStorageProvider {
  readonly #shared: SharedConnection;
  readonly #options: RedisStorageOptions;
  readonly #prefix: string;
  readonly #session: SessionIdentity | undefined;
  readonly #secrets: SecretBox | undefined;
  readonly #maxHoldMs: number;

  /**
   * `target` is a `redis://` or `rediss://` (TLS) URL, or a client already
   * made with the `redis` package's `createClient`, `createCluster` or
   * `createSentinel` (not yet connected). `clientOptions` apply to a URL only.
   */
  constructor(target: string | RedisConnection, options: RedisStorageOptions = {}, clientOptions: Omit<RedisClientOptions, 'url'> = {}) {
    this.#options = options;
    this.#session = options.session;
    this.#maxHoldMs = options.maxLeaseHoldMs ?? DEFAULT_MAX_LEASE_HOLD_MS;
    if (options.application !== undefined && !/^[A-Za-z0-9@._/-]{1,200}$/.test(options.application)) {
      throw new ConfigError(`the application id ${JSON.stringify(options.application.slice(0, 200))} given to RedisStorageProvider may hold only letters, digits and @ . _ / -`);
    }
    this.#prefix = `${options.keyPrefix ?? 'planet-auth:'}${namespace(options.application, options.session)}`;
    this.#secrets = secretBox(options.secrets);
    if (target instanceof SharedConnection) {
      this.#shared = target;
      return;
    }
    const timeoutMs = options.commandTimeoutMs ?? 5000;
    if (typeof target === 'string') {
      const where = withoutCredentials(target);
      let client: RedisConnection;
      try {
        client = createClient({
          url: target,
          // A command while Redis is away fails at once instead of waiting in a queue: the SDK keeps serving valid tokens meanwhile.
          disableOfflineQueue: true,
          ...clientOptions,
          socket: { connectTimeout: timeoutMs, reconnectStrategy: reconnectDelay, ...clientOptions.socket },
        });
      } catch (error) {
        // The client's own message may quote the whole URL, password included.
        throw new ConfigError(`the Redis URL ${where} cannot be used (${scrub((error as Error)?.message ?? String(error), target)}); write it as redis://user:password@host:port or rediss://... for TLS`);
      }
      this.#shared = new SharedConnection(client, where, timeoutMs, options.acceptEviction === true);
    } else {
      this.#shared = new SharedConnection(target, 'the Redis client given to RedisStorageProvider', timeoutMs, options.acceptEviction === true);
    }
  }

  /**
   * This provider for one session, sharing its connection: keys and records
   * carry `identity`, so a session of another client or issuer under the same
   * profile name is neither read nor replaced.
   */
  forSession(identity: SessionIdentity): RedisStorageProvider {
    const id = `${identity.clientId}\n${normalizeIssuer(identity.issuer)}`;
    let view = this.#shared.views.get(id);
    if (!view) {
      view = new RedisStorageProvider(this.#shared as unknown as RedisConnection, { ...this.#options, session: { clientId: identity.clientId, issuer: normalizeIssuer(identity.issuer) } });
      this.#shared.views.set(id, view);
    }
    return view;
  }

  /** The server's `maxmemory-policy` once connected; `unknown` when the server does not say (CONFIG refused). */
  get evictionPolicy(): string | undefined {
    return this.#shared.evictionPolicy;
  }

  async loadObj(key: string): Promise<Record<string, unknown>> {
    const stored = (await this.#run(`read ${key}`, () => this.#shared.client.hGetAll(this.#key(key)))) as Record<string, string> | null;
    if (!stored || typeof stored.data !== 'string') throw new StateError(ERR_STORAGE, key, `no object under ${key} in Redis at ${this.#shared.where}`);
    this.#checkOwner(key, stored.client, stored.issuer);
    let value: unknown;
    try {
      value = JSON.parse(stored.data);
    } catch {
      value = undefined;
    }
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      throw new StateError(ERR_STATE_CORRUPT, key, `${key} in Redis at ${this.#shared.where} does not hold a JSON object; it was left as it is. Delete the key or log in again`);
    }
    const record = value as Record<string, unknown>;
    if (typeof record['client_id'] === 'string' || typeof record['auth_server'] === 'string') this.#checkOwner(key, record['client_id'], record['auth_server']);
    return this.#secrets ? this.#secrets.open(key, record) : refuseSealed(key, record);
  }

  async saveObj(key: string, data: Record<string, unknown>): Promise<void> {
    await this.#save(key, data, undefined);
  }

  async objExists(key: string): Promise<boolean> {
    return (await this.#run(`check ${key}`, () => this.#shared.client.exists(this.#key(key)))) === 1;
  }

  async mtime(key: string): Promise<number> {
    const stamp = await this.#run(`read ${key}`, () => this.#shared.client.hGet(this.#key(key), 'mtime'));
    if (typeof stamp !== 'string') throw new StateError(ERR_STORAGE, key, `no object under ${key} in Redis at ${this.#shared.where}`);
    return Number(stamp);
  }

  async objRename(src: string, dst: string): Promise<void> {
    await this.#run(`rename ${src}`, () => this.#shared.client.rename(this.#key(src), this.#key(dst)));
  }

  async deleteObj(key: string): Promise<void> {
    await this.#run(`delete ${key}`, () => this.#shared.client.del(this.#key(key)));
  }

  /**
   * Takes the lease on `key` for `ttlMs`, renewable for at most `maxHoldMs`
   * (the provider's `maxLeaseHoldMs` unless the SDK passes less), and never
   * granted for longer than that limit. A lease key
   * left without an expiry (by hand, or by a tool) is given one here, so it
   * ends by itself; the call then says the lease is taken.
   */
  async acquireLease(key: string, ttlMs: number, maxHoldMs?: number): Promise<number | undefined> {
    let gaveUp = false;
    const hold = Math.ceil(Math.min(this.#maxHoldMs, maxHoldMs ?? Infinity));
    const ask = () => {
      const reply = this.#shared.client.eval(ACQUIRE, { keys: [this.#key(key), this.#key(`${key}.fence`)], arguments: [String(Math.ceil(Math.min(ttlMs, hold))), String(hold)] });
      // A lease granted after this call gave up waiting has no holder: give it back rather than block everyone until it expires.
      reply.then(
        (late) => {
          if (gaveUp && isFence(late)) void this.releaseLease(key, Number(late)).catch(() => undefined);
        },
        () => undefined,
      );
      return reply;
    };
    try {
      const fence = await this.#run(`lease ${key}`, ask);
      return isFence(fence) ? Number(fence) : undefined;
    } catch (error) {
      gaveUp = true;
      throw error;
    }
  }

  async renewLease(key: string, fence: number, ttlMs: number): Promise<boolean> {
    const renewed = await this.#run(`lease ${key}`, () => this.#shared.client.eval(RENEW, { keys: [this.#key(key)], arguments: [fenceText(fence), String(Math.ceil(ttlMs))] }));
    return Number(renewed) === 1;
  }

  async releaseLease(key: string, fence: number): Promise<void> {
    await this.#run(`lease ${key}`, () => this.#shared.client.eval(RELEASE, { keys: [this.#key(key)], arguments: [fenceText(fence)] }));
  }

  async saveObjFenced(key: string, data: Record<string, unknown>, leaseKey: string, fence: number): Promise<boolean> {
    return this.#save(key, data, { leaseKey, fence });
  }

  /** Closes the connection (shared with every `forSession` view); call it when the program is done with the session. */
  async close(): Promise<void> {
    const { client } = this.#shared;
    try {
      if (client.isReady) await client.close();
      else client.destroy();
    } catch {
      // Never connected, or already closed: nothing is held open.
    }
  }

  async #save(key: string, data: Record<string, unknown>, fenced: { leaseKey: string; fence: number } | undefined): Promise<boolean> {
    const sealed = this.#secrets ? this.#secrets.seal(data) : refusePlain(key, data, this.#options.secrets === 'plain');
    const keys = fenced ? [this.#key(key), this.#key(fenced.leaseKey)] : [this.#key(key)];
    const args = [JSON.stringify(sealed), fenced ? fenceText(fenced.fence) : '', this.#session?.clientId ?? '', this.#session?.issuer ?? ''];
    const saved = Number(await this.#run(`write ${key}`, () => this.#shared.client.eval(SAVE, { keys, arguments: args })));
    if (saved === -1) {
      const owner = (await this.#run(`read ${key}`, () => this.#shared.client.hGetAll(this.#key(key)))) as Record<string, string>;
      this.#checkOwner(key, owner.client, owner.issuer);
    }
    return saved === 1;
  }

  /** Refuses a record that names another client or issuer than this provider's session. */
  #checkOwner(key: string, clientId: unknown, issuer: unknown): void {
    const session = this.#session;
    if (!session) return;
    const otherClient = typeof clientId === 'string' && clientId !== session.clientId;
    const otherIssuer = typeof issuer === 'string' && normalizeIssuer(issuer) !== session.issuer;
    if (!otherClient && !otherIssuer) return;
    const names = [otherClient ? `client ${JSON.stringify(clientId)}` : '', otherIssuer ? `issuer ${JSON.stringify(issuer)}` : ''].filter(Boolean).join(' and ');
    throw new StateError(
      ERR_STATE_UNSAFE,
      key,
      `${key} in Redis at ${this.#shared.where} belongs to ${names}, not to client ${JSON.stringify(session.clientId)} at issuer ${JSON.stringify(session.issuer)}; it was neither used nor changed`,
      { hint: 'give this application a profile name or an application id of its own' },
    );
  }

  #key(key: string): string {
    const slash = key.lastIndexOf('/');
    return slash < 0 ? `${this.#prefix}{${key}}` : `${this.#prefix}{${key.slice(0, slash)}}${key.slice(slash)}`;
  }

  /** Connects on first use and checks the server's eviction policy once. */
  async #ready(): Promise<void> {
    const shared = this.#shared;
    if (!shared.client.isReady) {
      // The first call connects; later ones fail fast while the client reconnects in the background.
      const first = shared.connecting === undefined;
      shared.connecting ??= shared.client.connect().catch((error: Error) => {
        shared.lastError = error;
        // A client that gave up (a Sentinel or Cluster client whose first connection failed) is asked again by the next call.
        if (shared.client.isOpen === false) shared.connecting = undefined;
      });
      // A refusal (password, ACL, certificate) says more than the timeout it leads to.
      if (first) await deadline(shared.connecting, shared.timeoutMs).catch((error: unknown) => Promise.reject(shared.lastError ?? error));
      if (!shared.client.isReady) throw shared.lastError ?? new Error('not connected');
    }
    // A policy that is refused stays refused; a check that could not run is tried again on the next call.
    shared.checking ??= checkEviction(shared).catch((error: unknown) => {
      if (!(error instanceof ConfigError)) shared.checking = undefined;
      throw error;
    });
    await shared.checking;
  }

  /** Runs one command, failing with a StateError (never hanging) when Redis does not answer in time. */
  async #run<T>(what: string, command: () => Promise<T>): Promise<T> {
    try {
      await this.#ready();
      return await deadline(command(), this.#shared.timeoutMs);
    } catch (error) {
      if (error instanceof StateError || error instanceof ConfigError) throw error;
      throw redisError(what, this.#shared.where, error);
    }
  }
}

/**
 * Any application storage with refresh tokens, client secrets and DPoP keys encrypted
 * (AES-256-GCM) before they reach it: the same keys and rules as
 * `RedisStorageProvider`'s `secrets` option.
 */
export class EncryptedStorageProvider implements ObjectStorageProvider {
  readonly #inner: ObjectStorageProvider;
  readonly #box: SecretBox;

  /** `keys` unset: the keys come from `PLANET_AUTH_STORAGE_KEYS`. */
  constructor(inner: ObjectStorageProvider, keys?: SecretKeys) {
    const box = secretBox(keys);
    if (!box) throw new ConfigError(`no keys for the secrets at rest: set ${STORAGE_KEYS_ENV} to <key id>:<32 bytes in base64>, or pass them to EncryptedStorageProvider`);
    this.#inner = inner;
    this.#box = box;
  }

  async loadObj(key: string): Promise<Record<string, unknown>> {
    return this.#box.open(key, await this.#inner.loadObj(key));
  }

  async saveObj(key: string, data: Record<string, unknown>): Promise<void> {
    await this.#inner.saveObj(key, this.#box.seal(data));
  }

  objExists(key: string): Promise<boolean> {
    return this.#inner.objExists(key);
  }

  mtime(key: string): Promise<number> {
    return this.#inner.mtime(key);
  }

  objRename(src: string, dst: string): Promise<void> {
    return this.#inner.objRename(src, dst);
  }

  deleteObj(key: string): Promise<void> {
    return this.#inner.deleteObj(key);
  }
}

/** An encrypted secret as stored: which key, and what AES-256-GCM needs to open it. */
interface Sealed {
  readonly $sealed: 'aes-256-gcm';
  readonly kid: string;
  readonly iv: string;
  readonly data: string;
  readonly tag: string;
}

function isSealed(value: unknown): value is Sealed {
  return typeof value === 'object' && value !== null && (value as { $sealed?: unknown }).$sealed === 'aes-256-gcm';
}

interface SecretBox {
  seal(data: Record<string, unknown>): Record<string, unknown>;
  open(key: string, data: Record<string, unknown>): Record<string, unknown>;
}

/** The keys `given` (or from the environment); undefined when there are none. */
function secretBox(given: SecretKeys | 'plain' | undefined): SecretBox | undefined {
  if (given === 'plain') return undefined;
  const keys = new Map<string, Buffer>();
  let current: string;
  if (given) {
    for (const [kid, material] of Object.entries(given.keys)) keys.set(kid, keyBytes(kid, material, 'the keys given in code'));
    current = given.current;
  } else {
    const text = process.env[STORAGE_KEYS_ENV]?.trim();
    if (!text) return undefined;
    const entries = text.split(',').map((entry) => entry.trim());
    for (const entry of entries) {
      const colon = entry.indexOf(':');
      if (colon <= 0) throw new ConfigError(`${STORAGE_KEYS_ENV} must list <key id>:<32 bytes in base64>, comma-separated; an entry has no key id`);
      const kid = entry.slice(0, colon);
      keys.set(kid, keyBytes(kid, entry.slice(colon + 1), STORAGE_KEYS_ENV));
    }
    current = entries[0]!.slice(0, entries[0]!.indexOf(':'));
  }
  const writeKey = keys.get(current);
  if (!writeKey) throw new ConfigError(`the current key id ${JSON.stringify(current)} for the secrets at rest is not among the keys given (${[...keys.keys()].join(', ')})`);
  return {
    seal(data) {
      const out: Record<string, unknown> = { ...data };
      for (const field of SECRET_FIELDS) {
        const value = data[field];
        if (typeof value !== 'string') continue;
        const iv = randomBytes(12);
        const cipher = createCipheriv('aes-256-gcm', writeKey, iv);
        cipher.setAAD(Buffer.from(`${field}\n${current}`));
        const encrypted = Buffer.concat([cipher.update(value, 'utf8'), cipher.final()]);
        out[field] = { $sealed: 'aes-256-gcm', kid: current, iv: iv.toString('base64'), data: encrypted.toString('base64'), tag: cipher.getAuthTag().toString('base64') } satisfies Sealed;
      }
      return out;
    },
    open(location, data) {
      const out: Record<string, unknown> = { ...data };
      for (const field of SECRET_FIELDS) {
        const value = data[field];
        if (!isSealed(value)) continue;
        const key = keys.get(value.kid);
        if (!key) {
          throw new StateError(
            ERR_STATE_UNSAFE,
            location,
            `the ${field} in ${location} was encrypted with key id ${JSON.stringify(value.kid)}, which is not among the keys given (${[...keys.keys()].join(', ')}); it was left as it is`,
            {
              hint: `add that key to ${STORAGE_KEYS_ENV} (or the provider's secrets) beside the current one`,
            },
          );
        }
        try {
          const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(value.iv, 'base64'));
          decipher.setAAD(Buffer.from(`${field}\n${value.kid}`));
          decipher.setAuthTag(Buffer.from(value.tag, 'base64'));
          out[field] = Buffer.concat([decipher.update(Buffer.from(value.data, 'base64')), decipher.final()]).toString('utf8');
        } catch {
          throw new StateError(
            ERR_STATE_UNSAFE,
            location,
            `the ${field} in ${location} does not decrypt with key id ${JSON.stringify(value.kid)}: the key under that id is not the one that wrote it, or the record was altered; it was left as it is`,
            {
              hint: `give the key that wrote it under id ${JSON.stringify(value.kid)}`,
            },
          );
        }
      }
      return out;
    },
  };
}

function keyBytes(kid: string, material: Uint8Array | string, where: string): Buffer {
  if (!/^[A-Za-z0-9._-]{1,64}$/.test(kid)) throw new ConfigError(`key id ${JSON.stringify(kid.slice(0, 64))} in ${where} may hold only letters, digits and . _ -`);
  const bytes = typeof material === 'string' ? Buffer.from(material.trim(), 'base64') : Buffer.from(material);
  if (bytes.length !== 32) throw new ConfigError(`key ${JSON.stringify(kid)} in ${where} is ${bytes.length} bytes long; AES-256 needs 32 (make one with: openssl rand -base64 32)`);
  return bytes;
}

/** Without keys: a secret is written only when plain storage was chosen. */
function refusePlain(key: string, data: Record<string, unknown>, plainChosen: boolean): Record<string, unknown> {
  if (plainChosen) return data;
  const secret = SECRET_FIELDS.find((field) => typeof data[field] === 'string');
  if (secret === undefined) return data;
  throw new ConfigError(
    `${key} holds a ${secret}, and RedisStorageProvider has no key to encrypt it with; nothing was written. Set ${STORAGE_KEYS_ENV} to <key id>:<32 bytes in base64> (openssl rand -base64 32), pass { secrets: { current, keys } }, or choose plain storage with { secrets: 'plain' }`,
  );
}

/** Without keys: an encrypted record cannot be read, and is left alone. */
function refuseSealed(key: string, data: Record<string, unknown>): Record<string, unknown> {
  const field = SECRET_FIELDS.find((f) => isSealed(data[f]));
  if (field === undefined) return data;
  throw new StateError(ERR_STATE_UNSAFE, key, `the ${field} in ${key} is encrypted (key id ${JSON.stringify((data[field] as Sealed).kid)}) and this provider has no keys; it was left as it is`, {
    hint: `set ${STORAGE_KEYS_ENV} to the keys the fleet uses`,
  });
}

function namespace(application: string | undefined, session: SessionIdentity | undefined): string {
  if (application === undefined && session === undefined) return '';
  const digest = createHash('sha256')
    .update(`${application ?? ''}\n${session?.clientId ?? ''}\n${session ? normalizeIssuer(session.issuer) : ''}`)
    .digest('hex')
    .slice(0, 16);
  return `${application ?? 'app'}:${digest}:`;
}

function normalizeIssuer(issuer: string): string {
  return issuer.replace(/\/+$/, '');
}

function isFence(reply: unknown): boolean {
  return (typeof reply === 'string' || typeof reply === 'number') && /^\d+$/.test(String(reply));
}

function fenceText(fence: number): string {
  return Number.isSafeInteger(fence) ? String(fence) : '-1';
}

/**
 * Reconnect within half a second after a dropped connection (the fleet waits
 * on it), but back off to one attempt every 30 s when the server refuses
 * this client (password, ACL, certificate): trying again changes nothing.
 */
function reconnectDelay(retries: number, cause: Error): number {
  const refused = diagnose(cause) !== undefined;
  const cap = refused ? 30_000 : 500;
  return Math.min(cap, (refused ? 250 : 50) * 2 ** Math.min(retries, 16)) + Math.floor(Math.random() * 50);
}

/** The server's policy; refuses `allkeys-*` unless accepted. CONFIG may be refused (managed Redis): then the policy is `unknown`. */
async function checkEviction(shared: SharedConnection): Promise<void> {
  let policy = 'unknown';
  try {
    const reply = shared.client.configGet ? await deadline(shared.client.configGet('maxmemory-policy'), shared.timeoutMs) : undefined;
    const value = (reply as Record<string, unknown> | undefined)?.['maxmemory-policy'];
    if (typeof value === 'string') policy = value;
  } catch (error) {
    if (!/NOPERM|unknown command|ERR/i.test((error as Error)?.message ?? '')) throw error;
  }
  shared.evictionPolicy = policy;
  if (policy.startsWith('allkeys-') && !shared.acceptEviction) {
    throw new ConfigError(
      `Redis at ${shared.where} runs with maxmemory-policy ${policy}: when full it evicts any key, a session or a lease among them, and the fleet would log in again or refresh twice. ` +
        'Set maxmemory-policy to noeviction (or a volatile-* policy) on that server, use a Redis of its own for sessions, or accept the risk in code with new RedisStorageProvider(url, { acceptEviction: true })',
    );
  }
}

const TLS_CODES = /^(SELF_SIGNED_CERT_IN_CHAIN|DEPTH_ZERO_SELF_SIGNED_CERT|UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT(_LOCALLY)?|CERT_\w+|ERR_TLS_CERT_ALTNAME_INVALID|ERR_SSL_\w+)$/;

/** What a refusal by the server means and what to do; undefined for anything else (down, slow, network). */
function diagnose(error: unknown): { what: string; hint: string } | undefined {
  const message = (error as Error)?.message ?? '';
  const code = String((error as { code?: string | number })?.code ?? '');
  if (message.startsWith('NOAUTH')) return { what: 'asks for a password (NOAUTH)', hint: 'put the user and password in the URL: redis://user:password@host:port' };
  if (message.startsWith('WRONGPASS') || /invalid (username-)?password/i.test(message)) {
    return { what: 'refused the user name or password (WRONGPASS)', hint: "check the user and password in the URL (redis://user:password@host:port) against the server's ACL" };
  }
  if (message.startsWith('NOPERM')) {
    return {
      what: `refused a command for lack of permission (ACL: ${message.slice(0, 200)})`,
      hint: 'give the Redis user the commands and keys it needs, e.g. ACL SETUSER <user> ~planet-auth:* +eval +hgetall +hget +exists +rename +del +config|get +ping +hello +client',
    };
  }
  if (TLS_CODES.test(code) || /certificate|wrong version number|ssl/i.test(message)) {
    return {
      what: `did not pass the TLS check (${code || message.slice(0, 120)})`,
      hint: 'for a private CA pass it as clientOptions { socket: { tls: true, ca } } (or set NODE_EXTRA_CA_CERTS); the host name must match the certificate, and rediss:// needs a TLS port',
    };
  }
  return undefined;
}

function redisError(what: string, where: string, error: unknown): StateError {
  const refused = diagnose(error);
  // The cause is rebuilt from its message alone: the client's error objects may carry its options.
  const cause = new Error((error as Error)?.message ?? String(error));
  if (refused) return new StateError(ERR_STORAGE, where, `cannot ${what}: Redis at ${where} ${refused.what}`, { cause, hint: refused.hint });
  return new StateError(ERR_STORAGE, where, `cannot ${what}: Redis at ${where} did not answer (${cause.message}). Check that the server runs and that the URL points at it; the session in Redis was left as it was`, {
    cause,
  });
}

function deadline<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** The URL as it may appear in a message: user name and password removed. */
function withoutCredentials(url: string): string {
  try {
    const parsed = new URL(url);
    parsed.username = '';
    parsed.password = '';
    return parsed.toString().replace(/\/$/, '');
  } catch {
    return 'the configured Redis URL';
  }
}

/** `text` without the URL's credentials, whatever form the URL took in it. */
function scrub(text: string, url: string): string {
  let out = text.split(url).join(withoutCredentials(url));
  const credentials = /^[a-z]+:\/\/([^@/]*)@/i.exec(url)?.[1];
  if (credentials) {
    for (const part of [credentials, ...credentials.split(':')]) if (part.length > 0) out = out.split(part).join('***');
  }
  return out;
}
