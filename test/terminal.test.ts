// The CLI's interactive parts in a real terminal (tmux): the spinner while the
// browser login is awaited, the device-code countdown and QR code, the hidden
// secret prompt, the confirmation of profile remove. NO_COLOR, TERM=dumb and
// a pipe each get output without escape sequences.
import { mkdtempSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { M2M_CLIENT_ID, M2M_CLIENT_SECRET, USER_CLIENT_ID, startAuthServer, type RunningServer } from './server/auth-server.js';
import { runCli } from './support/cli.js';
import { tempHome } from './support/env.js';
import { findLeaks } from './support/secrets.js';
import { TerminalRun } from './support/tmux.js';
import { scriptedUserLogin } from './support/user-agent.js';

const ESC = '\u001b';
let server: RunningServer;
let home: string;
let env: Record<string, string>;
const runs: TerminalRun[] = [];

beforeAll(async () => {
  server = await startAuthServer();
});
afterAll(() => server.close());
beforeEach(() => {
  home = tempHome();
  env = { ...server.env(), HOME: home, TERM: 'xterm-256color' };
});
afterEach(() => {
  for (const run of runs.splice(0)) run.close();
});

function terminal(args: string[], extra: Record<string, string> = {}): TerminalRun {
  const run = TerminalRun.start(args, { ...env, ...extra });
  runs.push(run);
  return run;
}

const DEVICE_PROMPT = /open (\S+)\s+and check that it shows the code (\S+)\./;

/** Starts a device login in the terminal and waits for its countdown; the screen then. */
async function deviceLoginOnScreen(run: TerminalRun): Promise<{ screen: string; url: string }> {
  const screen = await run.waitFor('the device code and its countdown', (s) => DEVICE_PROMPT.test(s) && /Waiting for the login to complete\.\.\. \d+:\d\d left/.test(s));
  return { screen, url: DEVICE_PROMPT.exec(screen)![1]! };
}

test('device login: URL, code, QR code and a live countdown on screen; then logged in', async () => {
  const run = terminal(['login', 'device', '--client-id', USER_CLIENT_ID, '--profile', 'tty', '--show-qr-code']);
  const { screen, url } = await deviceLoginOnScreen(run);
  const qrRows = screen.split('\n').filter((line) => /^[▀▄█ ]{20,}$/.test(line));
  expect(qrRows.length).toBeGreaterThanOrEqual(10);
  expect(screen).toMatch(/^[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏] Waiting for the login to complete\.\.\. (9|10):\d\d left$/m);
  // On a colour terminal the code is bold and the progress line is redrawn in place.
  expect(run.output()).toContain(`${ESC}[1m`);
  expect(run.output()).toContain(`\r${ESC}[2K`);

  await scriptedUserLogin(url);
  expect(await run.exitCode()).toBe(0);
  const done = run.screen();
  expect(done).toContain('Logged in: profile tty (device).');
  expect(done).not.toMatch(/Waiting for the login/);
  expect(existsSync(join(home, '.planet/tty/token.json'))).toBe(true);
}, 60_000);

test('browser login: a spinner while the browser is awaited; then logged in', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'planet-browser-'));
  const urlFile = join(dir, 'url');
  writeFileSync(join(dir, 'browser.sh'), `printf '%s' "$1" > ${urlFile}\n`);
  const run = terminal(['login', 'browser', '--client-id', USER_CLIENT_ID, '--profile', 'web'], { BROWSER: `sh ${join(dir, 'browser.sh')}` });
  const screen = await run.waitFor('the spinner', (s) => /^[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏] Waiting for the login in the browser\.\.\.$/m.test(s));
  // The URL stays on screen above the spinner, in case no browser shows up.
  expect(screen).toContain('open this URL in a browser:');
  const first = /^(.) Waiting/m.exec(screen)![1];
  await run.waitFor('the spinner turning', (s) => /^(.) Waiting/m.exec(s)?.[1] !== first);
  // The browser command runs detached: wait until it has written down the URL it was given.
  await run.waitFor('the browser started', () => existsSync(urlFile) && readFileSync(urlFile, 'utf8').startsWith('http'));
  await scriptedUserLogin(readFileSync(urlFile, 'utf8'));
  expect(await run.exitCode()).toBe(0);
  expect(run.screen()).toContain('Logged in: profile web (browser).');
  expect(run.screen()).not.toContain('Waiting for the login');
}, 60_000);

