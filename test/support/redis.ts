// A private redis-server for a test, the demo or a benchmark: its own
// temporary folder and a free port on 127.0.0.1, no persistence unless asked
// (then an append-only file fsynced on every write, so a SIGKILL loses
// nothing), and stopped by whoever started it.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const REDIS_INSTALL_HINT = 'install it with: apt-get install redis-server (Debian/Ubuntu), brew install redis (macOS), or point PLANET_EXAMPLE_REDIS_URL at a Redis 6+ server';

/** Path of redis-server, or undefined when it is not installed. */
export function redisServerPath(): string | undefined {
  const found = spawnSync('sh', ['-c', 'command -v redis-server'], { encoding: 'utf8' });
  return found.status === 0 ? found.stdout.trim() || undefined : undefined;
}

export interface RunningRedis {
  readonly url: string;
  readonly port: number;
  readonly dir: string;
  /** Kills the server with `signal` and waits until it is gone. */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** Sends `signal` (SIGSTOP, SIGCONT) without waiting for anything. */
  signal(signal: NodeJS.Signals): void;
  /** Starts it again on the same port and folder (an append-only file is replayed). */
  restart(): Promise<void>;
  /** Stops it and removes its folder. */
  stop(): Promise<void>;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** One PING over a raw socket: true when the server answers (PONG, or NOAUTH from one that wants a password). */
function ping(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    let answer = '';
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1000, () => done(false));
    socket.on('error', () => done(false));
    socket.on('connect', () => socket.write('*1\r\n$4\r\nPING\r\n'));
    socket.on('data', (chunk) => {
      answer += chunk.toString('utf8');
      if (answer.includes('\r\n')) done(answer.startsWith('+PONG') || answer.startsWith('-NOAUTH'));
    });
  });
}

export interface RedisOptions {
  readonly appendOnly?: boolean;
  /** More server arguments, such as ['--maxmemory-policy', 'allkeys-lru'] or ['--requirepass', 'x']. */
  readonly args?: readonly string[];
}

export async function startRedis(options: RedisOptions = {}): Promise<RunningRedis> {
  const binary = redisServerPath();
  if (!binary) throw new Error(`redis-server is not installed; ${REDIS_INSTALL_HINT}`);
  const dir = mkdtempSync(join(tmpdir(), 'planet-redis-'));
  const port = await freePort();
  const args = [
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--dir',
    dir,
    '--save',
    '',
    '--daemonize',
    'no',
    '--loglevel',
    'warning',
    '--appendonly',
    options.appendOnly ? 'yes' : 'no',
    '--appendfsync',
    'always',
    ...(options.args ?? []),
  ];
  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();
  let log = '';
  const launch = async () => {
    const started = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    child = started;
    exited = new Promise((resolve) => started.once('exit', () => resolve()));
    for (const stream of [started.stdout, started.stderr]) stream.setEncoding('utf8').on('data', (c: string) => (log = (log + c).slice(-4000)));
    for (let attempt = 0; attempt < 200; attempt++) {
      if (started.exitCode !== null) break;
      if (await ping(port)) return;
      await new Promise((r) => setTimeout(r, 25));
    }
    started.kill('SIGKILL');
    throw new Error(`redis-server did not start on port ${port}:\n${log}`);
  };
  const kill = async (signal: NodeJS.Signals = 'SIGTERM') => {
    if (child && child.exitCode === null && child.signalCode === null) {
      child.kill(signal);
      await exited;
    }
  };
  await launch();
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    dir,
    kill,
    signal: (signal) => void child?.kill(signal),
    restart: launch,
    stop: async () => {
      await kill('SIGTERM');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * Whether the tests of `what` can run: false (with a message) when
 * redis-server is missing; with CI=true a missing one is an error instead.
 */
export function redisForTests(what: string): boolean {
  if (redisServerPath() !== undefined) return true;
  if (process.env['CI'] === 'true') throw new Error(`redis-server is missing; CI must install it (${REDIS_INSTALL_HINT})`);
  console.warn(`redis-server not found: ${what} are skipped (${REDIS_INSTALL_HINT})`);
  return false;
}
