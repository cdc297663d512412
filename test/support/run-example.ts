// Runs one generated example program as a user would (a child process, the
// file unchanged), pointed at the embedded server by environment variables.
// A device login is completed by reading the example's own output.
import { spawn } from 'node:child_process';
import { basename, isAbsolute, join, resolve } from 'node:path';
import type { RunningServer } from '../server/auth-server.js';
import { browserCommand } from './env.js';
import { assertNoLeaks } from './secrets.js';
import { scriptedUserLogin } from './user-agent.js';

const ROOT = resolve(import.meta.dirname, '..', '..');

export type BrowserMode = 'chromium' | 'scripted';

export interface ExampleRun {
  readonly example: string;
  readonly exitCode: number | null;
  readonly stdout: string;
  readonly stderr: string;
  /** Logins the server saw: authorization requests, device authorizations and client credentials grants. */
  readonly logins: number;
  readonly tokenRequests: number;
  readonly authServerRequests: number;
  readonly apiItems: number;
  readonly counts: Record<string, number>;
  /** What completed a device login, if one was needed. */
  readonly deviceUser?: string;
}

export const EXAMPLES_DIR = join(ROOT, 'generated', 'examples');

export function exampleParts(example: string): { storage: string; flow: string } {
  const [storage, flow] = example.replace(/\.ts$/, '').split(/__(.*)/s);
  return { storage: storage!, flow: flow! };
}

/** Runs `example`: a file name in generated/examples, or the absolute path of one generated elsewhere. */
export async function runExample(server: RunningServer, example: string, home: string, browser: BrowserMode, timeoutMs = 90_000, env: Record<string, string> = {}): Promise<ExampleRun> {
  server.resetCounts();
  const child = spawn(process.execPath, ['--import', 'tsx', isAbsolute(example) ? example : join(EXAMPLES_DIR, example)], {
    cwd: ROOT,
    env: { ...process.env, ...server.env(), HOME: home, BROWSER: browserCommand(), PLANET_TEST_BROWSER: browser, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  let deviceUser: Promise<string> | undefined;
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
    // "Open <url> in a browser and ... the code <code>." is what the example tells its user.
    const match = /Open (\S+) in a browser and (?:check that it shows|enter) the code (\S+?)\./.exec(stdout);
    if (match && !deviceUser) {
      const [, url, code] = match;
      deviceUser = scriptedUserLogin(url!, { userCode: code! }).then(
        (r) => (r.finalBody.includes(code!) || /signed in/i.test(r.finalBody) ? 'scripted user' : 'scripted user (unexpected page)'),
        (e: Error) => `scripted user failed: ${e.message}`,
      );
    }
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const exitCode = await new Promise<number | null>((done) => child.on('close', (code) => done(code)));
  clearTimeout(timer);
  assertNoLeaks({ what: basename(example), stdout, stderr });
  const counts = server.counts();
  const sum = (pred: (key: string) => boolean) =>
    Object.entries(counts)
      .filter(([k]) => pred(k))
      .reduce((n, [, v]) => n + v, 0);
  const apiItems = stdout
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .filter((line) => {
      try {
        return typeof (JSON.parse(line) as { id?: unknown }).id === 'string';
      } catch {
        return false;
      }
    }).length;
  return {
    example,
    exitCode,
    stdout,
    stderr,
    logins: (counts['authorization'] ?? 0) + (counts['device_authorization'] ?? 0) + (counts['token:client_credentials'] ?? 0),
    tokenRequests: sum((k) => k.startsWith('token:')),
    authServerRequests: server.authServerRequests(),
    apiItems,
    counts,
    ...(deviceUser ? { deviceUser: await deviceUser } : {}),
  };
}
