// Sessions shared with Planet's Python CLI: profile folders exactly as it
// writes them (test/fixtures/python-cli/, with tokens the embedded server
// issues put in at test time) are read, used and refreshed by this CLI and
// SDK, and stay in the form the Python CLI reads.
import { chmodSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Auth, ProfileError, Session } from '../generated/src/index.js';
import { AuthCore } from '../generated/src/runtime/auth-core.js';
import { authorizationCode } from '../generated/src/runtime/grants/authorization-code.js';
import { clientConfigToWrite, defaultSessionOptions, listProfiles, readProfileOptions, type ClientConfigFile } from '../generated/src/runtime/profile.js';
import { stableJson } from '../generated/src/runtime/store.js';
import { SDK_SETTINGS } from '../generated/src/settings.js';
import { formatDiagnostics, SpecError } from '../generator/diagnostics.js';
import { projectInputs, specToIR } from '../generator/pipeline.js';
import { M2M_CLIENT_ID, M2M_CLIENT_SECRET, USER_CLIENT_ID, startAuthServer, type RunningServer } from './server/auth-server.js';
import { runCli } from './support/cli.js';
import { tempHome } from './support/env.js';
import { expireTokenFile } from './support/scenarios.js';
import { ROOT, specCopy } from './support/spec-fixture.js';
import { scriptedUserLogin } from './support/user-agent.js';

const FIXTURES = resolve(import.meta.dirname, 'fixtures', 'python-cli');
const PLANET_USER = SDK_SETTINGS.builtinProfiles!.find((b) => b.name === 'planet-user')!;
const DEVICE_FLOW = SDK_SETTINGS.flows.find((f) => f.grant === 'device_code')!.id;
const AD_HOC = `planet-m2m-${M2M_CLIENT_ID}`;

let server: RunningServer;
let home: string;
let env: Record<string, string>;

interface IssuedTokens {
  readonly access_token: string;
  readonly refresh_token?: string;
  readonly expires_in: number;
  readonly scope?: string;
}

/** Tokens the embedded server issued, by client: what the Python CLI would have saved after its login. */
const issued = new Map<string, IssuedTokens>();

/** A device login of `clientId`, completed by the scripted user, in a scratch home. */
async function deviceTokens(clientId: string): Promise<IssuedTokens> {
  const scratch = tempHome();
  const realHome = process.env['HOME'];
  process.env['HOME'] = scratch;
  try {
    const auth = new AuthCore(SDK_SETTINGS, DEVICE_FLOW, { clientId, profileName: 'scratch' });
    const info = await auth.deviceUserLoginInitiate();
    await Promise.all([scriptedUserLogin(info.verificationUriComplete ?? info.verificationUri, { userCode: info.userCode }), auth.deviceUserLoginComplete(info)]);
    return JSON.parse(readFileSync(join(scratch, '.planet', 'scratch', 'token.json'), 'utf8')) as IssuedTokens;
  } finally {
    process.env['HOME'] = realHome;
  }
}

/** A client credentials token, requested as the Python CLI requests it (`audience=`, the scopes of its profile). */
async function serviceTokens(scope: string): Promise<IssuedTokens> {
  const body = new URLSearchParams({ grant_type: 'client_credentials', client_id: M2M_CLIENT_ID, client_secret: M2M_CLIENT_SECRET, audience: server.audience });
  if (scope !== '') body.set('scope', scope);
  const response = await fetch(`${server.issuer}/token`, { method: 'POST', body });
  expect(response.status).toBe(200);
  return (await response.json()) as IssuedTokens;
}

function jwtClaims(token: string): { iat: number; exp: number } {
  return JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString('utf8')) as { iat: number; exp: number };
}

/** The fixture's text with the placeholders replaced, keeping its key order and layout. */
function fill(text: string, tokens: IssuedTokens | undefined): string {
  const claims = tokens ? jwtClaims(tokens.access_token) : undefined;
  const values: Record<string, unknown> = {
    __AUTH_SERVER__: server.issuer,
    __AUDIENCE__: server.audience,
    __CLIENT_SECRET__: M2M_CLIENT_SECRET,
    __ACCESS_TOKEN__: tokens?.access_token,
    __REFRESH_TOKEN__: tokens?.refresh_token,
    __EXPIRES_IN__: tokens?.expires_in,
    __SCOPE__: tokens?.scope ?? '',
    __IAT__: claims?.iat,
    __EXP__: claims?.exp,
  };
  return text.replace(/"(__[A-Z_]+__)"/g, (_, name: string) => JSON.stringify(values[name]));
}

