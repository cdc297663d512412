import { createClient, type RedisClientOptions } from 'redis';
import { ERR_STATE_CORRUPT, ERR_STORAGE, StateError, type ObjectStorageProvider } from '@planet-auth/sdk';

/** The commands this provider sends; a client made by `createClient`, `createCluster` or `createSentinel` has them all. */
export interface RedisConnection {
  readonly isReady: boolean;
  connect(): Promise<unknown>;
  close(): Promise<unknown>;
  destroy(): unknown;
  on(event: 'error', listener: (error: Error) => void): unknown;
  eval(script: string, options: { keys: string[]; arguments: string[] }): Promise<unknown>;
  hGet(key: string, field: string): Promise<unknown>;
  exists(key: string): Promise<number>;
  rename(key: string, newKey: string): Promise<unknown>;
  del(key: string): Promise<number>;
}

export interface RedisStorageOptions {
  /** Prefix of every Redis key this provider writes. */
  readonly keyPrefix?: string;
  /** How long one command (or the first connection) may take before the call fails; milliseconds. */
  readonly commandTimeoutMs?: number;
}

// Each script runs atomically on the server, so no other client sees a lease
// taken without its fencing value, or a fenced write whose check went stale.
const ACQUIRE = `
if redis.call('EXISTS', KEYS[1]) == 1 then return false end
local fence = redis.call('INCR', KEYS[2])
redis.call('SET', KEYS[1], fence, 'NX', 'PX', ARGV[1])
return fence`;
const RENEW = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0`;
const RELEASE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`;
// The server's clock stamps mtime, so workers on machines whose clocks differ agree on it.
const SAVE = `
if #KEYS == 2 and redis.call('GET', KEYS[2]) ~= ARGV[2] then return 0 end
local now = redis.call('TIME')
redis.call('HSET', KEYS[1], 'data', ARGV[1], 'mtime', now[1] .. '.' .. string.format('%06d', tonumber(now[2])))
return 1`;

/**
 * Session storage shared by every worker that points at the same Redis, on
 * any number of machines. Each object is a hash (`data`, `mtime`) under
 * `<prefix>{<folder>}/<name>`: the braces keep a profile's objects, its lease
 * and its fencing counter in one Redis Cluster slot, so RENAME and the
 * scripts work there too. The lease methods let the SDK give exactly one
 * worker at a time the turn to refresh, and refuse the writes of a worker
 * whose lease ran out.
 */
export class RedisStorageProvider implements ObjectStorageProvider {
  readonly #client: RedisConnection;
  readonly #where: string;
  readonly #prefix: string;
  readonly #timeoutMs: number;
  #connecting: Promise<unknown> | undefined;

