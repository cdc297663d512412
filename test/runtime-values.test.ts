// Values the generator refuses in the spec, refused by the built SDK too when
// they arrive at run time from the application's code or the environment:
// the constraints come from the runtime registry, the one source both read.
// Each case runs in a process of its own against generated/dist, with its own
// HOME and environment, and makes no request.
import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { resolve } from 'node:path';
import { tempHome } from './support/env.js';
import { ISSUER_SCHEMES, OPTIONS, PATH_SEGMENT } from '../templates/runtime/registry.js';

const SDK = resolve(import.meta.dirname, '..', 'generated', 'dist', 'index.js');

interface Outcome {
  readonly ok: boolean;
  readonly name?: string;
  readonly code?: string;
  readonly message?: string;
}

/** Evaluates `expression` (an Auth factory call) with the built SDK: what it threw, or ok. */
function attempt(expression: string, env: Record<string, string> = {}): Outcome {
  const home = tempHome();
  try {
    const script = `import { Auth } from ${JSON.stringify(SDK)};
try { ${expression}; console.log(JSON.stringify({ ok: true })); }
catch (e) { console.log(JSON.stringify({ ok: false, name: e?.constructor?.name, code: e?.code, message: e?.message })); }`;
    const run = spawnSync(process.execPath, ['--input-type=module', '-e', script], { env: { PATH: process.env['PATH'] ?? '', HOME: home, ...env }, encoding: 'utf8', timeout: 30_000 });
    if (run.status !== 0) throw new Error(`the script failed (${run.status}): ${run.stderr}`);
    return JSON.parse(run.stdout) as Outcome;
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
}

const USER = "Auth.fromOAuthUserDeviceCode({ clientId: 'demo-user-app'";
const M2M = "Auth.fromOAuthM2M({ clientId: 'demo-service-account', clientSecret: 'not-a-real-secret'";

test("requestTimeoutSeconds from code outside the registry's range is a ConfigError naming the option and the range", () => {
  const range = OPTIONS.requestTimeoutSeconds.range;
  for (const value of [range.above, -1, range.max + 1]) {
    const outcome = attempt(`${M2M}, requestTimeoutSeconds: ${value} })`);
    expect(outcome).toMatchObject({ ok: false, name: 'ConfigError', code: 'ERR_CONFIG' });
    expect(outcome.message).toContain(`option requestTimeoutSeconds of fromOAuthM2M() is ${value}, out of range`);
    expect(outcome.message).toContain(`more than ${range.above} and at most ${range.max}`);
  }
  expect(attempt(`${M2M}, requestTimeoutSeconds: ${range.max} })`)).toEqual({ ok: true });
  expect(attempt(`${USER}, requestTimeoutSeconds: 0.5 })`)).toEqual({ ok: true });
});

test('a plain-http issuer on another machine, from the environment or the code, is a ConfigError when the session is made, unless allowInsecureHttp', () => {
  expect(ISSUER_SCHEMES['http:']).toBe('loopback only');
  const fromEnv = attempt(`${USER} })`, { PLANET_AUTH_ISSUER: 'http://auth.example.com/' });
  expect(fromEnv).toMatchObject({ ok: false, name: 'ConfigError', code: 'ERR_CONFIG' });
  expect(fromEnv.message).toContain('$PLANET_AUTH_ISSUER http://auth.example.com/ must use https');
  const fromCode = attempt(`${M2M}, issuer: 'http://auth.example.com/' })`);
  expect(fromCode).toMatchObject({ ok: false, name: 'ConfigError' });
  expect(fromCode.message).toContain('option issuer http://auth.example.com/ must use https');
  expect(attempt(`${USER}, allowInsecureHttp: true })`, { PLANET_AUTH_ISSUER: 'http://auth.example.com/', PLANET_AUTH_AUDIENCE: 'https://api.example.com/' })).toEqual({ ok: true });
  expect(attempt(`${USER} })`, { PLANET_AUTH_ISSUER: 'http://127.0.0.1:9/', PLANET_AUTH_AUDIENCE: 'https://api.example.com/' })).toEqual({ ok: true });
  expect(attempt(`${USER} })`, { PLANET_AUTH_ISSUER: 'https://auth.example.com/', PLANET_AUTH_AUDIENCE: 'https://api.example.com/' })).toEqual({ ok: true });
});

test('an issuer scheme the registry does not list is a ConfigError, whatever allowInsecureHttp says', () => {
  expect(Object.keys(ISSUER_SCHEMES)).not.toContain('ftp:');
  const outcome = attempt(`${USER}, allowInsecureHttp: true })`, { PLANET_AUTH_ISSUER: 'ftp://auth.example.com/' });
  expect(outcome).toMatchObject({ ok: false, name: 'ConfigError' });
  expect(outcome.message).toContain('$PLANET_AUTH_ISSUER "ftp://auth.example.com/" uses ftp:');
});

test('profile names that could leave the sessions folder, from code or the environment, are refused before anything is read or written', () => {
  const segment = new RegExp(PATH_SEGMENT);
  for (const name of ['..', '.', '../escape', 'a/b', 'a\\b', 'x'.repeat(201)]) {
    expect(segment.test(name)).toBe(false);
    const outcome = attempt(`${USER}, profileName: ${JSON.stringify(name)} })`);
    expect(outcome).toMatchObject({ ok: false, name: 'ProfileError', code: 'ERR_PROFILE' });
    expect(outcome.message).toContain('is not allowed: use one plain name');
  }
  const fromEnv = attempt('Auth.fromUserDefaultSession()', { PL_AUTH_PROFILE: '..' });
  expect(fromEnv).toMatchObject({ ok: false, name: 'ProfileError' });
  expect(fromEnv.message).toContain('profile name ".." is not allowed');
  expect(attempt(`${USER}, profileName: 'My-App_2.work' })`)).toEqual({ ok: true });
  // Names the Python CLI allows stay usable here.
  expect(attempt(`${USER}, profileName: 'work@home' })`)).toEqual({ ok: true });
});
