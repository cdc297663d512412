// private_key_jwt (RFC 7523) end to end: a service account that signs a
// client assertion with its private key, against the embedded oidc-provider
// configured with the public key. The key comes from a PEM or JWK file or an
// environment variable; saved profiles keep where the key is, never the key.
import { generateKeyPairSync } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { Auth, ConfigError, Session, TokenRequestError } from '../generated/src/index.js';
import { M2M_CLIENT_ID, M2M_CLIENT_SECRET, M2M_KEY_CLIENT_ID, M2M_KEY_ID, makeServiceAccountKey, type RunningServer } from './server/auth-server.js';
import { runCli } from './support/cli.js';
import { browserCommand, tempHome } from './support/env.js';
import { expireTokenFile } from './support/scenarios.js';
import { filesWithSecrets } from './support/secrets.js';
import { useEmbeddedServer } from './support/server-fixture.js';

const fixture = useEmbeddedServer();
let server: RunningServer;
let home: string;
beforeEach(() => {
  server = fixture.server();
  home = fixture.home();
});

function keyAuth(privateKey: string, extra: { privateKeyId?: string; profileName?: string; saveStateToStorage?: boolean } = {}): Auth {
  return Auth.fromOAuthM2MPrivateKeyJwt({ clientId: M2M_KEY_CLIENT_ID, privateKey, saveStateToStorage: false, ...extra });
}

/** The error `promise` rejects with. */
async function failure(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a failure');
}

function writeScratch(name: string, text: string): string {
  const path = join(tempHome(), name);
  writeFileSync(path, text, { mode: 0o600 });
  return path;
}

test('a service account logs in with a PEM key: one token request carrying one client assertion, and the API accepts the token', async () => {
  const auth = keyAuth(server.serviceAccountKey.pemFile);
  const response = await new Session(auth).fetch('/data/v1/searches');
  expect(response.status).toBe(200);
  expect(server.count('token:client_credentials')).toBe(1);
  expect(server.count('client_assertion')).toBe(1);
  expect(server.tokenErrors()).toBe(0);
});

test('a JWK file works, its kid sent with the assertion', async () => {
  const jwkFile = writeScratch('key.jwk', JSON.stringify(server.serviceAccountKey.jwk));
  expect(await keyAuth(jwkFile).getAccessToken()).toMatch(/^ey/);
  expect(server.count('client_assertion')).toBe(1);
});

test('the key may come from an environment variable named with env:NAME, and the kid from an option', async () => {
  process.env['TEST_SERVICE_ACCOUNT_KEY'] = server.serviceAccountKey.pem;
  try {
    expect(await keyAuth('env:TEST_SERVICE_ACCOUNT_KEY', { privateKeyId: M2M_KEY_ID }).getAccessToken()).toMatch(/^ey/);
  } finally {
    delete process.env['TEST_SERVICE_ACCOUNT_KEY'];
  }
  expect(server.count('token:client_credentials')).toBe(1);
});

test('a key the server does not hold is refused with a hint about the key', async () => {
  const other = await makeServiceAccountKey(tempHome(), 'other-key');
  const error = await failure(keyAuth(other.key.pemFile).getAccessToken());
  expect(error).toBeInstanceOf(TokenRequestError);
  expect(error.message).toMatch(/refused the client's credentials|invalid_client/);
  expect((error as TokenRequestError).hint).toMatch(/private key is the one whose public key the server holds/);
  expect(server.count('client_assertion')).toBe(1);
  expect(server.tokenErrors()).toBe(1);
});

test('a missing key file is a one-line error naming the file, the option and the fix, before any token request', async () => {
  const missing = join(tempHome(), 'no-such-key.pem');
  const error = await failure(keyAuth(missing).getAccessToken());
  expect(error).toBeInstanceOf(ConfigError);
  expect(error.message).toContain(missing);
  expect(error.message).toContain('option privateKey');
  expect(error.message).toContain('--private-key');
  expect(error.message).not.toContain('\n');
  expect(server.count('token:client_credentials')).toBe(0);
});

describe('bad key input is a one-line error saying what to use', () => {
  const ec256k1 = generateKeyPairSync('ec', { namedCurve: 'secp256k1' });
  const cases: [string, () => string, RegExp][] = [
    ['text that is not a key', () => 'not a key at all', /neither PEM nor JWK/],
    ['a public key PEM', () => generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey.export({ type: 'spki', format: 'pem' }).toString(), /is a public key/],
    ['a public JWK', () => JSON.stringify({ ...server.serviceAccountKey.jwk, d: undefined, p: undefined, q: undefined, dp: undefined, dq: undefined, qi: undefined }), /is a public key/],
    ['a key of an unsupported curve', () => ec256k1.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), /secp256k1.*use an RSA \(RS256\), EC P-256/],
    ['a JWK Set', () => JSON.stringify({ keys: [server.serviceAccountKey.jwk] }), /not one JWK/],
    ['JSON that does not parse', () => '{ "kty": ', /not valid JSON/],
  ];
  test.each(cases)('%s', async (_name, text, expected) => {
    const error = await failure(keyAuth(writeScratch('bad.pem', text())).getAccessToken());
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.message).toMatch(expected);
    expect(error.message.split('\n')).toHaveLength(1);
    expect(server.count('token:client_credentials')).toBe(0);
  });
});