/** Which issued tokens each fixture profile holds. */
function tokensFor(profile: string): IssuedTokens | undefined {
  if (profile === 'planet-user') return issued.get('planet-user');
  if (profile === 'authcode-app') return issued.get('authcode-app');
  if (profile === 'device-app' || profile === 'token-only') return issued.get('device-app');
  if (profile === AD_HOC) return issued.get('ad-hoc');
  return issued.get('service');
}

/** Copies the fixture profiles into `~/.planet` as the Python CLI leaves them: folders 0755, files 0600, written in place. */
function installFixtures(): void {
  for (const profile of readdirSync(FIXTURES)) {
    const folder = join(home, '.planet', profile);
    mkdirSync(folder, { recursive: true, mode: 0o755 });
    chmodSync(folder, 0o755);
    for (const file of readdirSync(join(FIXTURES, profile))) {
      writeFileSync(join(folder, file), fill(readFileSync(join(FIXTURES, profile, file), 'utf8'), tokensFor(profile)), { mode: 0o600 });
    }
  }
}

function read(profile: string, file: string): string {
  return readFileSync(join(home, '.planet', profile, file), 'utf8');
}

/** What the Python CLI needs of a profile's files: JSON objects, keys sorted, two-space indent, 0600, and a token with `_iat`/`_exp`. */
function expectPythonForm(profile: string): void {
  const folder = join(home, '.planet', profile);
  for (const file of readdirSync(folder).filter((f) => f.endsWith('.json'))) {
    const text = readFileSync(join(folder, file), 'utf8');
    const data = JSON.parse(text) as Record<string, unknown>;
    expect({ file, text: text.trimEnd() }).toEqual({ file, text: stableJson(data).trimEnd() });
    expect({ file, start: text.slice(0, 5) }).toEqual({ file, start: '{\n  "' });
    expect({ file, mode: statSync(join(folder, file)).mode & 0o777 }).toEqual({ file, mode: 0o600 });
  }
  const token = JSON.parse(read(profile, 'token.json')) as { _iat: number; _exp: number; access_token: string };
  // The Python CLI takes a JWT's own times over `_iat`/`_exp`; both must agree: the same lifetime,
  // counted here from when the request was sent, so no later than the server issued it (and not long before).
  const claims = jwtClaims(token.access_token);
  expect(token._exp - token._iat).toBe(claims.exp - claims.iat);
  expect(claims.iat - token._iat).toBeGreaterThanOrEqual(0);
  expect(claims.iat - token._iat).toBeLessThanOrEqual(5);
}

beforeAll(async () => {
  server = await startAuthServer({ extraUserClientIds: [PLANET_USER.clientId!] });
  Object.assign(process.env, server.env());
  issued.set('planet-user', await deviceTokens(PLANET_USER.clientId!));
  issued.set('device-app', await deviceTokens(USER_CLIENT_ID));
  // One session per profile that is refreshed, since a spent refresh token is not accepted again.
  issued.set('authcode-app', await deviceTokens(USER_CLIENT_ID));
  issued.set('service', await serviceTokens('planet'));
  issued.set('ad-hoc', await serviceTokens(''));
}, 60_000);
afterAll(() => server.close());
beforeEach(() => {
  home = tempHome();
  process.env['HOME'] = home;
  env = { ...server.env(), HOME: home };
  installFixtures();
  server.resetCounts();
});

test('the embedded server serves its JWKS as application/json, which the Python CLI insists on', async () => {
  const response = await fetch(`${server.issuer}/jwks`);
  expect(response.headers.get('content-type')).toMatch(/^application\/json(;|$)/);
  expect(((await response.json()) as { keys: unknown[] }).keys.length).toBeGreaterThan(0);
});

