// One machine of a fleet: `workers` independent workers in one process (each
// with its own Auth, Session and Redis connection, so they share nothing but
// Redis), calling the demo API until `durationMs` has passed. Prints one
// JSON line of counts; never a token. With `rounds`, it runs in steps
// instead: for each line `round` on stdin, `workers` new workers make one
// call each at the same moment, and it prints that round's counts.
import { Auth, Session } from '@planet-auth/sdk';
import { RedisStorageProvider } from '../../../generated/examples/providers/redis_shared.js';

interface GroupConfig {
  readonly flow: 'user' | 'service';
  /** `redis`: every worker shares the profile in Redis; `own`: each keeps its own session in memory. */
  readonly storage: 'redis' | 'own';
  readonly profile: string;
  readonly workers: number;
  readonly durationMs: number;
  readonly pauseMs: number;
  readonly redisUrl: string;
  readonly clientId: string;
  readonly clientSecret: string;
  /** Epoch ms at which every worker starts, so groups start together. */
  readonly startAt: number;
  /** Step mode: one round of calls per `round` line on stdin, until stdin ends. */
  readonly rounds?: boolean;
}

const config = JSON.parse(process.argv[2]!) as GroupConfig;
const failures: Record<string, number> = {};
let ok = 0;
let lost = 0;
const fail = (reason: string) => (failures[reason] = (failures[reason] ?? 0) + 1);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function makeWorker(): { session: Session; provider: RedisStorageProvider | undefined } {
  const provider = config.storage === 'redis' ? new RedisStorageProvider(config.redisUrl) : undefined;
  const common = provider ? { profileName: config.profile, storageProvider: provider } : { saveStateToStorage: false };
  const auth = config.flow === 'user' ? Auth.fromOAuthUserDeviceCode({ clientId: config.clientId, ...common }) : Auth.fromOAuthM2M({ clientId: config.clientId, clientSecret: config.clientSecret, ...common });
  return { session: new Session(auth), provider };
}

async function call(session: Session): Promise<void> {
  try {
    const response = await session.fetch('/data/v1/searches');
    await response.arrayBuffer();
    if (response.ok) ok++;
    else fail(`HTTP ${response.status}`);
  } catch (error) {
    const code = (error as { code?: string }).code ?? (error as Error).name;
    if (code === 'ERR_NOT_LOGGED_IN') lost++;
    fail(code);
  }
}

async function worker(index: number): Promise<void> {
  const { session, provider } = makeWorker();
  await sleep(Math.max(0, config.startAt - Date.now()) + index * 7);
  const end = config.startAt + config.durationMs;
  while (Date.now() < end) {
    await call(session);
    await sleep(config.pauseMs * (0.5 + Math.random()));
  }
  await provider?.close();
}

if (config.rounds) {
  let rounds = Promise.resolve();
  process.stdin.setEncoding('utf8');
  process.stdin.on('data', (chunk: string) => {
    const asked = chunk.split('\n').filter((line) => line.trim() === 'round').length;
    for (let i = 0; i < asked; i++) {
      rounds = rounds.then(async () => {
        ok = 0;
        lost = 0;
        for (const reason of Object.keys(failures)) delete failures[reason];
        // New workers, so each reads the session from Redis; all call at once.
        const workers = Array.from({ length: config.workers }, makeWorker);
        await Promise.all(workers.map((w) => call(w.session)));
        await Promise.all(workers.map(async (w) => w.provider?.close()));
        process.stdout.write(`${JSON.stringify({ ok, failures, lost })}\n`);
      });
    }
  });
  await new Promise((resolve) => process.stdin.on('end', resolve));
  await rounds;
} else {
  await Promise.all(Array.from({ length: config.workers }, (_, i) => worker(i)));
  process.stdout.write(`${JSON.stringify({ ok, failures, lost })}\n`);
}