test('an unset key variable names the variable and what to set', async () => {
  const error = await failure(keyAuth('env:TEST_NO_SUCH_KEY_VARIABLE').getAccessToken());
  expect(error.message).toMatch(/environment variable TEST_NO_SUCH_KEY_VARIABLE \(option privateKey\) is not set; set TEST_NO_SUCH_KEY_VARIABLE/);
});

test('a saved profile keeps the key file path, never the key, and fromProfile logs in again with it when the token expires', async () => {
  const auth = keyAuth(server.serviceAccountKey.pemFile, { profileName: 'sa-key', saveStateToStorage: true });
  await auth.getAccessToken();
  expect(inspect(auth, { depth: 6 })).not.toContain(server.serviceAccountKey.pem.split('\n')[1]);
  const folder = join(home, '.planet', 'sa-key');
  const config = JSON.parse(readFileSync(join(folder, 'auth_client.json'), 'utf8')) as Record<string, unknown>;
  expect(config).toMatchObject({ client_type: 'oidc_client_credentials_pubkey', client_id: M2M_KEY_CLIENT_ID, client_privkey_file: server.serviceAccountKey.pemFile });
  expect(filesWithSecrets(home).filter((f) => f.includes('private key'))).toEqual([]);

  server.resetCounts();
  const again = Auth.fromProfile('sa-key');
  expect(await again.getAccessToken()).toMatch(/^ey/);
  expect(server.authServerRequests()).toBe(0);
  expireTokenFile(join(folder, 'token.json'));
  expect(await Auth.fromProfile('sa-key').getAccessToken()).toMatch(/^ey/);
  expect(server.count('token:client_credentials')).toBe(1);
  expect(server.count('client_assertion')).toBe(1);
});

