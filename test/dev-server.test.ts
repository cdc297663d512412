// npm run dev-server when its ports are taken: it moves to the next free
// pair with a one-line notice, and the server it prints answers there.
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, type Server } from 'node:net';
import { join, resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '..');
const TSX = join(ROOT, 'node_modules/tsx/dist/cli.mjs');

function listenOn(port: number): Promise<Server> {
  return new Promise((done, fail) => {
    const server = createServer();
    server.once('error', fail);
    server.listen(port, '127.0.0.1', () => done(server));
  });
}

/** A port whose next port is free too, both held until `release`. */
async function heldPair(): Promise<{ port: number; servers: Server[] }> {
  for (;;) {
    const first = await listenOn(0);
    const port = (first.address() as { port: number }).port;
    if (port > 65000) {
      first.close();
      continue;
    }
    try {
      return { port, servers: [first, await listenOn(port + 1)] };
    } catch {
      first.close();
    }
  }
}

/** Starts the dev server and resolves with its stdout once it printed its exports. */
function startDevServer(env: NodeJS.ProcessEnv): { child: ChildProcess; ready: Promise<string> } {
  const child = spawn(process.execPath, [TSX, join(ROOT, 'test/server/dev-server.ts')], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  const ready = new Promise<string>((done, fail) => {
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
      if (stdout.includes('Ctrl-C stops the server')) done(stdout);
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('exit', (code) => fail(new Error(`dev-server exited with ${code}: ${stderr}${stdout}`)));
  });
  return { child, ready };
}

function stop(child: ChildProcess): Promise<void> {
  return new Promise((done) => {
    if (child.exitCode !== null) return done();
    child.once('exit', () => done());
    child.kill('SIGTERM');
  });
}

test('with DEV_SERVER_PORT taken the dev server takes the next free pair, says so in one line, and serves there', async () => {
  const held = await heldPair();
  const { child, ready } = startDevServer({ DEV_SERVER_PORT: String(held.port) });
  try {
    const stdout = await ready;
    const notices = stdout.split('\n').filter((line) => line.includes('are taken'));
    expect(notices).toHaveLength(1);
    expect(notices[0]).toMatch(new RegExp(`^Ports ${held.port} and ${held.port + 1} are taken; using (\\d+) and (\\d+) \\(set DEV_SERVER_PORT to choose\\)\\.$`));
    const issuer = /^export PLANET_AUTH_ISSUER=(.*)$/m.exec(stdout)![1]!;
    const issuerPort = Number(new URL(issuer).port);
    expect(issuerPort).toBeGreaterThan(held.port + 1);
    expect(notices[0]).toContain(`using ${issuerPort} and ${issuerPort + 1}`);
    const metadata = (await (await fetch(`${issuer}/.well-known/openid-configuration`)).json()) as { issuer: string };
    expect(metadata.issuer).toBe(issuer);
  } finally {
    await stop(child);
    for (const server of held.servers) server.close();
  }
}, 60_000);

test('a DEV_SERVER_PORT that is not a port number is refused with one line saying what to set', async () => {
  const { child, ready } = startDevServer({ DEV_SERVER_PORT: 'eighty' });
  await expect(ready).rejects.toThrow(/exited with 1: dev-server: DEV_SERVER_PORT=eighty is not a port number; use one such as 8765\n$/);
  await stop(child);
}, 60_000);