describe("the spec declares the built-in profiles and each flow's authorization server", () => {
  test("as Planet has them: the Planet CLI's user client, and service accounts on their own authorization server", () => {
    expect(SDK_SETTINGS.builtinProfiles).toEqual([
      { name: 'planet-m2m', flowId: 'oauth_m2m', issuer: 'https://services.sentinel-hub.com/auth/realms/main', audiences: ['https://api.planet.com/'], scopes: [] },
      { name: 'planet-user', flowId: DEVICE_FLOW, clientId: '49lHVBYlXCdfIYqE1B9zeXt0iFHSXees', issuer: 'https://login.planet.com/', audiences: ['https://api.planet.com/'], scopes: ['planet', 'offline_access'] },
    ]);
    expect(SDK_SETTINGS.flows.find((f) => f.id === 'oauth_m2m')?.issuer).toBe('https://services.sentinel-hub.com/auth/realms/main');
    expect(SDK_SETTINGS.flows.find((f) => f.id === DEVICE_FLOW)?.issuer).toBeUndefined();
  });

  test('a built-in profile naming no flow, a public client without a client ID, or an unknown scope is a spec error', () => {
    const dir = specCopy({
      'sdk.yaml': (t) =>
        t
          .replace('    flow: oauth_user_devicecode__external_browser\n    clientId: 49lHVBYlXCdfIYqE1B9zeXt0iFHSXees\n', '    flow: oauth_user_devicecode__external_browser\n')
          .replace('    flow: oauth_m2m\n    audiences: [https://api.planet.com/]\n    scopes: []', '    flow: oauth_m2x\n    audiences: [https://api.planet.com/]\n    scopes: [PLANETS]'),
    });
    let message = '';
    try {
      specToIR(projectInputs(ROOT, dir, 'spec'));
    } catch (error) {
      if (!(error instanceof SpecError)) throw error;
      message = formatDiagnostics(error.diagnostics);
    }
    expect(message).toContain('error built-in profile "planet-user" needs "clientId": flow "oauth_user_devicecode__external_browser" is a public client');
    expect(message).toContain('error flow "oauth_m2x" is not defined in spec/flows/ (/builtinProfiles/1/flow)');
    expect(message).toContain('error scope "PLANETS" is not one of the scopes defined under /scopes (/builtinProfiles/1/scopes/0)');
  });

  test("the environment's authorization server and audience win over a built-in profile's", () => {
    const saved = { issuer: process.env['PLANET_AUTH_ISSUER'], audience: process.env['PLANET_AUTH_AUDIENCE'] };
    try {
      delete process.env['PLANET_AUTH_ISSUER'];
      delete process.env['PLANET_AUTH_AUDIENCE'];
      Object.assign(process.env, { PL_AUTH_CLIENT_ID: M2M_CLIENT_ID, PL_AUTH_CLIENT_SECRET: M2M_CLIENT_SECRET });
      expect(defaultSessionOptions(SDK_SETTINGS).options).toMatchObject({ issuer: 'https://services.sentinel-hub.com/auth/realms/main', audience: 'https://api.planet.com/' });
      expect(readProfileOptions(SDK_SETTINGS, 'planet-user').options).toMatchObject({ issuer: 'https://login.planet.com/', clientId: PLANET_USER.clientId });
      process.env['PLANET_AUTH_ISSUER'] = server.issuer;
      process.env['PLANET_AUTH_AUDIENCE'] = server.audience;
      expect(defaultSessionOptions(SDK_SETTINGS).options).toMatchObject({ issuer: server.issuer, audience: server.audience });
      expect(readProfileOptions(SDK_SETTINGS, 'planet-user').options).toMatchObject({ issuer: server.issuer, audience: server.audience });
    } finally {
      delete process.env['PL_AUTH_CLIENT_ID'];
      delete process.env['PL_AUTH_CLIENT_SECRET'];
      Object.assign(process.env, { PLANET_AUTH_ISSUER: saved.issuer ?? server.issuer, PLANET_AUTH_AUDIENCE: saved.audience ?? server.audience });
    }
  });
});