describe('the CLI', () => {
  const cliEnv = () => ({ ...server.env(), HOME: home, BROWSER: browserCommand(), PLANET_TEST_BROWSER: 'scripted' });

  test('login service-account --private-key FILE logs in, status reports the session, and the profile holds only the reference', async () => {
    const login = await runCli(['login', 'service-account', '--client-id', M2M_KEY_CLIENT_ID, '--private-key', server.serviceAccountKey.pemFile, '--profile', 'cli-key'], cliEnv());
    expect(login).toMatchObject({ code: 0 });
    expect(login.stderr + login.stdout).toContain('Logged in: profile');
    expect(server.count('client_assertion')).toBe(1);
    const status = await runCli(['status', '--profile', 'cli-key', '--json'], cliEnv());
    expect(status.code).toBe(0);
    expect(JSON.parse(status.stdout)).toMatchObject({ profile: 'cli-key', client_id: M2M_KEY_CLIENT_ID, client_type: 'oidc_client_credentials_pubkey', logged_in: true, access_token_valid: true });
    const token = await runCli(['print-access-token', '--profile', 'cli-key'], cliEnv());
    expect(token.code).toBe(0);
    expect(token.stdout.trim()).toMatch(/^ey/);
    expect(filesWithSecrets(home).filter((f) => f.includes('private key'))).toEqual([]);
    const config = JSON.parse(readFileSync(join(home, '.planet', 'cli-key', 'auth_client.json'), 'utf8')) as Record<string, unknown>;
    expect(config['client_privkey_file']).toBe(server.serviceAccountKey.pemFile);
  });

  test('a profile moved from a client secret to a private key keeps no secret: the old one is removed from auth_client.json', async () => {
    const secretLogin = await runCli(['login', 'service-account', '--client-id', M2M_CLIENT_ID, '--client-secret', M2M_CLIENT_SECRET, '--profile', 'moved'], cliEnv());
    expect(secretLogin).toMatchObject({ code: 0 });
    const path = join(home, '.planet', 'moved', 'auth_client.json');
    expect(JSON.parse(readFileSync(path, 'utf8'))).toHaveProperty('client_secret', M2M_CLIENT_SECRET);
    const keyLogin = await runCli(['login', 'service-account', '--client-id', M2M_KEY_CLIENT_ID, '--private-key', server.serviceAccountKey.pemFile, '--profile', 'moved'], cliEnv());
    expect(keyLogin).toMatchObject({ code: 0 });
    const config = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
    expect(config).not.toHaveProperty('client_secret');
    expect(config).toMatchObject({ client_id: M2M_KEY_CLIENT_ID, client_privkey_file: server.serviceAccountKey.pemFile, client_type: 'oidc_client_credentials_pubkey' });
    expect(filesWithSecrets(home).filter((f) => f.includes('client secret'))).toEqual([]);
    const status = await runCli(['status', '--profile', 'moved', '--json'], cliEnv());
    expect(JSON.parse(status.stdout)).toMatchObject({ client_id: M2M_KEY_CLIENT_ID, logged_in: true });
  });

  test('a key moved from a file to a variable keeps only the variable: the old path and kid are removed from auth_client.json', async () => {
    const key = readFileSync(server.serviceAccountKey.pemFile, 'utf8');
    const fromFile = await runCli(['login', 'service-account', '--client-id', M2M_KEY_CLIENT_ID, '--private-key', server.serviceAccountKey.pemFile, '--key-id', M2M_KEY_ID, '--profile', 'key-moved'], cliEnv());
    expect(fromFile).toMatchObject({ code: 0 });
    const path = join(home, '.planet', 'key-moved', 'auth_client.json');
    expect(JSON.parse(readFileSync(path, 'utf8'))).toMatchObject({ client_privkey_file: server.serviceAccountKey.pemFile, client_privkey_kid: M2M_KEY_ID });
    const fromEnv = await runCli(['login', 'service-account', '--private-key', 'env:SERVICE_KEY', '--profile', 'key-moved'], { ...cliEnv(), SERVICE_KEY: key });
    expect(fromEnv).toMatchObject({ code: 0 });
    const config = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
    expect(config['client_privkey_env']).toBe('SERVICE_KEY');
    expect(config).not.toHaveProperty('client_privkey_file');
    expect(config).not.toHaveProperty('client_privkey_kid');
  });

  test('a missing key file fails with one line naming the file and the fix, and the configuration exit code', async () => {
    const missing = join(home, 'nowhere.pem');
    const login = await runCli(['login', 'service-account', '--client-id', M2M_KEY_CLIENT_ID, '--private-key', missing, '--profile', 'cli-missing'], cliEnv());
    expect(login.code).toBe(2);
    expect(
      login.stderr
        .trim()
        .split('\n')
        .filter((line) => line.includes(missing)),
    ).toHaveLength(1);
    expect(login.stderr).toContain('--private-key');
    expect(server.count('token:client_credentials')).toBe(0);
  });

  test('login service-account without a private key still logs in with a client secret, and both at once is a usage error', async () => {
    const help = await runCli(['help', 'login', 'service-account'], cliEnv());
    expect(help.stdout).toContain('--private-key FILE');
    expect(help.stdout).toContain('--client-secret');
    const both = await runCli(['login', 'service-account', '--client-id', M2M_KEY_CLIENT_ID, '--private-key', server.serviceAccountKey.pemFile, '--client-secret', 'x'], cliEnv());
    expect(both.code).toBe(2);
    expect(both.stderr).toMatch(/pass either/);
  });
});