test('service account: the secret prompt does not echo what is typed', async () => {
  const run = terminal(['login', 'service-account', '--client-id', M2M_CLIENT_ID, '--profile', 'robot']);
  await run.waitFor('the secret prompt', (s) => /^Client secret:$/m.test(s));
  run.type(M2M_CLIENT_SECRET);
  run.keys('Enter');
  expect(await run.exitCode()).toBe(0);
  const screen = run.screen();
  expect(screen).toContain('Logged in: profile robot (service-account).');
  expect(findLeaks({ what: 'login service-account', stdout: screen, stderr: run.output() })).toEqual([]);
  expect(JSON.parse(readFileSync(join(home, '.planet/robot/auth_client.json'), 'utf8'))).toMatchObject({ client_id: M2M_CLIENT_ID });
}, 60_000);

test('profile remove asks on the terminal: "n" keeps the profile, "y" removes it', async () => {
  expect((await runCli(['login', 'service-account', '--client-id', M2M_CLIENT_ID, '--profile', 'old'], { ...env, PL_AUTH_CLIENT_SECRET: M2M_CLIENT_SECRET })).code).toBe(0);
  const answer = async (key: string) => {
    const run = terminal(['profile', 'remove', 'old']);
    await run.waitFor('the question', (s) => s.includes('Remove profile "old" (~/.planet/old: client settings and session)? [y/N]'));
    run.type(key);
    run.keys('Enter');
    return { code: await run.exitCode(), screen: run.screen() };
  };
  const kept = await answer('n');
  expect(kept.code).toBe(1);
  expect(kept.screen).toContain('profile "old" was not removed');
  expect(existsSync(join(home, '.planet/old'))).toBe(true);

  const removed = await answer('y');
  expect(removed.code).toBe(0);
  expect(removed.screen).toContain('Removed profile old (session revoked).');
  expect(existsSync(join(home, '.planet/old'))).toBe(false);
}, 60_000);

describe('plain output: no escape sequence with NO_COLOR, TERM=dumb or a pipe', () => {
  test('NO_COLOR: the countdown still moves, redrawn with a carriage return only', async () => {
    const run = terminal(['login', 'device', '--client-id', USER_CLIENT_ID, '--profile', 'plain'], { NO_COLOR: '1' });
    const { url } = await deviceLoginOnScreen(run);
    await run.waitFor('a redrawn progress line', (s) => /[⠙⠹⠸⠼⠴⠦⠧⠇⠏] Waiting for the login to complete/.test(s));
    await scriptedUserLogin(url);
    expect(await run.exitCode()).toBe(0);
    expect(run.output()).toContain('\r');
    expect(run.output()).not.toContain(ESC);
  }, 60_000);

  test('TERM=dumb: each line written once, nothing redrawn', async () => {
    const run = terminal(['login', 'device', '--client-id', USER_CLIENT_ID, '--profile', 'dumb'], { TERM: 'dumb' });
    const screen = await run.waitFor('the device code', (s) => DEVICE_PROMPT.test(s) && s.includes('Waiting for the login to complete'));
    await scriptedUserLogin(DEVICE_PROMPT.exec(screen)![1]!);
    expect(await run.exitCode()).toBe(0);
    const output = run.output();
    expect(output).not.toContain(ESC);
    expect(output.match(/Waiting for the login to complete/g)).toHaveLength(1);
    expect(output.replace(/\r\n/g, '\n')).not.toContain('\r');
  }, 60_000);

  test('a pipe: progress written once as plain lines, results on stdout', async () => {
    let user: Promise<unknown> | undefined;
    const run = await runCli(['login', 'device', '--client-id', USER_CLIENT_ID, '--profile', 'piped'], env, (stderr) => {
      const match = DEVICE_PROMPT.exec(stderr);
      if (match && !user) user = scriptedUserLogin(match[1]!);
    });
    await user;
    expect(run.code).toBe(0);
    expect(run.stderr + run.stdout).not.toContain(ESC);
    expect(run.stderr).not.toContain('\r');
    expect(run.stderr.match(/Waiting for the login to complete/g)).toHaveLength(1);
    expect(run.stdout).toBe('Logged in: profile piped (device).\n');
  }, 60_000);
});