test("a flow's own authorization server is used unless the environment names another", async () => {
  const issuerOf = async (auth: Auth) => (await auth.sessionStatus()).issuer;
  const m2m = () => Auth.fromOAuthM2M({ clientId: M2M_CLIENT_ID, clientSecret: M2M_CLIENT_SECRET, saveStateToStorage: false });
  const device = () => Auth.fromOAuthUserDeviceCode({ clientId: USER_CLIENT_ID, saveStateToStorage: false });
  delete process.env['PLANET_AUTH_ISSUER'];
  try {
    expect(await issuerOf(m2m())).toBe('https://services.sentinel-hub.com/auth/realms/main');
    expect(await issuerOf(device())).toBe('https://login.planet.com/');
  } finally {
    process.env['PLANET_AUTH_ISSUER'] = server.issuer;
  }
  expect(await issuerOf(m2m())).toBe(server.issuer);
  expect(await issuerOf(device())).toBe(server.issuer);
});

test('planet-user holding only token.json, as the Python CLI leaves it, is read, used and refreshed by the CLI and the SDK', async () => {
  const saved = JSON.parse(read('planet-user', 'token.json')) as { access_token: string };
  // planet-user is the default profile of both CLIs.
  const printed = await runCli(['print-access-token'], env);
  expect(printed).toMatchObject({ code: 0, stdout: `${saved.access_token}\n` });
  const status = await runCli(['status', '--json'], env);
  expect(status.code).toBe(0);
  expect(JSON.parse(status.stdout)).toMatchObject({ profile: 'planet-user', client_id: PLANET_USER.clientId, logged_in: true, access_token_valid: true, has_refresh_token: true });
  const list = JSON.parse((await runCli(['profile', 'list', '--json'], env)).stdout) as { profile: string }[];
  expect(list.find((p) => p.profile === 'planet-user')).toEqual({
    profile: 'planet-user',
    usable: true,
    builtin: true,
    client_type: 'oidc_device_code',
    logged_in: true,
    secrets: 'file',
    token_binding: null,
    dpop: false,
    default: true,
  });
  expect(server.authServerRequests()).toBe(0);

  const response = await new Session(Auth.fromUserDefaultSession()).fetch('/data/v1/searches');
  expect(response.status).toBe(200);
  expect(await Auth.fromProfile('planet-user').getAccessToken()).toBe(saved.access_token);

  expireTokenFile(join(home, '.planet', 'planet-user', 'token.json'));
  const refreshed = await runCli(['print-access-token'], env);
  expect(refreshed.code).toBe(0);
  expect(refreshed.stdout).not.toBe(`${saved.access_token}\n`);
  expect(server.count('token:refresh_token')).toBe(1);

  expireTokenFile(join(home, '.planet', 'planet-user', 'token.json'));
  const sdkResponse = await new Session(Auth.fromProfile('planet-user')).fetch('/data/v1/searches');
  expect(sdkResponse.status).toBe(200);
  expect(server.count('token:refresh_token')).toBe(2);
  expect(server.count('api:ok')).toBe(2);
  // The server's metadata is kept with the session after the first discovery, as for any profile.
  expect(server.count('discovery')).toBe(1);

  expect(existsSync(join(home, '.planet', 'planet-user', 'auth_client.json'))).toBe(false);
  expectPythonForm('planet-user');
}, 60_000);

test("a CLI login to planet-user uses the built-in client and leaves only token.json, as the Python CLI's login does", async () => {
  rmSync(join(home, '.planet', 'planet-user'), { recursive: true });
  let user: Promise<unknown> | undefined;
  const login = await runCli(['login', 'device', '--profile', 'planet-user'], env, (stderr) => {
    const match = /open (\S+)\s+and check that it shows the code (\S+?)\./.exec(stderr);
    if (match && user === undefined) user = scriptedUserLogin(match[1]!, { userCode: match[2]! });
  });
  await user;
  expect(login.code).toBe(0);
  expect(server.count('token:urn:ietf:params:oauth:grant-type:device_code')).toBeGreaterThan(0);
  expect(readdirSync(join(home, '.planet', 'planet-user')).filter((f) => f.endsWith('.json') && f !== 'auth_server_metadata.json')).toEqual(['token.json']);
  expectPythonForm('planet-user');
  const status = await runCli(['status', '--json'], env);
  expect(JSON.parse(status.stdout)).toMatchObject({ profile: 'planet-user', client_id: PLANET_USER.clientId, logged_in: true });
}, 60_000);

