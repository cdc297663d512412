// The docs page a newcomer follows: each example with the command that runs
// it and what it needs, the provider code beside the examples that import
// it, and option defaults and scopes taken from the spec (as the CLI's help
// takes them), never written by hand.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inflateSync } from 'node:zlib';
import * as sdk from '../generated/src/index.js';
import { emitAll, projectInputs, specToIR } from '../generator/pipeline.js';
import { CLI_SPEC } from '../generated/src/cli.js';
import { commandTable } from '../generated/src/runtime/cli.js';
import { commandHelp } from '../generated/src/runtime/cli-help.js';
import { ROOT, specCopy } from './support/spec-fixture.js';

const PAGE = readFileSync(join(ROOT, 'generated/docs/application-managed-sessions.md'), 'utf8');
const EXAMPLES = (readFileSync(join(ROOT, 'spec/examples.yaml'), 'utf8').match(/^ {2}- flow: (\S+)\n {4}storage: (\S+)/gm) ?? []).map((block) => {
  const [, flow, storage] = /flow: (\S+)\n {4}storage: (\S+)/.exec(block)!;
  return `${storage}__${flow}`;
});

/** The page's text from the heading of the section holding `marker` to the next heading of that level or higher. */
function sectionAround(page: string, marker: string): string {
  const at = page.indexOf(marker);
  const start = page.lastIndexOf('\n#### ', at);
  const next = page.slice(at).search(/\n#{2,4} /);
  return page.slice(start, next === -1 ? undefined : at + next);
}

function optionRow(page: string, factoryHeading: string, option: string): string[] {
  const section = page.slice(page.indexOf(factoryHeading));
  const row = section.split('\n').find((line) => line.startsWith(`| \`${option}\` |`))!;
  return row.split(' | ').map((c) => c.replace(/^\| |\s*\|$/g, ''));
}

test('every example has the command that runs it, right under its code', () => {
  // The spec's list, read by pattern, is the list of programs the generator wrote.
  expect(EXAMPLES.length).toBe(readdirSync(join(ROOT, 'generated/examples')).filter((f) => f.endsWith('.ts')).length);
  for (const id of EXAMPLES) {
    const section = sectionAround(PAGE, `title="generated/examples/${id}.ts`);
    expect(section).toContain(`\`\`\`sh\nnpx tsx generated/examples/${id}.ts\n\`\`\``);
  }
  expect(PAGE).toContain('## Running the examples');
  expect(PAGE).toContain('`npm run dev-server`');
  expect(PAGE).toContain('`DEV_SERVER_PORT`');
});

test('an example that imports a provider shows it beside the example, with the package and server it needs', () => {
  for (const id of EXAMPLES.filter((e) => e.startsWith('redis_shared__'))) {
    const section = sectionAround(PAGE, `title="generated/examples/${id}.ts`);
    expect(section).toContain('the `redis` package (installed in the workspace; in an application, `npm install redis`)');
    expect(section).toContain('a server at `redis://127.0.0.1:6379`');
    expect(section).toContain('title="generated/examples/providers/redis_shared.ts"');
    expect(section).toContain(
      readFileSync(join(ROOT, 'generated/examples/providers/redis_shared.ts'), 'utf8')
        .split('\n')
        .find((l) => l.startsWith('export class'))!,
    );
  }
  for (const id of EXAMPLES.filter((e) => e.startsWith('app_custom_storage__'))) {
    expect(sectionAround(PAGE, `title="generated/examples/${id}.ts`)).toContain('title="generated/examples/providers/app_custom_storage.ts"');
  }
  for (const id of EXAMPLES.filter((e) => e.startsWith('in_memory__'))) {
    expect(sectionAround(PAGE, `title="generated/examples/${id}.ts`)).not.toContain('providers/');
  }
});

test('the scope defaults in the options tables and the scopes table are the ones the CLI help shows, for users and service accounts', () => {
  expect(optionRow(PAGE, '### With a local web browser', 'requestedScopes')[3]).toBe('`planet`, `offline_access`');
  expect(optionRow(PAGE, '### Service account', 'requestedScopes')[3]).toBe('`planet`');
  expect(optionRow(PAGE, '### Service account', 'requestTimeoutSeconds')[3]).toBe('`30`');
  const table = commandTable(CLI_SPEC);
  const help = (words: string) =>
    commandHelp(
      CLI_SPEC,
      table.find((c) => c.path.join(' ') === words)!,
    );
  expect(help('login service-account')).toMatch(/Default: the profile's, else planet\./);
  expect(help('login device')).toMatch(/Default: the profile's, else planet offline_access\./);
  expect(PAGE).toMatch(/\| `PlanetOAuthScopes\.OFFLINE_ACCESS` \| `offline_access` \| .* \| `fromOAuthUserAuthCode\(\)`, `fromOAuthUserDeviceCode\(\)`, `fromOAuthUserDeviceCodeDPoP\(\)` \|/);
});

test('no spec text states a default value in prose: a changed default changes every table', () => {
  const dir = specCopy({
    'sdk.yaml': (t) => t.replace('defaultScopes: [PLANET, OFFLINE_ACCESS]', 'defaultScopes: [PLANET]').replace(/(- name: requestTimeoutSeconds\n\s+default:) 30/, '$1 45'),
  });
  const inputs = projectInputs(ROOT, dir, 'spec');
  const page = emitAll(specToIR(inputs), inputs).get('docs/application-managed-sessions.md')!;
  expect(optionRow(page, '### With a local web browser', 'requestedScopes')[3]).toBe('`planet`');
  expect(optionRow(page, '### With a local web browser', 'requestTimeoutSeconds')[3]).toBe('`45`');
  // Other bounds of 30 s exist (a turn's wait, a provider's reconnects): only a sentence about requests may not restate the old default.
  const prose = page.replace(/```[\s\S]*?```/g, '');
  expect(prose.split(/(?<=[.;])\s+/).filter((sentence) => /\b30 s\b/.test(sentence) && /request/i.test(sentence))).toEqual([]);
  expect(prose).not.toMatch(/defaults? to `?planet/i);
  for (const file of ['sdk.yaml', 'flows/auth_code.yaml', 'flows/device_code.yaml', 'flows/m2m.yaml']) {
    expect({ file, prose: /defaults? to `?(planet|offline_access|30\b)/i.test(readFileSync(join(ROOT, 'spec', file), 'utf8')) }).toEqual({ file, prose: false });
  }
});

test('the page names the command that builds the API reference and where it goes, and links nowhere a fresh clone lacks', () => {
  expect(PAGE).toMatch(/`npm run docs`\s+in the workspace builds it into `api-reference\/`/);
  for (const [, target] of PAGE.matchAll(/\]\(([^)#][^)]*)\)/g)) expect(target).toMatch(/^https?:/);
  const rootPackage = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
  expect(rootPackage.scripts['docs']).toContain('generated/typedoc.json');
  const typedoc = JSON.parse(readFileSync(join(ROOT, 'generated/typedoc.json'), 'utf8').replace(/^\/\/.*$/gm, '')) as { out: string };
  expect(join(ROOT, 'generated', typedoc.out)).toBe(join(ROOT, 'api-reference'));
});

test('the API reference, built as `npm run docs` builds it, opens on the guide, groups every symbol as Auth, Session, Storage, Events, Errors, lists the factories first and every error code in one table', () => {
  const out = mkdtempSync(join(tmpdir(), 'api-reference-'));
  try {
    const rootPackage = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
    const [command, ...args] = rootPackage.scripts['docs']!.split(' ');
    const run = spawnSync(join(ROOT, 'node_modules/.bin', command!), [...args, '--out', out], { cwd: ROOT, encoding: 'utf8', timeout: 120_000 });
    expect({ status: run.status, warnings: `${run.stdout}${run.stderr}`.split('\n').filter((l) => /warning|error\]/i.test(l) && !/Found 0 errors and 0 warnings/.test(l)) }).toEqual({ status: 0, warnings: [] });

    const headings = (file: string) => [...readFileSync(join(out, file), 'utf8').matchAll(/<h2[^>]*>([^<]+)</g)].map((m) => m[1]!.trim());
    // The index page is the guide; the groups are the module index and the navigation.
    expect(readFileSync(join(out, 'index.html'), 'utf8')).toMatch(/<h1[^>]*>Application-managed OAuth2 sessions</);
    expect(headings('modules.html')).toEqual(['Auth', 'Session', 'Storage', 'Events', 'Errors']);
    const encoded = /navigationData = "([^"]+)"/.exec(readFileSync(join(out, 'assets/navigation.js'), 'utf8'))![1]!;
    const navigation = JSON.parse(inflateSync(Buffer.from(encoded, 'base64')).toString('utf8')) as { text: string; children?: { text: string }[] }[];
    expect(navigation.map((n) => n.text)).toEqual(['Auth', 'Session', 'Storage', 'Events', 'Errors']);
    expect(navigation.find((n) => n.text === 'Errors')!.children!.map((c) => c.text)).toEqual(expect.arrayContaining(['PlanetAuthError', 'ERR_STORAGE', 'PlanetAuthErrorCode']));

    // The Auth page: the factories come first.
    const auth = readFileSync(join(out, 'classes/Auth.html'), 'utf8');
    const members = [...auth.slice(auth.indexOf('tsd-index-panel')).matchAll(/class="tsd-index-link[^"]*"[^>]*>.*?<span>(.*?)<\/span>/gs)].map((m) => m[1]!.replace(/<wbr\/>/g, ''));
    const factories = Object.getOwnPropertyNames(sdk.Auth).filter((name) => name.startsWith('from'));
    expect(factories.length).toBeGreaterThan(2);
    expect(new Set(members.slice(0, factories.length))).toEqual(new Set(factories));

    // Every code the package exports is a row of one table, with the class it comes with.
    const table = readFileSync(join(out, 'types/PlanetAuthErrorCode.html'), 'utf8');
    const rows = [...table.matchAll(/<tr>\s*<td><code>(ERR_\w+)<\/code><\/td>\s*<td><a[^>]*>(?:<code>)?(\w+Error)/g)].map((m) => m[1]!);
    const codes = Object.keys(sdk).filter((name) => name.startsWith('ERR_'));
    expect(codes.length).toBeGreaterThan(10);
    expect(rows.sort()).toEqual(codes.sort());
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}, 180_000);
