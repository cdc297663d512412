// A private OS keychain for a test, the demo or a stress run: its own D-Bus
// session (dbus-run-session) with gnome-keyring's Secret Service unlocked
// with a test password, never the desktop's. Child processes reach it through
// the `env` it returns; it ends when stopped, or when this process dies (the
// session's last command waits on a pipe from here).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const KEYCHAIN_INSTALL_HINT = 'install them with: apt-get install gnome-keyring dbus libsecret-tools (Debian/Ubuntu)';
const NEEDED = ['dbus-run-session', 'gnome-keyring-daemon', 'secret-tool'] as const;

/** The commands a private keychain needs that are not installed. */
export function keychainToolsMissing(): string[] {
  return NEEDED.filter((name) => spawnSync('sh', ['-c', `command -v ${name}`]).status !== 0);
}

/**
 * Whether the tests of `what` can run: false (with a message) when the
 * keychain tools are missing; with CI=true a missing one is an error instead.
 */
export function keychainForTests(what: string): boolean {
  const missing = keychainToolsMissing();
  if (missing.length === 0) return true;
  if (process.env['CI'] === 'true') throw new Error(`${missing.join(', ')} missing; CI must install them (${KEYCHAIN_INSTALL_HINT})`);
  console.warn(`${missing.join(', ')} not found: ${what} are skipped (${KEYCHAIN_INSTALL_HINT})`);
  return false;
}

export interface RunningKeychain {
  /** Environment that points a child process at this keychain. */
  readonly env: { readonly DBUS_SESSION_BUS_ADDRESS: string };
  /** `secret-tool` with `args`, in this session: its stdout (the secret for `lookup`), or undefined when it found nothing. */
  secretTool(args: string[]): string | undefined;
  /** Ends the session: the bus and the keyring daemon go with it. */
  stop(): Promise<void>;
}

const SESSION_SCRIPT = [
  // gnome-keyring prints its environment; only the bus address is wanted.
  'printf %s "$KEYRING_PASSWORD" | gnome-keyring-daemon --unlock --components=secrets >/dev/null',
  'echo "BUS=$DBUS_SESSION_BUS_ADDRESS"',
  // Until the test closes the pipe (or dies): then the session ends.
  'cat >/dev/null',
].join('; ');

export async function startKeychain(): Promise<RunningKeychain> {
  // The keyring files go to a folder of this session's own, so it never meets the account's keyring or another run's.
  const dir = mkdtempSync(join(tmpdir(), 'planet-keyring-'));
  const child: ChildProcess = spawn('dbus-run-session', ['--', 'sh', '-c', SESSION_SCRIPT], {
    stdio: ['pipe', 'pipe', 'pipe'],
    env: {
      PATH: process.env['PATH'] ?? '',
      HOME: dir,
      XDG_DATA_HOME: join(dir, 'data'),
      XDG_RUNTIME_DIR: dir,
      XDG_CONFIG_HOME: join(dir, 'config'),
      XDG_CACHE_HOME: join(dir, 'cache'),
      KEYRING_PASSWORD: 'test-keyring-password',
    },
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let log = '';
  child.stderr!.setEncoding('utf8').on('data', (c: string) => (log = (log + c).slice(-4000)));
  const address = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout!.setEncoding('utf8').on('data', (c: string) => {
      out += c;
      const match = /BUS=(\S+)/.exec(out);
      if (match) resolve(match[1]!);
    });
    child.once('exit', (code) => reject(new Error(`the private D-Bus session ended before it was ready (exit ${code}): ${log}`)));
  });
  const env = { DBUS_SESSION_BUS_ADDRESS: address };
  return {
    env,
    secretTool(args) {
      const run = spawnSync('secret-tool', args, { env: { PATH: process.env['PATH'] ?? '', ...env }, encoding: 'utf8', timeout: 20_000 });
      return run.status === 0 && run.stdout !== '' ? run.stdout : undefined;
    },
    async stop() {
      child.stdin!.end();
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