test('a refresh the Python CLI wrote in place meanwhile is picked up, not repeated', async () => {
  const path = join(home, '.planet', 'planet-user', 'token.json');
  const refreshedByPython = readFileSync(path, 'utf8');
  expireTokenFile(path);
  const auth = Auth.fromProfile('planet-user');
  expect((await auth.sessionStatus()).accessTokenValid).toBe(false);
  // Truncate, then write, as the Python CLI does.
  writeFileSync(path, refreshedByPython);
  expect(await auth.getAccessToken()).toBe((JSON.parse(refreshedByPython) as { access_token: string }).access_token);
  expect(server.authServerRequests()).toBe(0);
});

describe('an ad hoc service account (PL_AUTH_CLIENT_ID and PL_AUTH_CLIENT_SECRET)', () => {
  const credentials = { PL_AUTH_CLIENT_ID: M2M_CLIENT_ID, PL_AUTH_CLIENT_SECRET: M2M_CLIENT_SECRET };

  test('uses the session the Python CLI saved under planet-m2m-<client id>, from the CLI and the SDK', async () => {
    const saved = JSON.parse(read(AD_HOC, 'token.json')) as { access_token: string };
    expect(await runCli(['print-access-token'], { ...env, ...credentials })).toMatchObject({ code: 0, stdout: `${saved.access_token}\n` });
    Object.assign(process.env, credentials);
    try {
      expect(await Auth.fromUserDefaultSession().getAccessToken()).toBe(saved.access_token);
      expect(await Auth.fromProfile(AD_HOC).getAccessToken()).toBe(saved.access_token);
    } finally {
      delete process.env['PL_AUTH_CLIENT_ID'];
      delete process.env['PL_AUTH_CLIENT_SECRET'];
    }
    expect(server.authServerRequests()).toBe(0);

    // Expired: a new client credentials login, saved in the same place and form.
    expireTokenFile(join(home, '.planet', AD_HOC, 'token.json'));
    const renewed = await runCli(['print-access-token'], { ...env, ...credentials });
    expect(renewed.code).toBe(0);
    expect(renewed.stdout).not.toBe(`${saved.access_token}\n`);
    expect(server.count('token:client_credentials')).toBe(1);
    expect(readdirSync(join(home, '.planet', AD_HOC)).filter((f) => f !== 'auth_server_metadata.json' && f !== 'session.lock')).toEqual(['token.json']);
    expectPythonForm(AD_HOC);
  });

  test('from the environment: two CLI runs make one token request, saved where the Python CLI saves it (token.json only)', async () => {
    const fresh = tempHome();
    for (let run = 0; run < 2; run++) expect((await runCli(['print-access-token'], { ...env, HOME: fresh, ...credentials })).code).toBe(0);
    expect(server.count('token:client_credentials')).toBe(1);
    const folder = join(fresh, '.planet', AD_HOC);
    expect(existsSync(join(folder, 'token.json'))).toBe(true);
    expect(existsSync(join(folder, 'auth_client.json'))).toBe(false);
  });

  test('from ~/.planet.json: two SDK sessions make one token request', async () => {
    const fresh = tempHome();
    process.env['HOME'] = fresh;
    writeFileSync(join(fresh, '.planet.json'), JSON.stringify(credentials, null, 2), { mode: 0o600 });
    const first = await Auth.fromUserDefaultSession().getAccessToken();
    expect(await Auth.fromUserDefaultSession().getAccessToken()).toBe(first);
    expect(server.count('token:client_credentials')).toBe(1);
    expect(existsSync(join(fresh, '.planet', AD_HOC, 'token.json'))).toBe(true);
    expect(existsSync(join(fresh, '.planet', AD_HOC, 'auth_client.json'))).toBe(false);
  });
});

