// The loopback listener and the network are hostile territory: wrong
// states, replays, probes, script injection, faulty and absent servers.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startLoopbackListener } from '../generated/src/runtime/loopback.js';
import { AuthCore } from '../generated/src/runtime/auth-core.js';
import { SDK_SETTINGS } from '../generated/src/settings.js';
import { AccessDeniedError, NetworkError, TokenRequestError } from '../generated/src/index.js';
import { M2M_CLIENT_ID, M2M_CLIENT_SECRET, type RunningServer } from './server/auth-server.js';
import { useEmbeddedServer } from './support/server-fixture.js';

async function refused(url: string): Promise<boolean> {
  return fetch(url).then(
    () => false,
    () => true,
  );
}

describe('the loopback listener', () => {
  test('binds 127.0.0.1 only', async () => {
    const listener = await startLoopbackListener('http://127.0.0.1:0/callback', 'state-1', 5000);
    const port = new URL(listener.redirectUri).port;
    expect(await refused(`http://[::1]:${port}/callback`)).toBe(true);
    expect((await fetch(`http://127.0.0.1:${port}/elsewhere`)).status).toBe(404);
    listener.close();
    await listener.callback.catch(() => undefined);
  });

  test('a wrong state is refused and the login keeps waiting; after success a second callback is refused', async () => {
    const listener = await startLoopbackListener('http://127.0.0.1:0/callback', 'right-state', 5000);
    const wrong = await fetch(`${listener.redirectUri}?code=stolen&state=wrong-state`);
    expect(wrong.status).toBe(400);
    const ok = await fetch(`${listener.redirectUri}?code=real&state=right-state`);
    expect(ok.status).toBe(200);
    expect((await listener.callback).searchParams.get('code')).toBe('real');
    await new Promise((r) => setTimeout(r, 300));
    expect(await refused(`${listener.redirectUri}?code=replayed&state=right-state`)).toBe(true);
  });

  test('what it echoes is escaped: a script in error_description is inert, and it closes after failure', async () => {
    const listener = await startLoopbackListener('http://127.0.0.1:0/callback', 's', 5000);
    const settled = listener.callback.catch((e: unknown) => e);
    const response = await fetch(`${listener.redirectUri}?state=s&error=access_denied&error_description=${encodeURIComponent('<script>alert(1)</script>')}`);
    const html = await response.text();
    expect(html).not.toContain('<script>');
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(response.headers.get('content-security-policy')).toBe("default-src 'none'");
    expect(await settled).toBeInstanceOf(AccessDeniedError);
    await new Promise((r) => setTimeout(r, 300));
    expect(await refused(listener.redirectUri)).toBe(true);
  });

  test('it closes on timeout', async () => {
    const listener = await startLoopbackListener('http://127.0.0.1:0/callback', 's', 200);
    await expect(listener.callback).rejects.toMatchObject({ code: 'ERR_LOGIN_TIMEOUT' });
    await new Promise((r) => setTimeout(r, 300));
    expect(await refused(listener.redirectUri)).toBe(true);
  });
});

describe('faulty servers and networks', () => {
  const fixture = useEmbeddedServer();
  let server: RunningServer;
  let home: string;
  beforeEach(() => {
    server = fixture.server();
    home = fixture.home();
  });

  const service = (extra: { requestTimeoutSeconds?: number; issuer?: string } = {}) =>
    new AuthCore(SDK_SETTINGS, 'oauth_m2m', { clientId: M2M_CLIENT_ID, clientSecret: M2M_CLIENT_SECRET, profileName: 'faulty', ...extra });

  async function savedSession(): Promise<string> {
    await service().ensureInitialized();
    return readFileSync(join(home, '.planet/faulty/token.json'), 'utf8');
  }

  async function failure(fn: () => Promise<unknown>): Promise<TokenRequestError & NetworkError> {
    return (await fn().then(
      () => {
        throw new Error('expected a failure');
      },
      (e: unknown) => e,
    )) as TokenRequestError & NetworkError;
  }

  test('500: no retry (a refresh token may be spent), a typed error, the session kept', async () => {
    const saved = await savedSession();
    server.injectTokenFaults([{ status: 500, body: '{"error":"server_error"}' }]);
    const auth = service();
    const error = await failure(async () => auth.refresh());
    expect(error).toBeInstanceOf(TokenRequestError);
    expect(error.code).toBe('ERR_SERVER');
    expect(server.count('token:fault')).toBe(1);
    expect(readFileSync(join(home, '.planet/faulty/token.json'), 'utf8')).toBe(saved);
  });

  test('malformed JSON: a typed error, the session kept', async () => {
    const saved = await savedSession();
    server.injectTokenFaults([{ status: 200, body: '{"access_token": ', contentType: 'application/json' }]);
    const error = await failure(async () => service().refresh());
    expect(error.code).toBe('ERR_SERVER');
    expect(error.message).toMatch(/not valid JSON|unusable answer/);
    expect(readFileSync(join(home, '.planet/faulty/token.json'), 'utf8')).toBe(saved);
  });

  test('an answer that never comes: a NetworkError after the stated timeout', async () => {
    const saved = await savedSession();
    server.injectTokenFaults([{ status: 200, hang: true }]);
    const error = await failure(async () => service({ requestTimeoutSeconds: 1 }).refresh());
    expect(error).toBeInstanceOf(NetworkError);
    expect(error.message).toContain('no answer within 1 s');
    expect(readFileSync(join(home, '.planet/faulty/token.json'), 'utf8')).toBe(saved);
  });

  test('connection refused: a NetworkError naming the issuer', async () => {
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((r) => closed.close(() => r()));
    const error = await failure(async () => new AuthCore(SDK_SETTINGS, 'oauth_m2m', { clientId: M2M_CLIENT_ID, clientSecret: M2M_CLIENT_SECRET, saveStateToStorage: false, issuer: `http://127.0.0.1:${port}` }).getAccessToken());
    expect(error).toBeInstanceOf(NetworkError);
    expect(error.message).toContain(`discovery of http://127.0.0.1:${port} failed: cannot reach the server`);
  });

  test('an issuer mismatch in discovery is refused', async () => {
    const liar = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ issuer: 'https://evil.example.com', token_endpoint: 'https://evil.example.com/token' }));
    });
    await new Promise<void>((r) => liar.listen(0, '127.0.0.1', r));
    const issuer = `http://127.0.0.1:${(liar.address() as AddressInfo).port}`;
    try {
      const error = await failure(async () => new AuthCore(SDK_SETTINGS, 'oauth_m2m', { clientId: M2M_CLIENT_ID, clientSecret: M2M_CLIENT_SECRET, saveStateToStorage: false, issuer }).getAccessToken());
      expect(error.code).toBe('ERR_TOKEN_REQUEST');
      expect(error.message).toContain('check the issuer URL');
      expect(existsSync(join(home, '.planet'))).toBe(false);
    } finally {
      liar.closeAllConnections();
      await new Promise<void>((r) => liar.close(() => r()));
    }
  });
});

describe('the leak check on program output', () => {
  test('finds a secret or a token, and allows access tokens only on the stdout of print-access-token', async () => {
    const { findLeaks } = await import('./support/secrets.js');
    const { issuedSecrets } = await import('./server/auth-server.js');
    const { clientSecret } = issuedSecrets();
    expect(findLeaks({ what: 'x', stdout: `secret=${clientSecret}`, stderr: '' })).toEqual(['x: the client secret on stdout']);
    expect(findLeaks({ what: 'x', stdout: 'nothing here', stderr: '' })).toEqual([]);
  });
});
