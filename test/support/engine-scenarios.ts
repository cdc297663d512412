// Engine scenarios shared by the tests (short runs) and `npm run stress`
// (long runs): a clock that disagrees with the server's, and storage whose
// writes fail right after a refresh.
import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { Auth, type ObjectStorageProvider } from '../../generated/src/index.js';
import type { RunningServer } from '../server/auth-server.js';
import { tempHome } from './env.js';
import { expiredToken } from './scenarios.js';
import { scriptedUserLogin } from './user-agent.js';

const SHIFTED_CLOCK = resolve(import.meta.dirname, 'workers/shifted-clock.mjs');

/** Runs node with `args` without blocking this process, which may serve the embedded server. */
export function runNode(args: string[], env: Record<string, string | undefined>): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolveRun) => {
    execFile(process.execPath, args, { env, encoding: 'utf8', timeout: 60_000 }, (error, stdout, stderr) => {
      resolveRun({ status: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

export interface ClockSkewResult {
  readonly shiftSeconds: number;
  readonly runs: number;
  readonly failedRuns: number;
  readonly tokenRequests: number;
}

/** `runs` processes in turn, each with its clock `shiftSeconds` off, share one service account profile. */
export async function clockSkewRuns(server: RunningServer, shiftSeconds: number, runs: number, callsPerRun = 3): Promise<ClockSkewResult> {
  const home = tempHome();
  server.resetCounts();
  let failedRuns = 0;
  for (let i = 0; i < runs; i++) {
    const run = await runNode([SHIFTED_CLOCK, String(shiftSeconds), String(callsPerRun)], { ...process.env, ...server.env(), HOME: home });
    const line = run.stdout.trim();
    if (run.status !== 0 || line !== JSON.stringify({ ok: true, distinct: 1 })) failedRuns++;
  }
  return { shiftSeconds, runs, failedRuns, tokenRequests: server.count('token:client_credentials') };
}

/** Application storage in a Map whose next writes can be made to fail. */
export class FlakyStorage implements ObjectStorageProvider {
  readonly objects = new Map<string, Record<string, unknown>>();
  /** Writes that succeed before `failWrites` failures start (the first write of a refresh only proves storage takes writes). */
  passWrites = 0;
  failWrites = 0;
  failReads = false;
  async loadObj(key: string) {
    if (this.failReads) throw new Error('storage offline');
    const value = this.objects.get(key);
    if (!value) throw new Error(`no object ${key}`);
    return structuredClone(value);
  }
  async saveObj(key: string, data: Record<string, unknown>) {
    if (this.passWrites > 0) {
      this.passWrites--;
    } else if (this.failWrites > 0) {
      this.failWrites--;
      throw new Error('disk full');
    }
    this.objects.set(key, structuredClone(data));
  }
  async objExists(key: string) {
    if (this.failReads) throw new Error('storage offline');
    return this.objects.has(key);
  }
  async mtime() {
    return Date.now() / 1000;
  }
  async objRename(src: string, dst: string) {
    const value = this.objects.get(src);
    if (!value) throw new Error(`no object ${src}`);
    this.objects.set(dst, value);
    this.objects.delete(src);
  }
  async deleteObj(key: string) {
    this.objects.delete(key);
  }
}

export interface WriteFailureResult {
  readonly rounds: number;
  readonly storageErrors: number;
  readonly refreshes: number;
  readonly lostSessions: number;
}

/**
 * A user session (rotating refresh tokens) whose storage fails the write
 * right after each of `rounds` refreshes: every round must report
 * ERR_STORAGE, save on the next call, and leave a session that refreshes.
 */
export async function writeFailureRounds(server: RunningServer, clientId: string, rounds: number): Promise<WriteFailureResult> {
  const storage = new FlakyStorage();
  const key = '.planet/flaky/token.json';
  const make = () => Auth.fromOAuthUserDeviceCode({ clientId, storageProvider: storage, profileName: 'flaky' });
  const first = make();
  const info = await first.deviceUserLoginInitiate();
  const done = first.deviceUserLoginComplete(info);
  await scriptedUserLogin(info.verificationUriComplete!);
  await done;
  server.resetCounts();
  let storageErrors = 0;
  let lostSessions = 0;
  for (let i = 0; i < rounds; i++) {
    storage.objects.set(key, expiredToken(storage.objects.get(key)!));
    const auth = make();
    storage.passWrites = 1;
    storage.failWrites = 1;
    const error = await auth.getAccessToken().then(
      () => undefined,
      (e: { code?: string }) => e,
    );
    if (error?.code === 'ERR_STORAGE') storageErrors++;
    await new Promise((r) => setTimeout(r, 1_050));
    const saved = await auth.getAccessToken().then(
      (token) => storage.objects.get(key)?.['access_token'] === token,
      () => false,
    );
    if (!saved) lostSessions++;
  }
  // The saved refresh token still works: nobody reused a spent one.
  const survived = await make()
    .refresh()
    .then(
      () => true,
      () => false,
    );
  if (!survived) lostSessions++;
  return { rounds, storageErrors, refreshes: server.count('token:refresh_token'), lostSessions };
}
