// The generated package as its users get it: packed with `npm pack`,
// installed from the tarball by npm, pnpm and yarn into fresh apps, then
// type-checked with strict settings on two TypeScript versions and both
// module resolutions, and run as an ES module, as CommonJS and as esbuild
// bundles, each logging in as a service account against the embedded server.
import { execFile } from 'node:child_process';
import { createServer, type IncomingMessage } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join, resolve } from 'node:path';
import { importedPackages } from '../generator/emit/package.js';
import { findLeaks } from './support/secrets.js';
import { useEmbeddedServer } from './support/server-fixture.js';
import { M2M_CLIENT_ID, M2M_CLIENT_SECRET, startAuthServer, type RunningServer } from './server/auth-server.js';

const ROOT = resolve(import.meta.dirname, '..');
const BIN = join(ROOT, 'node_modules', '.bin');
const TYPESCRIPTS = { '5.4': join(ROOT, 'node_modules/typescript-5.4/bin/tsc'), '5.9': join(ROOT, 'node_modules/typescript/bin/tsc') } as const;
// Package managers keep their caches in the real home, shared by every run.
const REAL_HOME = process.env['HOME'] ?? tmpdir();
const TYPES_NODE = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { devDependencies: Record<string, string> }).devDependencies['@types/node']!;

const MANAGERS = {
  npm: ['npm', 'install', '--no-audit', '--no-fund', '--loglevel=error'],
  pnpm: ['npx', '-y', 'pnpm@9', 'install', '--reporter=silent'],
  yarn: ['npx', '-y', 'yarn@1', 'install', '--non-interactive', '--silent', '--no-progress'],
} as const;
type Manager = keyof typeof MANAGERS;

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

function run(command: string, args: readonly string[], cwd: string, env: NodeJS.ProcessEnv = process.env): Promise<Run> {
  return new Promise((done) => {
    execFile(command, args, { cwd, env, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
      done({ code, stdout, stderr });
    });
  });
}

function expectSuccess(what: string, result: Run): void {
  if (result.code !== 0) throw new Error(`${what} exited ${result.code}\n${result.stdout}\n${result.stderr}`.slice(0, 6000));
}

const STRICT = {
  target: 'ES2022',
  strict: true,
  exactOptionalPropertyTypes: true,
  noUncheckedIndexedAccess: true,
  skipLibCheck: false,
  noEmit: true,
  types: ['node'],
};

// The same program three ways: TypeScript (type-checked, then bundled), plain
// JavaScript as an ES module, and CommonJS with require().
const APP_BODY = `
const auth = Auth.fromOAuthM2M({
  clientId: process.env['PLANET_EXAMPLE_M2M_CLIENT_ID'] ?? '',
  clientSecret: process.env['PLANET_EXAMPLE_M2M_CLIENT_SECRET'] ?? '',
});
const session = new Session(auth);
const response = await session.fetch('/data/v1/searches');
const body = await response.json();
const status = await auth.sessionStatus();
console.log(JSON.stringify({ how: process.argv[2], status: response.status, searches: body.searches.length, storage: status.storage, loggedIn: status.loggedIn }));
`;

const APP_FILES: Record<string, string> = {
  'app.ts': `import { Auth, PlanetAuthError, Session, type OAuthM2MOptions } from '@planet-auth/sdk';
const options: OAuthM2MOptions = {
  clientId: process.env['PLANET_EXAMPLE_M2M_CLIENT_ID'] ?? '',
  clientSecret: process.env['PLANET_EXAMPLE_M2M_CLIENT_SECRET'] ?? '',
  requestedScopes: ['planet'],
};
const auth = Auth.fromOAuthM2M(options);
const session = new Session(auth);
try {
  const response = await session.fetch('/data/v1/searches');
  const body = (await response.json()) as { searches: unknown[] };
  const status = await auth.sessionStatus();
  console.log(JSON.stringify({ how: process.argv[2], status: response.status, searches: body.searches.length, storage: status.storage, loggedIn: status.loggedIn }));
} catch (error) {
  if (error instanceof PlanetAuthError) console.error(error.code, error.message);
  process.exitCode = 1;
}
`,
  'app.mjs': `import { Auth, Session } from '@planet-auth/sdk';\n${APP_BODY}`,
  'app.cjs': `const { Auth, Session } = require('@planet-auth/sdk');\n(async () => {${APP_BODY}})().catch((error) => { console.error(error.code, error.message); process.exitCode = 1; });\n`,
  'tsconfig.nodenext.json': JSON.stringify({ compilerOptions: { ...STRICT, module: 'nodenext', moduleResolution: 'nodenext' }, files: ['app.ts'] }),
  'tsconfig.bundler.json': JSON.stringify({ compilerOptions: { ...STRICT, module: 'esnext', moduleResolution: 'bundler' }, files: ['app.ts'] }),
};