test('device code, auth code and client credentials profiles of the Python CLI are used and refreshed, and their auth_client.json is left byte for byte', async () => {
  const profiles = ['authcode-app', 'device-app', 'service-app', 'service-extras'];
  const clients = Object.fromEntries(profiles.map((p) => [p, read(p, 'auth_client.json')]));
  for (const profile of profiles) {
    const saved = JSON.parse(read(profile, 'token.json')) as { access_token: string };
    expect(await runCli(['print-access-token', '--profile', profile], env)).toMatchObject({ code: 0, stdout: `${saved.access_token}\n` });
  }
  expect(server.authServerRequests()).toBe(0);
  expect((await new Session(Auth.fromProfile('device-app')).fetch('/data/v1/searches')).status).toBe(200);
  expect((await new Session(Auth.fromProfile('service-extras')).fetch('/data/v1/searches')).status).toBe(200);

  expireTokenFile(join(home, '.planet', 'device-app', 'token.json'));
  expect((await runCli(['print-access-token', '--profile', 'device-app'], env)).code).toBe(0);
  expect(server.count('token:refresh_token')).toBe(1);
  // The auth code profile's callback is the registered redirect_uri, not the Python CLI's local listener address.
  expect(readProfileOptions(SDK_SETTINGS, 'authcode-app').options.callbackUrl).toBe('http://localhost:8080/callback');
  expireTokenFile(join(home, '.planet', 'authcode-app', 'token.json'));
  expect((await new Session(Auth.fromProfile('authcode-app')).fetch('/data/v1/searches')).status).toBe(200);
  expect(server.count('token:refresh_token')).toBe(2);
  // A service account has no refresh token: a refresh is a new client credentials login.
  for (const profile of ['service-app', 'service-extras']) expect((await runCli(['refresh', '--profile', profile], env)).code).toBe(0);
  expireTokenFile(join(home, '.planet', 'service-extras', 'token.json'));
  expect((await new Session(Auth.fromProfile('service-extras')).fetch('/data/v1/searches')).status).toBe(200);
  expect(server.count('token:client_credentials')).toBe(3);

  for (const [profile, text] of Object.entries(clients)) {
    expect({ profile, text: read(profile, 'auth_client.json') }).toEqual({ profile, text });
    expectPythonForm(profile);
  }
}, 60_000);

