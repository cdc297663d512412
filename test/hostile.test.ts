// The loopback listener, the network and the home folder are hostile
// territory: wrong states, replays, probes, malformed requests, script
// injection, faulty and absent servers, FIFOs and sockets in place of files.
import { execFileSync, spawn } from 'node:child_process';
import { createServer } from 'node:http';
import { connect, createServer as createNetServer, type AddressInfo } from 'node:net';
import { existsSync, lstatSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startLoopbackListener } from '../generated/src/runtime/loopback.js';
import { AuthCore } from '../generated/src/runtime/auth-core.js';
import { SDK_SETTINGS } from '../generated/src/settings.js';
import { AccessDeniedError, Auth, NetworkError, TokenRequestError } from '../generated/src/index.js';
import { readJsonFileSync } from '../generated/src/runtime/profile.js';
import { FileStore } from '../generated/src/runtime/store.js';
import { M2M_CLIENT_ID, M2M_CLIENT_SECRET, type RunningServer } from './server/auth-server.js';
import { CLI_BIN } from './support/cli.js';
import { useEmbeddedServer } from './support/server-fixture.js';
import { expect } from '@jest/globals';

const fixture = useEmbeddedServer();
let server: RunningServer;
let home: string;
beforeEach(() => {
  server = fixture.server();
  home = fixture.home();
});

async function refused(url: string): Promise<boolean> {
  return fetch(url).then(
    () => false,
    () => true,
  );
}

/** Sends raw bytes to the listener and returns what came back before the connection closed (at most 5 s). */
function rawExchange(port: number, bytes: string | Buffer, host = '127.0.0.1'): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket: import('node:net').Socket = connect({ host, port }, () => socket.end(bytes));
    let answer = '';
    socket.setEncoding('latin1').on('data', (c: string) => (answer += c));
    socket.on('close', () => resolve(answer));
    socket.on('error', reject);
    socket.setTimeout(5000, () => socket.destroy());
  });
}