// Every TypeScript version and resolution with npm's layout, plus the
// two-server program, the README's programs and a CommonJS module (checked
// in one program with the app under nodenext on 5.9, since they share its
// settings) and the settings `tsc --init` writes (types: [], so the
// declarations must bring in Node's types themselves); pnpm's symlinked and
// yarn's hoisted layouts fewer times, since only where files sit differs.
const TYPE_CHECKS: Record<Manager, readonly string[]> = {
  npm: ['5.4 nodenext', '5.4 bundler', '5.9 all', '5.9 bundler', '5.9 init'],
  pnpm: ['5.4 bundler', '5.9 nodenext'],
  yarn: ['5.9 nodenext'],
};

async function typeCheck(dir: string, check: string): Promise<Run> {
  const [version, project] = check.split(' ') as [keyof typeof TYPESCRIPTS, string];
  const tsc = TYPESCRIPTS[version];
  if (project !== 'init') return run(process.execPath, [tsc, '-p', `tsconfig.${project}.json`], dir);
  // A folder of its own, since the settings of `tsc --init` take every file below them.
  const initDir = join(dir, 'init');
  mkdirSync(initDir);
  writeFileSync(join(initDir, 'app.ts'), APP_FILES['app.ts']!);
  const init = await run(process.execPath, [tsc, '--init'], initDir);
  if (init.code !== 0) return init;
  return run(process.execPath, [tsc, '-p', 'tsconfig.json', '--skipLibCheck', 'false', '--noEmit'], initDir);
}

/** Runs the jobs `lanes` at a time, in order; one promise per job. */
function inLanes<T>(jobs: readonly (() => Promise<T>)[], lanes: number): Promise<T>[] {
  const tails: Promise<unknown>[] = Array.from({ length: lanes }, () => Promise.resolve());
  return jobs.map((job, i) => {
    const result = tails[i % lanes]!.then(job);
    tails[i % lanes] = result.catch(() => undefined);
    return result;
  });
}

const UNDICI = '7.30.2';

// Two servers chosen in code (no environment variable names them), each with
// its own session; the second through an HTTP proxy by undici's fetch, as
// the README shows.
const NPM_APP_FILES: Record<string, string> = {
  'servers.ts': `import { Auth, Session, type FetchFunction } from '@planet-auth/sdk';
import { ProxyAgent, fetch as undiciFetch, type RequestInfo, type RequestInit } from 'undici';

interface Server {
  readonly issuer: string;
  readonly apiBaseUrl: string;
  readonly audience: string;
}
const [first, second] = [process.argv[2], process.argv[3]].map((arg) => JSON.parse(arg ?? '{}') as Server) as [Server, Server];
const proxy = new ProxyAgent(process.argv[4] ?? '');
const proxiedFetch: FetchFunction = async (input, init) =>
  (await undiciFetch(input as RequestInfo, { ...init, dispatcher: proxy } as RequestInit)) as unknown as Response;

const credentials = { clientId: process.env['TEST_CLIENT_ID'] ?? '', clientSecret: process.env['TEST_CLIENT_SECRET'] ?? '' };
const direct = Auth.fromOAuthM2M({ ...credentials, ...first, profileName: 'first' });
const proxied = Auth.fromOAuthM2M({ ...credentials, ...second, profileName: 'second', fetch: proxiedFetch });
const results: unknown[] = [];
for (const auth of [direct, proxied]) {
  const response = await new Session(auth).fetch('/data/v1/searches');
  const status = await auth.sessionStatus();
  results.push({ profile: status.profile, issuer: status.issuer, api: response.status, loggedIn: status.loggedIn });
}
console.log(JSON.stringify(results));
await proxy.close();
`,
  // CommonJS TypeScript: TypeScript 5.8 and later type require(esm), as the README says.
  'app.cts': `import { Auth, type SessionStatus } from '@planet-auth/sdk';
const describe = (status: SessionStatus): string => status.profile;
console.log(typeof Auth.fromOAuthM2M, describe);
`,
  // The app, the two-server program, the CommonJS module and the README's complete programs (readme-*.ts, written after install).
  'tsconfig.all.json': JSON.stringify({ compilerOptions: { ...STRICT, module: 'nodenext', moduleResolution: 'nodenext' }, files: ['app.ts', 'app.cts', 'servers.ts'], include: ['readme-*.ts'] }),
};