  /**
   * `target` is a `redis://` or `rediss://` (TLS) URL, or a client already
   * made with the `redis` package's `createClient`, `createCluster` or
   * `createSentinel` (not yet connected). `clientOptions` apply to a URL only.
   */
  constructor(target: string | RedisConnection, options: RedisStorageOptions = {}, clientOptions: Omit<RedisClientOptions, 'url'> = {}) {
    this.#prefix = options.keyPrefix ?? 'planet-auth:';
    this.#timeoutMs = options.commandTimeoutMs ?? 5000;
    if (typeof target === 'string') {
      this.#where = withoutCredentials(target);
      this.#client = createClient({
        url: target,
        // A command while Redis is away fails at once instead of waiting in a queue: the SDK keeps serving valid tokens meanwhile.
        disableOfflineQueue: true,
        ...clientOptions,
        socket: { connectTimeout: this.#timeoutMs, reconnectStrategy: (retries: number) => Math.min(50 * 2 ** retries, 500), ...clientOptions.socket },
      });
    } else {
      this.#where = 'the Redis client given to RedisStorageProvider';
      this.#client = target;
    }
    // Without a listener a dropped connection would crash the process; the reconnect strategy brings it back.
    this.#client.on('error', () => undefined);
  }

  async loadObj(key: string): Promise<Record<string, unknown>> {
    const text = await this.#run(`read ${key}`, () => this.#client.hGet(this.#key(key), 'data'));
    if (typeof text !== 'string') throw new StateError(ERR_STORAGE, key, `no object under ${key} in Redis at ${this.#where}`);
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      value = undefined;
    }
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      throw new StateError(ERR_STATE_CORRUPT, key, `${key} in Redis at ${this.#where} does not hold a JSON object; it was left as it is. Delete the key or log in again`);
    }
    return value as Record<string, unknown>;
  }

  async saveObj(key: string, data: Record<string, unknown>): Promise<void> {
    await this.#run(`write ${key}`, () => this.#client.eval(SAVE, { keys: [this.#key(key)], arguments: [JSON.stringify(data)] }));
  }

  async objExists(key: string): Promise<boolean> {
    return (await this.#run(`check ${key}`, () => this.#client.exists(this.#key(key)))) === 1;
  }

  async mtime(key: string): Promise<number> {
    const stamp = await this.#run(`read ${key}`, () => this.#client.hGet(this.#key(key), 'mtime'));
    if (typeof stamp !== 'string') throw new StateError(ERR_STORAGE, key, `no object under ${key} in Redis at ${this.#where}`);
    return Number(stamp);
  }

  async objRename(src: string, dst: string): Promise<void> {
    await this.#run(`rename ${src}`, () => this.#client.rename(this.#key(src), this.#key(dst)));
  }

  async deleteObj(key: string): Promise<void> {
    await this.#run(`delete ${key}`, () => this.#client.del(this.#key(key)));
  }

  async acquireLease(key: string, ttlMs: number): Promise<number | undefined> {
    let gaveUp = false;
    const ask = () => {
      const reply = this.#client.eval(ACQUIRE, { keys: [this.#key(key), this.#key(`${key}.fence`)], arguments: [String(Math.ceil(ttlMs))] });
      // A lease granted after this call gave up waiting has no holder: give it back rather than block everyone until it expires.
      reply.then(
        (late) => {
          if (gaveUp && late != null) void this.releaseLease(key, Number(late)).catch(() => undefined);
        },
        () => undefined,
      );
      return reply;
    };
    try {
      const fence = await this.#run(`lease ${key}`, ask);
      return fence === null || fence === undefined ? undefined : Number(fence);
    } catch (error) {
      gaveUp = true;
      throw error;
    }
  }

  async renewLease(key: string, fence: number, ttlMs: number): Promise<boolean> {
    const renewed = await this.#run(`lease ${key}`, () => this.#client.eval(RENEW, { keys: [this.#key(key)], arguments: [String(fence), String(Math.ceil(ttlMs))] }));
    return Number(renewed) === 1;
  }

  async releaseLease(key: string, fence: number): Promise<void> {
    await this.#run(`lease ${key}`, () => this.#client.eval(RELEASE, { keys: [this.#key(key)], arguments: [String(fence)] }));
  }

  async saveObjFenced(key: string, data: Record<string, unknown>, leaseKey: string, fence: number): Promise<boolean> {
    const saved = await this.#run(`write ${key}`, () => this.#client.eval(SAVE, { keys: [this.#key(key), this.#key(leaseKey)], arguments: [JSON.stringify(data), String(fence)] }));
    return Number(saved) === 1;
  }

  /** Closes the connection; call it when the program is done with the session. */
  async close(): Promise<void> {
    try {
      if (this.#client.isReady) await this.#client.close();
      else this.#client.destroy();
    } catch {
      // Never connected, or already closed: nothing is held open.
    }
  }

  #key(key: string): string {
    const slash = key.lastIndexOf('/');
    return slash < 0 ? `${this.#prefix}{${key}}` : `${this.#prefix}{${key.slice(0, slash)}}${key.slice(slash)}`;
  }

  /** Runs one command, failing with a StateError (never hanging) when Redis does not answer in time. */
  async #run<T>(what: string, command: () => Promise<T>): Promise<T> {
    try {
      if (!this.#client.isReady) {
        // The first call connects; later ones fail fast while the client reconnects in the background.
        const first = this.#connecting === undefined;
        this.#connecting ??= this.#client.connect().catch(() => undefined);
        if (first) await deadline(this.#connecting, this.#timeoutMs);
        if (!this.#client.isReady) throw new Error('not connected');
      }
      return await deadline(command(), this.#timeoutMs);
    } catch (error) {
      if (error instanceof StateError) throw error;
      throw new StateError(
        ERR_STORAGE,
        this.#where,
        `cannot ${what}: Redis at ${this.#where} did not answer (${(error as Error).message}). Check that the server runs and that the URL points at it; the session in Redis was left as it was`,
        { cause: error },
      );
    }
  }
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