describe('profiles this SDK cannot use', () => {
  test('are all listed, each with the reason', () => {
    mkdirSync(join(home, '.planet', 'broken'));
    writeFileSync(join(home, '.planet', 'broken', 'auth_client.json'), '{"client_type": "oidc_dev', { mode: 0o600 });
    mkdirSync(join(home, '.planet', 'sealed'));
    writeFileSync(join(home, '.planet', 'sealed', 'auth_client.sops.json'), '{"client_id": "ENC[AES256_GCM,data:x]", "sops": {}}', { mode: 0o600 });
    const list = listProfiles(SDK_SETTINGS);
    expect(list.map((p) => [p.name, p.usable, p.builtin, p.hasSession, p.clientType])).toEqual([
      ['authcode-app', true, false, true, 'oidc_auth_code'],
      ['broken', false, false, false, undefined],
      ['device-app', true, false, true, 'oidc_device_code'],
      ['legacy-app', false, false, false, 'planet_legacy'],
      [AD_HOC, false, false, true, 'oidc_client_credentials_secret'],
      ['planet-user', true, true, true, 'oidc_device_code'],
      ['sealed', false, false, false, undefined],
      ['service-app', true, false, true, 'oidc_client_credentials_secret'],
      ['service-extras', true, false, true, 'oidc_client_credentials_secret'],
      ['token-only', false, false, true, undefined],
    ]);
    expect(list.find((p) => p.name === 'planet-user')?.clientId).toBe(PLANET_USER.clientId);
    expect(list.find((p) => p.name === 'service-app')?.clientId).toBe(M2M_CLIENT_ID);
    const reason = (name: string) => list.find((p) => p.name === name)?.reason ?? '';
    expect(reason('legacy-app')).toMatch(/^profile "legacy-app" is a Planet legacy profile .*\(client_type "planet_legacy"\), which this SDK does not support/);
    expect(reason(AD_HOC)).toContain(`set PL_AUTH_CLIENT_ID to the client ID "${M2M_CLIENT_ID}"`);
    expect(reason('sealed')).toContain('profile "sealed" is encrypted with SOPS');
    expect(reason('broken')).toContain('auth_client.json is not valid JSON; it was left as it is');
    expect(reason('token-only')).toContain('has a token.json but no auth_client.json, and is not a built-in profile');
  });

  test("an ad hoc service account's session is usable once its client ID and secret are given", () => {
    Object.assign(process.env, { PL_AUTH_CLIENT_ID: M2M_CLIENT_ID, PL_AUTH_CLIENT_SECRET: M2M_CLIENT_SECRET });
    try {
      expect(listProfiles(SDK_SETTINGS).find((p) => p.name === AD_HOC)).toMatchObject({ usable: true, clientType: 'oidc_client_credentials_secret' });
    } finally {
      delete process.env['PL_AUTH_CLIENT_ID'];
      delete process.env['PL_AUTH_CLIENT_SECRET'];
    }
  });

  test('a command on one says which profile, what it is and what to do, and changes nothing', async () => {
    const before = read('legacy-app', 'auth_client.json');
    const status = await runCli(['status', '--profile', 'legacy-app'], env);
    expect(status.code).toBe(1);
    expect(status.stderr).toContain('profile "legacy-app" is a Planet legacy profile');
    expect(status.stderr).toContain("Keep using it with Planet's Python CLI");
    expect(status.stderr).not.toMatch(/log in again/);
    expect(() => Auth.fromProfile('legacy-app')).toThrow(ProfileError);
    expect(() => Auth.fromProfile('legacy-app')).toThrow(/Planet legacy profile/);
    expect(() => Auth.fromProfile('planet-m2m')).toThrow(/built-in profile "planet-m2m" has no client of its own: set PL_AUTH_CLIENT_ID and PL_AUTH_CLIENT_SECRET/);
    expect(read('legacy-app', 'auth_client.json')).toBe(before);
    expect(readdirSync(join(home, '.planet', 'legacy-app'))).toEqual(['auth_client.json']);
  });
});