/** The README's TypeScript blocks that are whole programs (they import the package). */
function readmePrograms(readme: string): string[] {
  return [...readme.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]!).filter((code) => /^import .* from '@planet-auth\/sdk';$/m.test(code));
}

/** An HTTP proxy on 127.0.0.1 that tunnels CONNECT requests and records where to. */
async function startConnectProxy(): Promise<{ url: string; targets: string[]; close: () => Promise<void> }> {
  const targets: string[] = [];
  const server = createServer((_req, res) => res.writeHead(405).end());
  server.on('connect', (req: IncomingMessage, client: Socket, head: Buffer) => {
    const target = req.url ?? '';
    targets.push(target);
    const [host, port] = [target.slice(0, target.lastIndexOf(':')), Number(target.slice(target.lastIndexOf(':') + 1))];
    const upstream = connect(port, host, () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    upstream.on('error', () => client.destroy());
    client.on('error', () => upstream.destroy());
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    targets,
    close: () => new Promise<void>((done) => server.close(() => done())),
  };
}

describe('the packed package in fresh apps', () => {
  const fixture = useEmbeddedServer();
  const work = mkdtempSync(join(tmpdir(), 'planet-consumer-'));
  const apps = {} as Record<Manager, string>;
  let tarball = '';
  const checks = {} as Record<Manager, Promise<(readonly [string, Run])[]>>;

  beforeAll(async () => {
    // Packed from a copy (with the dist/ the workspace built), so packing never
    // touches the generated/ that other test files run.
    const source = join(work, 'source', 'generated');
    cpSync(join(ROOT, 'generated'), source, { recursive: true, filter: (from) => !/[\\/]node_modules$/.test(from) });
    symlinkSync(join(ROOT, 'node_modules'), join(work, 'source', 'node_modules'));
    const packEnv = { ...process.env, PATH: `${BIN}${delimiter}${process.env['PATH'] ?? ''}` };
    expectSuccess('npm pack', await run('npm', ['pack', '--pack-destination', work, '--loglevel=error'], source, packEnv));
    tarball = join(
      work,
      readdirSync(work).find((name) => name.endsWith('.tgz'))!,
    );
    const installEnv = { ...process.env, HOME: REAL_HOME, npm_config_update_notifier: 'false' };
    await Promise.all(
      (Object.keys(MANAGERS) as Manager[]).map(async (manager) => {
        const dir = join(work, manager);
        mkdirSync(dir);
        const extra = manager === 'npm' ? { undici: UNDICI } : {};
        const pkg = { name: `consumer-${manager}`, private: true, type: 'module', dependencies: { '@planet-auth/sdk': `file:${tarball}`, ...extra }, devDependencies: { '@types/node': TYPES_NODE } };
        writeFileSync(join(dir, 'package.json'), JSON.stringify(pkg, null, 2));
        for (const [name, text] of Object.entries({ ...APP_FILES, ...(manager === 'npm' ? NPM_APP_FILES : {}) })) writeFileSync(join(dir, name), text);
        const [command, ...args] = MANAGERS[manager];
        expectSuccess(`${manager} install`, await run(command, args, dir, installEnv));
        apps[manager] = dir;
        if (manager === 'npm') {
          const readme = readFileSync(join(dir, 'node_modules/@planet-auth/sdk/README.md'), 'utf8');
          readmePrograms(readme).forEach((code, i) => writeFileSync(join(dir, `readme-${i + 1}.ts`), code));
        }
      }),
    );
    // Type checks are the slow part (about 10 s each here): two at a time,
    // started now so they overlap the program runs.
    const jobs = (Object.keys(MANAGERS) as Manager[]).flatMap((manager) => TYPE_CHECKS[manager].map((check) => ({ manager, check, job: () => typeCheck(apps[manager], check) })));
    const results = inLanes(
      jobs.map((j) => j.job),
      2,
    );
    for (const manager of Object.keys(MANAGERS) as Manager[]) {
      const mine = jobs.map((j, i) => ({ ...j, result: results[i]! })).filter((j) => j.manager === manager);
      checks[manager] = Promise.all(mine.map(async (j) => [`tsc ${j.check}`, await j.result] as const));
    }
  }, 300_000);

  let second: RunningServer | undefined;
  let proxy: Awaited<ReturnType<typeof startConnectProxy>> | undefined;
  beforeAll(async () => {
    second = await startAuthServer();
    proxy = await startConnectProxy();
  });

  afterAll(async () => {
    await second?.close();
    await proxy?.close();
    rmSync(work, { recursive: true, force: true });
  });

  test('two servers in one process, chosen in code, each with its own session; one through a proxy by a custom fetch', async () => {
    const dir = apps.npm;
    expectSuccess('esbuild servers.ts', await run(join(BIN, 'esbuild'), ['servers.ts', '--format=esm', '--platform=node', '--outfile=servers.mjs', '--log-level=warning'], dir));
    const [a, b] = [fixture.server(), second!];
    b.resetCounts();
    const where = (s: RunningServer) => JSON.stringify({ issuer: s.issuer, apiBaseUrl: s.apiBaseUrl, audience: s.audience });
    // No variable names a server: the code alone chooses.
    const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !/^(PLANET_|PL_AUTH_)/.test(name)));
    const result = await run(process.execPath, ['servers.mjs', where(a), where(b), proxy!.url], dir, { ...env, TEST_CLIENT_ID: M2M_CLIENT_ID, TEST_CLIENT_SECRET: M2M_CLIENT_SECRET });
    expectSuccess('node servers.mjs', result);
    expect(JSON.parse(result.stdout)).toEqual([
      { profile: 'first', issuer: a.issuer, api: 200, loggedIn: true },
      { profile: 'second', issuer: b.issuer, api: 200, loggedIn: true },
    ]);
    for (const server of [a, b]) {
      expect(server.count('token:client_credentials')).toBe(1);
      expect(server.count('api:ok')).toBe(1);
    }
    const authority = (url: string) => new URL(url).host;
    expect(new Set(proxy!.targets)).toEqual(new Set([authority(b.issuer), authority(b.apiBaseUrl)]));
    for (const profile of ['first', 'second']) expect(readdirSync(join(fixture.home(), '.planet', profile))).toContain('token.json');
    expect(findLeaks({ what: 'servers.mjs', stdout: result.stdout, stderr: result.stderr })).toEqual([]);
  }, 120_000);

  test('the tarball holds the bundles, declarations, README and LICENSE only, and depends on exactly what the code imports', async () => {
    const listed = await run('tar', ['-tzf', tarball], work);
    const files = listed.stdout
      .split('\n')
      .filter(Boolean)
      .map((f) => f.replace(/^package\//, ''));
    expect(files).toEqual(expect.arrayContaining(['README.md', 'LICENSE', 'package.json', 'dist/bundle/index.js', 'dist/bundle/planet-auth.cjs', 'dist/index.d.ts', 'bin/cli.cjs']));
    // No source maps, sources, compiled modules the bundles replace, docs page, examples or API reference.
    expect(files.filter((f) => !/^(README\.md|LICENSE|package\.json|bin\/cli\.cjs|dist\/bundle\/[\w-]+\.c?js|dist\/.*\.d\.ts)$/.test(f))).toEqual([]);
    const installed = join(apps.npm, 'node_modules/@planet-auth/sdk');
    const pkg = JSON.parse(readFileSync(join(installed, 'package.json'), 'utf8')) as Record<string, unknown> & { dependencies: Record<string, string> };
    expect(pkg).toMatchObject({
      license: 'MIT',
      types: './dist/index.d.ts',
      sideEffects: false,
      exports: { '.': { types: './dist/index.d.ts', default: './dist/bundle/index.js' }, './package.json': './package.json' },
      // The OS keychain binding is loaded only by the keychain mode: an optional peer, not installed for everyone.
      peerDependenciesMeta: { '@types/node': { optional: true }, '@napi-rs/keyring': { optional: true } },
    });
    expect(pkg['homepage']).toMatch(/^https:\/\/github\.com\/.*\/tree\/main\/generated#readme$/);
    expect(pkg.dependencies['@napi-rs/keyring']).toBeUndefined();
    expect(existsSync(join(apps.npm, 'node_modules/@napi-rs/keyring'))).toBe(false);
    const imported = new Set<string>();
    const walk = (dir: string): void => {
      for (const entry of readdirSync(dir, { withFileTypes: true })) {
        const full = join(dir, entry.name);
        if (entry.isDirectory()) walk(full);
        else if (/\.(c?js|d\.ts)$/.test(entry.name)) for (const name of importedPackages(readFileSync(full, 'utf8'))) imported.add(name);
      }
    };
    walk(join(installed, 'dist'));
    expect(Object.keys(pkg.dependencies).sort()).toEqual([...imported].sort());
    expectSuccess('npm ls --all', await run('npm', ['ls', '--all'], apps.npm, { ...process.env, HOME: REAL_HOME }));
    // The README's programs are type-checked with the two-server program: the usage and the proxy.
    expect(readdirSync(apps.npm).filter((name) => name.startsWith('readme-'))).toEqual(['readme-1.ts', 'readme-2.ts']);
  });

  describe.each(Object.keys(MANAGERS) as Manager[])('installed with %s', (manager) => {
    test('type-checks under strict settings', async () => {
      for (const [what, result] of await checks[manager]) expectSuccess(`${manager}: ${what}`, result);
    }, 300_000);

    test('runs as an ES module, with require() and as esbuild bundles, logging in and calling the API', async () => {
      const dir = apps[manager];
      const esbuild = join(BIN, 'esbuild');
      expectSuccess('esbuild esm', await run(esbuild, ['app.ts', '--bundle', '--platform=node', '--format=esm', '--outfile=bundle.mjs', '--log-level=warning'], dir));
      expectSuccess('esbuild cjs', await run(esbuild, ['app.cjs', '--bundle', '--platform=node', '--format=cjs', '--outfile=bundle.cjs', '--log-level=warning'], dir));
      const programs = ['app.mjs', 'app.cjs', 'bundle.mjs', 'bundle.cjs'];
      for (const program of programs) {
        const result = await run(process.execPath, [program, program], dir);
        expectSuccess(`${manager}: node ${program}`, result);
        expect(JSON.parse(result.stdout)).toEqual({ how: program, status: 200, searches: 2, storage: 'disk', loggedIn: true });
        expect(findLeaks({ what: program, stdout: result.stdout, stderr: result.stderr })).toEqual([]);
      }
      // The first program logs in and saves the session on disk; the others reuse it.
      expect(fixture.server().count('token:client_credentials')).toBe(1);
      expect(fixture.server().count('api:ok')).toBe(programs.length);
    }, 120_000);
  });
});

// Yarn 4 in Plug'n'Play mode: no node_modules, and `fs` patched by Yarn's
// runtime, which lacks some FileHandle methods. One install, then the
// on-disk flows (a service account's session saved and reused) and the CLI.
describe("the packed package installed with Yarn 4 in Plug'n'Play mode", () => {
  const fixture = useEmbeddedServer();
  const work = mkdtempSync(join(tmpdir(), 'planet-yarn-pnp-'));
  const app = join(work, 'app');
  const YARN = ['npx', '-y', '-p', '@yarnpkg/cli-dist@4.18.1', 'yarn'] as const;
  const yarnEnv = (extra: Record<string, string> = {}): NodeJS.ProcessEnv => ({
    ...process.env,
    HOME: REAL_HOME,
    // Under CI=true Yarn 4 refuses to write a lockfile unless told it may.
    YARN_ENABLE_IMMUTABLE_INSTALLS: 'false',
    YARN_ENABLE_TELEMETRY: '0',
    YARN_ENABLE_GLOBAL_CACHE: 'true',
    // Fixed, so the runs below may point HOME at a temporary folder.
    YARN_GLOBAL_FOLDER: join(REAL_HOME, '.yarn', 'berry'),
    YARN_NODE_LINKER: 'pnp',
    npm_config_update_notifier: 'false',
    ...extra,
  });
  const yarn = (args: readonly string[], extra: Record<string, string> = {}) => run(YARN[0], [...YARN.slice(1), ...args], app, yarnEnv(extra));

  beforeAll(async () => {
    const source = join(work, 'source', 'generated');
    cpSync(join(ROOT, 'generated'), source, { recursive: true, filter: (from) => !/[\\/]node_modules$/.test(from) });
    symlinkSync(join(ROOT, 'node_modules'), join(work, 'source', 'node_modules'));
    const packEnv = { ...process.env, PATH: `${BIN}${delimiter}${process.env['PATH'] ?? ''}` };
    expectSuccess('npm pack', await run('npm', ['pack', '--pack-destination', work, '--loglevel=error'], source, packEnv));
    const tarball = join(
      work,
      readdirSync(work).find((name) => name.endsWith('.tgz'))!,
    );
    mkdirSync(app);
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'consumer-yarn-pnp', private: true, type: 'module', dependencies: { '@planet-auth/sdk': `file:${tarball}` } }, null, 2));
    writeFileSync(join(app, 'app.mjs'), APP_FILES['app.mjs']!);
    writeFileSync(join(app, 'yarn.lock'), '');
    expectSuccess('yarn 4 install', await yarn(['install']));
  }, 300_000);

  afterAll(() => rmSync(work, { recursive: true, force: true }));

  test('installs without node_modules, saves and reuses the session on disk, and runs the CLI', async () => {
    expect(existsSync(join(app, '.pnp.cjs'))).toBe(true);
    expect(existsSync(join(app, 'node_modules'))).toBe(false);
    const env = { HOME: fixture.home() };
    for (const how of ['first', 'second']) {
      const result = await yarn(['node', 'app.mjs', how], env);
      expectSuccess(`yarn node app.mjs ${how}`, result);
      expect(JSON.parse(result.stdout)).toEqual({ how, status: 200, searches: 2, storage: 'disk', loggedIn: true });
    }
    expect(fixture.server().count('token:client_credentials')).toBe(1);
    expect(readdirSync(join(fixture.home(), '.planet')).filter((profile) => existsSync(join(fixture.home(), '.planet', profile, 'token.json')))).toHaveLength(1);

    const login = await yarn(['planet-auth', 'login', 'service-account', '--client-id', M2M_CLIENT_ID, '--profile', 'yarn-pnp'], { ...env, PL_AUTH_CLIENT_SECRET: M2M_CLIENT_SECRET });
    expectSuccess('yarn planet-auth login service-account', login);
    const status = await yarn(['planet-auth', 'status', '--json', '--profile', 'yarn-pnp'], env);
    expectSuccess('yarn planet-auth status', status);
    expect(JSON.parse(status.stdout)).toMatchObject({ profile: 'yarn-pnp', logged_in: true, access_token_valid: true });
    expect(findLeaks({ what: 'yarn planet-auth', stdout: login.stdout + status.stdout, stderr: login.stderr + status.stderr })).toEqual([]);
  }, 180_000);
});
