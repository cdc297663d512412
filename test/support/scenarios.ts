// Reliability scenarios shared by the tests (short runs) and `npm run stress`
// (long runs): many processes on one profile, a killed lock holder, writers
// killed mid-write.
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { readJsonFileSync } from '../../generated/src/runtime/profile.js';
import { FileStore } from '../../generated/src/runtime/store.js';
import type { RunningServer } from '../server/auth-server.js';

const WORKERS = resolve(import.meta.dirname, 'workers');

export interface Child {
  readonly pid: number;
  readonly stdout: Promise<string>;
  readonly kill: () => void;
  /** Sends a signal such as SIGSTOP or SIGCONT. */
  readonly signal: (name: NodeJS.Signals) => void;
  /** Writes a line to the child's stdin. */
  readonly send: (line: string) => void;
  readonly firstLine: Promise<string>;
  /** The `index`-th line (from 0) the child prints. */
  readonly line: (index: number) => Promise<string>;
  readonly exited: Promise<number | null>;
}

export function start(script: string, args: string[], env: Record<string, string>): Child {
  const child = spawn(process.execPath, [join(WORKERS, script), ...args], { env: { ...process.env, ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  const waiting: { index: number; resolve: (line: string) => void }[] = [];
  const settle = () => {
    const lines = out.split('\n');
    for (const w of waiting.splice(0)) {
      if (w.index < lines.length - 1) w.resolve(lines[w.index]!);
      else waiting.push(w);
    }
  };
  child.stdout.setEncoding('utf8').on('data', (c: string) => {
    out += c;
    settle();
  });
  child.stderr.resume();
  child.stdin.on('error', () => undefined);
  const exited = new Promise<number | null>((r) => child.on('close', (code) => r(code)));
  const line = (index: number) =>
    new Promise<string>((resolve) => {
      waiting.push({ index, resolve });
      settle();
    });
  return {
    pid: child.pid!,
    stdout: exited.then(() => out),
    kill: () => child.kill('SIGKILL'),
    signal: (name) => child.kill(name),
    send: (text) => child.stdin.write(`${text}\n`),
    firstLine: line(0),
    line,
    exited,
  };
}

/** A saved token with its times moved into the past, as if it had expired. */
export function expiredToken(data: Record<string, unknown>): Record<string, unknown> {
  const now = Math.floor(Date.now() / 1000);
  return { ...data, _iat: now - 7200, _exp: now - 3600 };
}

/** Rewrites a token file as if its access token had expired. */
export function expireTokenFile(path: string): void {
  writeFileSync(path, JSON.stringify(expiredToken(JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>), null, 2), { mode: 0o600 });
}

export interface RoundResult {
  readonly processes: number;
  readonly ok: number;
  readonly failures: string[];
  readonly tokenRequests: number;
  readonly distinctTokens: number;
}

/** `processes` processes ask for the expired token of `profile` at the same moment; `env` is added to theirs (such as a keychain's bus). */
export async function concurrentRound(server: RunningServer, home: string, profile: string, processes: number, env: Record<string, string> = {}): Promise<RoundResult> {
  expireTokenFile(join(home, '.planet', profile, 'token.json'));
  server.resetCounts();
  const startAt = String(Date.now() + 300 + processes * 40);
  const children = Array.from({ length: processes }, () => start('token-worker.mjs', [profile, startAt], { ...server.env(), HOME: home, ...env }));
  const lines = await Promise.all(children.map((c) => c.stdout));
  const results = lines.map((l) => JSON.parse(l.trim() || '{"ok":false,"code":"NO_OUTPUT"}') as { ok: boolean; token?: string; code?: string; message?: string });
  const counts = server.counts();
  return {
    processes,
    ok: results.filter((r) => r.ok).length,
    failures: results.filter((r) => !r.ok).map((r) => `${r.code}: ${r.message}`),
    tokenRequests: Object.entries(counts)
      .filter(([k]) => k.startsWith('token:'))
      .reduce((n, [, v]) => n + v, 0),
    distinctTokens: new Set(results.filter((r) => r.ok).map((r) => r.token)).size,
  };
}

/**
 * A writer alternating two states is killed at a random moment, `iterations`
 * times; after each kill the file must parse and hold one whole state.
 */
export async function crashWrites(iterations: number, seed = 1): Promise<{ kills: number; bad: string[]; leftoverTemps: number }> {
  const root = mkdtempSync(join(tmpdir(), 'crash-'));
  const path = join(root, '.planet', 'crash', 'token.json');
  let state = seed;
  const random = () => (state = (state * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  const bad: string[] = [];
  // Until one write has finished (a slow first fsync on a busy machine) there is no file yet, which is no harm.
  let written = false;
  for (let i = 0; i < iterations; i++) {
    const writer = start('state-writer.mjs', [root], {});
    await writer.firstLine;
    await new Promise((r) => setTimeout(r, 5 + random() * 40));
    writer.kill();
    await writer.exited;
    let text = '';
    try {
      text = readFileSync(path, 'utf8');
      written = true;
      const data = JSON.parse(text) as { access_token?: string; seq?: number; padding?: string };
      if (!['state-a', 'state-b'].includes(data.access_token ?? '') || data.padding?.length !== 8192 || typeof data.seq !== 'number') bad.push(`iteration ${i}: unexpected content`);
    } catch (error) {
      if (!(!written && (error as NodeJS.ErrnoException).code === 'ENOENT')) bad.push(`iteration ${i}: ${(error as Error).message}`);
    }
  }
  // The next successful write clears the temporary files the killed writers left.
  await new FileStore(root).saveObj('.planet/crash/token.json', { access_token: 'state-a', seq: -1, padding: 'x'.repeat(8192) });
  const leftoverTemps = readdirSync(join(root, '.planet', 'crash')).filter((n) => n.endsWith('.tmp')).length;
  return { kills: iterations, bad, leftoverTemps };
}

/**
 * A writer rewrites `token.json` in place (truncate, then write, as the
 * Python CLI does) in a loop while this process reads it `rounds` times with
 * each reader (the asynchronous store and the synchronous one the CLI uses).
 * Every read must give a whole state: one that reports the file as corrupt,
 * or gives anything else, is counted as false.
 */
export async function inPlaceReads(rounds: number): Promise<{ reads: number; falseCorruption: string[] }> {
  const home = mkdtempSync(join(tmpdir(), 'in-place-'));
  const folder = join(home, '.planet', 'in-place');
  mkdirSync(folder, { recursive: true });
  writeFileSync(join(folder, 'token.json'), '{"access_token": "first"}');
  const writer = start('inplace-writer.mjs', [join(folder, 'token.json')], {});
  const store = new FileStore(home);
  const falseCorruption: string[] = [];
  let reads = 0;
  try {
    await writer.firstLine;
    for (let round = 0; round < rounds; round++) {
      const readers = { 'FileStore.loadObj': () => store.loadObj('.planet/in-place/token.json'), readJsonFileSync: async () => readJsonFileSync(join(folder, 'token.json')) };
      for (const [reader, read] of Object.entries(readers)) {
        try {
          const data = await read();
          if (data?.['access_token'] !== 'written-in-place' && data?.['access_token'] !== 'first') falseCorruption.push(`${reader}: unexpected ${JSON.stringify(data).slice(0, 60)}`);
        } catch (error) {
          falseCorruption.push(`${reader}: ${(error as { code?: string }).code}`);
        }
        reads++;
      }
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
  } finally {
    writer.kill();
    await writer.exited;
  }
  return { reads, falseCorruption };
}