describe('clientConfigToWrite', () => {
  const python: ClientConfigFile = {
    _comment: 'Service account of the imagery pipeline',
    auth_server: 'https://auth.example/',
    client_id: 'svc',
    client_secret: 'secret-1',
    client_type: 'oidc_client_credentials_secret',
    organization: 'Example Org',
    project_id: '4f2a9c1e',
    scopes: ['planet'],
  };

  test('writes the whole config when there is no file', () => {
    const wanted: ClientConfigFile = { client_type: 'oidc_device_code', auth_server: 'https://auth.example/', client_id: 'app', audiences: ['https://api.example/'] };
    expect(clientConfigToWrite(undefined, wanted)).toEqual(wanted);
  });

  test('leaves a file alone when the login used its settings', () => {
    expect(clientConfigToWrite(python, { client_type: python.client_type, auth_server: python.auth_server, client_id: 'svc', client_secret: 'secret-1', scopes: ['planet'] })).toBeUndefined();
  });

  test('never adds an audience or scopes the file did not have, unless the caller chose them', () => {
    expect(clientConfigToWrite(python, { client_type: python.client_type, auth_server: python.auth_server, client_id: 'svc' })).toBeUndefined();
    expect(clientConfigToWrite(python, { ...python, audiences: ['https://api.example/'] })).toBeUndefined();
    expect(clientConfigToWrite(python, { ...python, audiences: ['https://api.example/'] }, { audiences: true })).toEqual({ ...python, audiences: ['https://api.example/'] });
    const { scopes: _, ...withoutScopes } = python;
    expect(clientConfigToWrite(withoutScopes, { ...python, scopes: ['planet', 'offline_access'] })).toBeUndefined();
    expect(clientConfigToWrite(withoutScopes, { ...python, scopes: ['planet'] }, { scopes: true })).toEqual(python);
  });

  test('an audience the file has is replaced by the one the login asked for', () => {
    const withAudience = { ...python, audiences: ['https://old.example/'] };
    expect(clientConfigToWrite(withAudience, { ...withAudience, audiences: ['https://new.example/'] })).toEqual({ ...python, audiences: ['https://new.example/'] });
  });

  test('keeps unknown fields when a setting changed', () => {
    const written = clientConfigToWrite(python, { client_type: python.client_type, auth_server: python.auth_server, client_id: 'svc', client_secret: 'secret-2' });
    expect(written).toEqual({ ...python, client_secret: 'secret-2' });
  });

  test("a callback that is either of the file's redirect URIs is no change (the authorization code grant's saved fields)", () => {
    const authCode: ClientConfigFile = {
      client_type: 'oidc_auth_code',
      auth_server: 'https://auth.example/',
      client_id: 'app',
      redirect_uri: 'http://localhost:8080/callback',
      local_redirect_uri: 'http://localhost:8080',
    };
    const fields = (options: Parameters<typeof authorizationCode.profile.fields>[0], existing: ClientConfigFile) => authorizationCode.profile.fields(options, existing);
    expect(fields({ clientId: 'app', callbackUrl: 'http://localhost:8080/callback' }, authCode)).toEqual({});
    expect(clientConfigToWrite(authCode, { ...authCode, ...fields({ clientId: 'app', callbackUrl: 'http://localhost:8080/callback' }, authCode) })).toBeUndefined();
    const localOnly: ClientConfigFile = { client_type: 'oidc_auth_code', auth_server: 'https://auth.example/', client_id: 'app', local_redirect_uri: 'http://localhost:8080' };
    expect(fields({ clientId: 'app', callbackUrl: 'http://localhost:8080' }, localOnly)).toEqual({});
    expect(fields({ clientId: 'app', callbackUrl: 'http://127.0.0.1:9000/cb' }, localOnly)).toEqual({ local_redirect_uri: 'http://127.0.0.1:9000/cb' });
    expect(clientConfigToWrite(localOnly, { ...localOnly, local_redirect_uri: 'http://127.0.0.1:9000/cb' })).toEqual({ ...localOnly, local_redirect_uri: 'http://127.0.0.1:9000/cb' });
    expect(authorizationCode.profile.fromProfile(authCode)).toEqual({ callbackUrl: 'http://localhost:8080/callback' });
  });

  test("another method's credential is removed when the login used a different one, and kept otherwise", () => {
    const withSecret: ClientConfigFile = { ...python, client_secret: 'old-secret', organization: 'kept' };
    const moved = { client_type: 'oidc_client_credentials_pubkey', auth_server: python.auth_server, client_id: 'svc', client_privkey_file: '/keys/svc.pem' };
    const written = clientConfigToWrite(withSecret, moved, {}, ['client_secret']);
    expect(written).not.toHaveProperty('client_secret');
    expect(written).toMatchObject({ ...moved, organization: 'kept' });
    // Nothing changed but the stale field: still a write, which removes it.
    const same = { ...withSecret };
    delete (same as Record<string, unknown>)['client_secret'];
    expect(clientConfigToWrite(withSecret, same, {}, ['client_secret'])).not.toHaveProperty('client_secret');
    expect(clientConfigToWrite(withSecret, { ...python, client_secret: 'old-secret' }, {}, ['client_privkey_file'])).toBeUndefined();
  });

  test('a changed list of scopes is a change; the same list is not', () => {
    expect(clientConfigToWrite(python, { ...python, scopes: ['planet'] })).toBeUndefined();
    expect(clientConfigToWrite(python, { ...python, scopes: ['planet', 'offline_access'] })?.scopes).toEqual(['planet', 'offline_access']);
  });
});

test('fixture profiles carry only placeholders, never tokens or secrets', () => {
  for (const profile of readdirSync(FIXTURES)) {
    for (const file of readdirSync(join(FIXTURES, profile))) {
      const text = readFileSync(join(FIXTURES, profile, file), 'utf8');
      expect(text).not.toContain(M2M_CLIENT_SECRET);
      expect(text).not.toMatch(/eyJ/);
      expect(() => JSON.parse(text) as unknown).not.toThrow();
    }
  }
});