function ipv6Loopback(): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createNetServer();
    probe.once('error', () => resolve(false));
    probe.listen(0, '::1', () => probe.close(() => resolve(true)));
  });
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

  test('a [::1] callback URL is served on ::1, or refused at start where IPv6 is not available', async () => {
    if (!(await ipv6Loopback())) {
      await expect(startLoopbackListener('http://[::1]:0/callback', 's', 5000)).rejects.toMatchObject({ code: 'ERR_CONFIG', message: expect.stringContaining('use a callback URL on 127.0.0.1') });
      return;
    }
    const listener = await startLoopbackListener('http://[::1]:0/callback', 's', 5000);
    expect(listener.redirectUri).toMatch(/^http:\/\/\[::1\]:\d+\/callback$/);
    const page = fetch(`${listener.redirectUri}?code=c&state=s`);
    expect((await listener.callback).searchParams.get('code')).toBe('c');
    listener.respond({ ok: true });
    expect((await page).status).toBe(200);
    expect(await refused(`http://127.0.0.1:${new URL(listener.redirectUri).port}/callback`)).toBe(true);
  });

  test('survives malformed request lines, garbage, half requests and huge headers, and still takes the real callback', async () => {
    const listener = await startLoopbackListener('http://127.0.0.1:0/callback', 'right', 10_000);
    const port = Number(new URL(listener.redirectUri).port);
    const half = connect({ host: '127.0.0.1', port });
    const halfClosed = new Promise<void>((r) => half.on('close', () => r()));
    half.on('error', () => undefined);
    half.write('GET /callback?code=half&state=right HTTP/1.1\r\nHost: 127.0.0.1\r\n');
    const answers = {
      bracket: await rawExchange(port, 'GET //[ HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n'),
      otherHost: await rawExchange(port, 'GET //evil.example/callback?code=x&state=right HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n'),
      absolute: await rawExchange(port, 'GET http://evil.example/callback?code=x&state=right HTTP/1.1\r\nHost: evil.example\r\n\r\n'),
      garbage: await rawExchange(port, Buffer.from([0, 255, 13, 10, 13, 10, 1, 2, 3])),
      hugeHeaders: await rawExchange(port, `GET /callback HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: ${'a'.repeat(100_000)}\r\n\r\n`),
      badEncoding: await rawExchange(port, 'GET /callback?code=%E0%A4%A&state=%ZZ HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n'),
    };
    const status = (answer: string) => answer.split('\r\n')[0];
    expect(Object.fromEntries(Object.entries(answers).map(([k, v]) => [k, status(v)]))).toEqual({
      bracket: 'HTTP/1.1 404 Not Found',
      otherHost: 'HTTP/1.1 404 Not Found',
      absolute: 'HTTP/1.1 400 Bad Request',
      garbage: 'HTTP/1.1 400 Bad Request',
      hugeHeaders: 'HTTP/1.1 431 Request Header Fields Too Large',
      badEncoding: 'HTTP/1.1 400 Bad Request',
    });
    const page = fetch(`${listener.redirectUri}?code=real&state=right`);
    expect((await listener.callback).searchParams.get('code')).toBe('real');
    listener.respond({ ok: true });
    expect(await (await page).text()).toContain('Login complete');
    // The half-sent request is dropped when the listener shuts down.
    await halfClosed;
  });

  test('the success page is sent only after respond({ ok: true }); the callback request waits for it', async () => {
    const listener = await startLoopbackListener('http://127.0.0.1:0/callback', 's', 5000);
    let answered = false;
    const page = fetch(`${listener.redirectUri}?code=c&state=s`).then(async (r) => {
      answered = true;
      return { status: r.status, html: await r.text() };
    });
    await listener.callback;
    await new Promise((r) => setTimeout(r, 300));
    expect(answered).toBe(false);
    listener.respond({ ok: true });
    expect(await page).toEqual({ status: 200, html: expect.stringContaining('You are logged in') });
  });

  test('respond({ ok: false }) shows an error page with the message escaped, never the success page', async () => {
    const listener = await startLoopbackListener('http://127.0.0.1:0/callback', 's', 5000);
    const page = fetch(`${listener.redirectUri}?code=c&state=s`);
    await listener.callback;
    listener.respond({ ok: false, message: 'the code exchange failed: <script>alert(1)</script>' });
    listener.respond({ ok: true });
    const response = await page;
    const html = await response.text();
    expect({ status: response.status, loggedIn: html.includes('logged in'), script: html.includes('<script>') }).toEqual({ status: 400, loggedIn: false, script: false });
    expect(html).toContain('the code exchange failed: &lt;script&gt;alert(1)&lt;/script&gt;');
  });

  test('without an answer, the browser gets a neutral page after the fallback timeout, or when the listener closes', async () => {
    for (const end of ['timeout', 'close'] as const) {
      const listener = await startLoopbackListener('http://127.0.0.1:0/callback', 's', 5000, { respondTimeoutMs: end === 'timeout' ? 300 : 60_000 });
      const page = fetch(`${listener.redirectUri}?code=c&state=s`).then((r) => r.text());
      await listener.callback;
      if (end === 'close') listener.close();
      const html = await page;
      expect({ end, neutral: html.includes('Return to the application'), loggedIn: html.includes('logged in') }).toEqual({ end, neutral: true, loggedIn: false });
    }
  });

  test('a wrong state is refused and the login keeps waiting; after success a second callback is refused', async () => {
    const listener = await startLoopbackListener('http://127.0.0.1:0/callback', 'right-state', 5000);
    const wrong = await fetch(`${listener.redirectUri}?code=stolen&state=wrong-state`);
    expect(wrong.status).toBe(400);
    const ok = fetch(`${listener.redirectUri}?code=real&state=right-state`);
    expect((await listener.callback).searchParams.get('code')).toBe('real');
    listener.respond({ ok: true });
    expect((await ok).status).toBe(200);
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
    const error = await failure(async () =>
      new AuthCore(SDK_SETTINGS, 'oauth_m2m', { clientId: M2M_CLIENT_ID, clientSecret: M2M_CLIENT_SECRET, saveStateToStorage: false, issuer: `http://127.0.0.1:${port}` }).getAccessToken(),
    );
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

describe('files that are not regular files in place of session files', () => {
  const folder = () => join(home, '.planet', 'odd');
  const fifo = (path: string) => {
    mkdirSync(join(path, '..'), { recursive: true });
    execFileSync('mkfifo', ['-m', '600', path]);
  };
  /** A service account profile as the CLI saves it, without a session. */
  const clientFile = () => {
    mkdirSync(folder(), { recursive: true });
    writeFileSync(
      join(folder(), 'auth_client.json'),
      JSON.stringify({ client_type: 'oidc_client_credentials_secret', auth_server: server.issuer, client_id: M2M_CLIENT_ID, client_secret: M2M_CLIENT_SECRET, scopes: ['planet'], audiences: [server.audience] }),
      { mode: 0o600 },
    );
  };
  const unsafe = { code: 'ERR_STATE_UNSAFE', message: expect.stringContaining('is a named pipe (FIFO), not a regular file, so it was not read') };

  /** Runs the CLI, killed after 20 s so a command that blocks fails the test instead of hanging it. */
  function cli(args: string[]): Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }> {
    const child = spawn(process.execPath, [CLI_BIN, ...args], { env: { PATH: process.env['PATH'] ?? '', ...server.env(), HOME: home }, stdio: ['ignore', 'pipe', 'pipe'], timeout: 20_000, killSignal: 'SIGKILL' });
    let stderr = '';
    child.stdout.resume();
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    return new Promise((done) => child.on('close', (code, signal) => done({ code, signal, stderr })));
  }

  test('FileStore refuses a FIFO, a socket and a device without reading them', async () => {
    fifo(join(folder(), 'token.json'));
    await expect(new FileStore(home).loadObj('.planet/odd/token.json')).rejects.toMatchObject(unsafe);
    const socket = createNetServer();
    await new Promise<void>((r) => socket.listen(join(folder(), 'auth_server_metadata.json'), r));
    try {
      await expect(new FileStore(home).loadObj('.planet/odd/auth_server_metadata.json')).rejects.toMatchObject({ code: 'ERR_STATE_UNSAFE', message: expect.stringContaining('is a socket') });
    } finally {
      await new Promise((r) => socket.close(r));
    }
    await expect(new FileStore('/').loadObj('dev/zero')).rejects.toMatchObject({ code: 'ERR_STATE_UNSAFE', message: expect.stringContaining('is a device') });
  });

  test('readJsonFileSync refuses a FIFO without reading it', () => {
    fifo(join(home, '.planet.json'));
    expect(() => readJsonFileSync(join(home, '.planet.json'))).toThrow(expect.objectContaining(unsafe));
  });

  test('the SDK refuses a FIFO as token.json, auth_client.json or auth_server_metadata.json, and leaves it in place', async () => {
    for (const name of ['token.json', 'auth_server_metadata.json']) {
      clientFile();
      fifo(join(folder(), name));
      const error = await Auth.fromProfile('odd')
        .getAccessToken()
        .catch((e: unknown) => e);
      expect(error).toMatchObject(unsafe);
      expect(lstatSync(join(folder(), name)).isFIFO()).toBe(true);
      execFileSync('rm', ['-rf', folder()]);
    }
    fifo(join(folder(), 'auth_client.json'));
    expect(() => Auth.fromProfile('odd')).toThrow(expect.objectContaining(unsafe));
  });

  test('the CLI exits at once with a clear error when token.json, auth_client.json or ~/.planet.json is a FIFO', async () => {
    clientFile();
    fifo(join(folder(), 'token.json'));
    for (const args of [
      ['status', '--profile', 'odd'],
      ['print-access-token', '--profile', 'odd'],
    ]) {
      const run = await cli(args);
      expect({ args, signal: run.signal, failed: run.code !== 0, stderr: run.stderr }).toEqual({ args, signal: null, failed: true, stderr: expect.stringContaining('is a named pipe (FIFO), not a regular file') });
    }
    execFileSync('rm', ['-rf', folder()]);
    fifo(join(folder(), 'auth_client.json'));
    fifo(join(home, '.planet.json'));
    for (const args of [['status'], ['print-access-token'], ['status', '--profile', 'odd']]) {
      const run = await cli(args);
      expect({ args, signal: run.signal, failed: run.code !== 0, stderr: run.stderr }).toEqual({ args, signal: null, failed: true, stderr: expect.stringContaining('is a named pipe (FIFO), not a regular file') });
    }
  }, 90_000);
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
