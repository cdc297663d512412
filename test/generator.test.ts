import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { checkedBefore, recordChecked } from '../generator/build.js';
import { formatDiagnostics, SpecError } from '../generator/diagnostics.js';
import { parseArgs, paths, runReporting } from '../generator/main.js';
import { exampleForReaders } from '../generator/emit/docs.js';
import { emitAll, generate, projectInputs, specToIR } from '../generator/pipeline.js';
import { REGISTRY_ENUMS, schemaDrift, schemaValueAt, writeRegistryEnums } from '../generator/registry.js';
import { compiledHeader } from '../generator/text.js';
import { EmittedTypeChecker } from '../generator/typecheck.js';
import { checkOutput, writeOutput } from '../generator/write.js';
import { tempHome } from './support/env.js';
import { useEmbeddedServer } from './support/server-fixture.js';
import { ROOT, scratchDir, specCopy, typecheckGenerated } from './support/spec-fixture.js';
import { parse } from 'yaml';
import { TOKEN_ENDPOINT_AUTH_METHODS } from '../templates/runtime/registry.js';

// What the spec holds now, so these tests need no edit when a flow, an example or an auth method is added.
const SPEC_FLOW_FILES = readdirSync(join(ROOT, 'spec/flows'))
  .filter((f) => f.endsWith('.yaml'))
  .sort()
  .map((f) => parse(readFileSync(join(ROOT, 'spec/flows', f), 'utf8')) as { id: string; order: number });
/** The flows in the order the generator lists them. */
const SPEC_FLOWS = [...SPEC_FLOW_FILES].sort((a, b) => a.order - b.order);
/** The flows' ids, quoted, in the order of their files, as the validator names them. */
const FLOWS_BY_FILE = SPEC_FLOW_FILES.map((f) => JSON.stringify(f.id)).join(', ');
const SPEC_EXAMPLE_COUNT = (parse(readFileSync(join(ROOT, 'spec/examples.yaml'), 'utf8')) as { examples: unknown[] }).examples.length;
/** The auth methods whose clients hold a credential, quoted. */
const CREDENTIAL_METHODS = Object.entries(TOKEN_ENDPOINT_AUTH_METHODS)
  .filter(([, m]) => m.holds !== 'nothing')
  .map(([name]) => JSON.stringify(name))
  .join(', ');

const checker = new EmittedTypeChecker(ROOT);

/** The problems the generator reports for a spec folder, type check included. */
function specErrors(specDir: string): string {
  try {
    generate(projectInputs(ROOT, specDir, 'spec'), checker);
  } catch (error) {
    if (error instanceof SpecError) return formatDiagnostics(error.diagnostics);
    throw error;
  }
  throw new Error('the spec was accepted');
}

let realFiles: Map<string, string> | undefined;

/** What the generator emits for the real spec, type check included: made once, for the tests that only read it. */
function realOutput(): ReadonlyMap<string, string> {
  return (realFiles ??= generate(projectInputs(ROOT), checker).files);
}

/** What the generator emits for a copy of the spec with `edits`, type check included. */
function generated(edits: Parameters<typeof specCopy>[0]): Map<string, string> {
  return generate(projectInputs(ROOT, specCopy(edits), 'spec'), checker).files;
}

/** `expected` with `:L` standing for any line number, where the line depends on the real sdk.yaml. */
function expectProblems(actual: string, expected: string): void {
  const escaped = expected.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  expect(actual).toMatch(new RegExp(`^${escaped.replace(/:L(?=[: ])/g, ':\\d+')}$`));
}

/** The generator's command, as `npm run generate` starts it, without a warm server (each run stands alone). */
const GENERATOR = [join(ROOT, 'generator/run.mjs')];
const ALONE = { ...process.env, GENERATOR_SERVER: '0' };

/**
 * The generator's command line run in this process, with this file's compiler
 * (the spawned command is tested where spawning is the point); `shownSpec` is
 * how the spec folder is printed, as a run from the spec's parent folder would.
 */
async function cli(args: string[], shownSpec?: string): Promise<{ status: number; stdout: string; stderr: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const parsed = parseArgs(args);
  const where = paths(ROOT, parsed);
  const status = await runReporting(parsed, shownSpec === undefined ? where : { ...where, shownSpec }, { out: (t) => out.push(t), err: (t) => err.push(t) }, { checker });
  return { status, stdout: out.join('\n'), stderr: err.join('\n') };
}

describe('the real spec', () => {
  const inputs = projectInputs(ROOT);

  test('generating twice gives identical bytes', () => {
    const first = generate(inputs, checker).files;
    const second = generate(inputs, checker).files;
    expect([...second.keys()]).toEqual([...first.keys()]);
    for (const [path, text] of first) expect(second.get(path)).toBe(text);
  });

  test('every file of the built package, JavaScript, declarations and bundles, names its sources in line comments a minifier drops', () => {
    const dist = join(ROOT, 'generated/dist');
    const built = readdirSync(dist, { recursive: true, encoding: 'utf8' }).filter((p) => /\.(c?js|d\.ts)$/.test(p));
    expect(built.length).toBeGreaterThan(40);
    const unmarked = built.filter((p) => !/^\/\/ Code generated by npm run (generate|build) from .*DO NOT EDIT\./.test(readFileSync(join(dist, p), 'utf8')));
    expect(unmarked).toEqual([]);
    expect(built.filter((p) => readFileSync(join(dist, p), 'utf8').includes('/*!'))).toEqual([]);
  });

  test('emits the client, nineteen examples, their providers and the docs page, each with a header naming its sources', () => {
    const files = realOutput();
    const examples = [...files.keys()].filter((p) => p.startsWith('examples/') && !p.startsWith('examples/providers/'));
    expect(examples).toHaveLength(19);
    expect([...files.keys()].filter((p) => p.startsWith('examples/providers/'))).toEqual(['examples/providers/app_custom_storage.ts', 'examples/providers/redis_shared.ts']);
    expect(examples).toContain('examples/on_disk_cli_shared__oauth_user_devicecode__external_browser.ts');
    for (const [path, text] of files) {
      if (path === 'LICENSE') continue; // the license text alone, so tools recognise it
      expect(text).toMatch(/Code generated by npm run generate from (package\.json, )?(spec|templates\/runtime)\//);
      expect(text).toContain('DO NOT EDIT');
      expect(text).not.toMatch(/\d{4}-\d{2}-\d{2}T|\/work\/|\/tmp\//);
      if (path.endsWith('.ts')) expect(text.startsWith('// Code generated')).toBe(true);
    }
    const auth = files.get('src/auth.ts')!;
    for (const factory of ['fromOAuthUserAuthCode', 'fromOAuthUserDeviceCode', 'fromOAuthM2M', 'fromProfile', 'fromUserDefaultSession']) {
      expect(auth).toContain(`static ${factory}(`);
    }
    expect(files.get('src/storage-provider.ts')).toMatch(/export interface ObjectStorageProvider \{[\s\S]*loadObj\(key: string\): Promise<Record<string, unknown>>;[\s\S]*deleteObj\(key: string\): Promise<void>;/);
  });

  test('the docs page embeds every example exactly as generated', () => {
    const files = realOutput();
    const docs = files.get('docs/application-managed-sessions.md')!;
    for (const [path, text] of files) {
      if (path.startsWith('examples/')) expect(docs).toContain(exampleForReaders(text));
    }
    expect(docs).toContain('PLANET_AUTH_ISSUER');
  });

  test('generate:check passes on the committed output and names each stale, missing or extra file', async () => {
    const out = scratchDir('out');
    const files = emitAll(specToIR(inputs), inputs);
    writeOutput(out, files);
    expect(checkOutput(out, files)).toEqual({ differing: [], missing: [], extra: [] });
    writeFileSync(join(out, 'src/auth.ts'), '// edited by hand\n');
    writeFileSync(join(out, 'examples/stray.ts'), '// not generated\n');
    const shrunk = new Map(files);
    shrunk.set('examples/new.ts', 'x');
    expect(checkOutput(out, shrunk)).toEqual({ differing: ['.generated-files', 'src/auth.ts'], missing: ['examples/new.ts'], extra: ['examples/stray.ts'] });

    const check = await cli(['--check', '--out', out]);
    expect(check.status).toBe(1);
    expect(check.stderr).toContain('src/auth.ts');
    expect(check.stderr).toContain('examples/stray.ts');
    expect(check.stderr).toContain('run npm run generate');
  });

  test('--dump-ir prints the intermediate representation', async () => {
    const dump = await cli(['--dump-ir']);
    expect(dump.status).toBe(0);
    const ir = JSON.parse(dump.stdout) as { flows: { id: string; source: string }[]; examples: unknown[] };
    expect(ir.flows.map((f) => f.id)).toEqual(SPEC_FLOWS.map((f) => f.id));
    expect(ir.flows.find((f) => f.id === 'oauth_m2m')!.source).toBe('spec/flows/m2m.yaml');
    expect(ir.examples).toHaveLength(SPEC_EXAMPLE_COUNT);
  });
});

describe('spec errors are reported as path:line:col with the JSON path', () => {
  test('duplicate key', () => {
    const dir = specCopy({ 'flows/m2m.yaml': (t) => t.replace('order: 3\n', 'order: 3\norder: 4\n') });
    expect(specErrors(dir)).toBe('spec/flows/m2m.yaml:3:1 error duplicate key "order" (/order)');
  });

  test('unknown key', () => {
    const dir = specCopy({ 'flows/m2m.yaml': (t) => t.replace('order: 3\n', 'order: 3\ncolour: blue\n') });
    expect(specErrors(dir)).toBe('spec/flows/m2m.yaml:3:1 error unknown key "colour" (/colour)');
  });

  test('wrong type', () => {
    const dir = specCopy({ 'flows/m2m.yaml': (t) => t.replace('order: 3\n', 'order: "third"\n') });
    expect(specErrors(dir)).toBe('spec/flows/m2m.yaml:2:8 error must be integer (/order)');
  });

  test("tokenBinding is one of the registry's bindings, and a flow gains DPoP by its YAML alone", () => {
    const dir = specCopy({ 'flows/device_code_dpop.yaml': (t) => t.replace('tokenBinding: dpop\n', 'tokenBinding: mtls\n') });
    expect(specErrors(dir)).toBe('spec/flows/device_code_dpop.yaml:8:15 error must be one of "bearer", "dpop" (/tokenBinding)');
    const renamed = specCopy({ 'flows/device_code_dpop.yaml': (t) => t.replace('tokenBinding: dpop\n', 'dpop: true\n') });
    expect(specErrors(renamed)).toBe('spec/flows/device_code_dpop.yaml:8:1 error unknown key "dpop": write "tokenBinding: dpop" for tokens bound to a key (DPoP), or remove it: bearer tokens are the default (/dpop)');
    const files = generated({ 'flows/m2m.yaml': (t) => t.replace('order: 3\n', 'order: 3\ntokenBinding: dpop\n') });
    expect(files.get('src/settings.ts')).toMatch(/id: 'oauth_m2m', [^\n]* tokenBinding: 'dpop',/);
  });

  test('missing required field', () => {
    const dir = specCopy({ 'flows/m2m.yaml': (t) => t.replace('clientType: oidc_client_credentials_secret\n', '') });
    expect(specErrors(dir)).toBe('spec/flows/m2m.yaml:1:1 error missing required key "clientType" (/)');
  });

  test('dangling reference', () => {
    const dir = specCopy({ 'examples.yaml': (t) => t.replace('  - flow: oauth_m2m\n    storage: in_memory', '  - flow: oauth_m2x\n    storage: in_memory') });
    expect(specErrors(dir)).toBe('spec/examples.yaml:41:11 error flow "oauth_m2x" is not defined in spec/flows/ (/examples/8/flow)');
  });

  test('duplicate id', () => {
    const dir = specCopy({
      'flows/m2m_copy.yaml': (_) =>
        readFileSync(join(ROOT, 'spec/flows/m2m.yaml'), 'utf8')
          .replace('order: 3\n', 'order: 1001\n')
          .replace('factory: fromOAuthM2M', 'factory: fromOAuthM2MCopy')
          .replace('optionsType: OAuthM2MOptions', 'optionsType: OAuthM2MCopyOptions')
          .replace('command: service-account', 'command: service-account-copy')
          .replace('clientType: oidc_client_credentials_secret', 'clientType: oidc_copy'),
    });
    expect(specErrors(dir)).toBe('spec/flows/m2m_copy.yaml:1:5 error duplicate flow id "oauth_m2m", first defined in spec/flows/m2m.yaml:1 (/id)');
  });

  test('name that is not an identifier', () => {
    const dir = specCopy({ 'flows/m2m.yaml': (t) => t.replace('factory: fromOAuthM2M', 'factory: from-oauth-m2m') });
    expect(specErrors(dir)).toBe('spec/flows/m2m.yaml:3:10 error factory name "from-oauth-m2m" is not a valid TypeScript identifier (/factory)');
  });

  test('several problems are all listed, sorted by file and position', () => {
    const dir = specCopy({
      'flows/m2m.yaml': (t) => t.replace('order: 3\n', 'order: -1\n').replace('grant: client_credentials', 'grant: password'),
      'storage/in_memory.yaml': (t) => t.replace('backend: memory', 'backend: 7'),
    });
    expect(specErrors(dir).split('\n')).toEqual([
      'spec/flows/m2m.yaml:2:8 error must be >= 0 (/order)',
      'spec/flows/m2m.yaml:5:8 error must be one of "authorization_code", "device_code", "client_credentials" (/grant)',
      'spec/storage/in_memory.yaml:3:10 error must be one of "memory", "disk", "keychain", "provider" (/backend)',
    ]);
  });

  test('the generator command prints the problems and no stack trace', () => {
    const dir = specCopy({ 'flows/m2m.yaml': (t) => t + 'garbage: [unclosed\n' });
    const cli = spawnSync(process.execPath, [...GENERATOR, '--spec', dir, '--out', scratchDir('out')], { encoding: 'utf8', cwd: join(dir, '..'), env: ALONE });
    expect(cli.status).toBe(1);
    expect(cli.stderr).toMatch(/^spec\/flows\/m2m\.yaml:29:1 error /);
    expect(cli.stderr).not.toMatch(/\n\s+at /);
  });
});

test('spec text with comment ends, backticks, quotes and ${ lands escaped, compiles and keeps its text', () => {
  const nasty = 'Ends */ a comment, `runs` ${process.exit(1)} "double" \'single\' and \\ backslash';
  const dir = specCopy({
    'flows/m2m.yaml': (t) => t.replace('title: Service account (client credentials)', `title: ${JSON.stringify(nasty)}`).replace('doc: Client ID of the service account.', `doc: ${JSON.stringify(nasty)}`),
    'examples.yaml': (t) => t.replace('title: Call APIs as a service account, session in memory only', `title: ${JSON.stringify(nasty)}`),
  });
  const inputs = projectInputs(ROOT, dir, 'spec');
  const out = join(scratchDir('escape'), 'generated');
  writeOutput(out, generate(inputs, checker).files);
  expect(typecheckGenerated(out, '@planet-auth/sdk')).toEqual([]);
  const options = readFileSync(join(out, 'src/options.ts'), 'utf8');
  expect(options).toContain('Ends *\\/ a comment, `runs` ${process.exit(1)} "double" \'single\' and \\ backslash');
  const example = readFileSync(join(out, 'examples/in_memory__oauth_m2m.ts'), 'utf8');
  expect(example).toContain(`// ${nasty}.`);
}, 120_000);

test('a fourth storage mode and an M2M variant come from the spec alone: 16 examples that type-check', () => {
  const fixture = join(ROOT, 'test/fixtures/extension');
  const dir = specCopy({
    'flows/m2m_basic.yaml': readFileSync(join(fixture, 'flows/m2m_basic.yaml'), 'utf8'),
    'storage/vault.yaml': readFileSync(join(fixture, 'storage/vault.yaml'), 'utf8'),
    'storage/vault.provider.ts': readFileSync(join(fixture, 'storage/vault.provider.ts'), 'utf8'),
    'examples.yaml': readFileSync(join(fixture, 'examples.yaml'), 'utf8'),
  });
  const { files } = generate(projectInputs(ROOT, dir, 'spec'), checker);
  const examples = [...files.keys()].filter((p) => p.startsWith('examples/') && !p.startsWith('examples/providers/'));
  expect(examples).toHaveLength(16);
  expect(files.get('src/auth.ts')).toContain('static fromOAuthM2MBasic(options: OAuthM2MBasicOptions): Auth');
  expect(files.get('src/options.ts')).toContain('export interface OAuthM2MBasicOptions');
  expect(files.get('src/settings.ts')).toContain("tokenEndpointAuthMethod: 'client_secret_basic'");
  expect(files.get('examples/vault_storage__oauth_m2m_basic.ts')).toContain("import { VaultStorageProvider } from './providers/vault_storage.js';");
  expect(files.get('examples/providers/vault_storage.ts')).toContain('export class VaultStorageProvider implements ObjectStorageProvider');
  const docs = files.get('docs/application-managed-sessions.md')!;
  expect(docs).toContain('### Service account with HTTP Basic client authentication');
  expect(docs).toContain('#### Session state in a vault folder');
  const out = join(scratchDir('extension'), 'generated');
  writeOutput(out, files);
  expect(typecheckGenerated(out, '@planet-auth/sdk')).toEqual([]);
}, 120_000);

describe('the runtime registry is the source of the allowed values', () => {
  test.each(REGISTRY_ENUMS.map((e) => [`${e.schemaFile} ${e.pointer.join('/')}`, e] as const))('committed %s holds the registry values', (_, e) => {
    const schema = JSON.parse(readFileSync(join(ROOT, 'spec/schema', e.schemaFile), 'utf8')) as unknown;
    const committed = schemaValueAt(schema, e.pointer);
    expect(Array.isArray(committed) ? committed : Object.keys(committed as object)).toEqual(e.values);
  });

  test('npm run generate writes the registry values into the schema files, and changes nothing else there', async () => {
    const dir = scratchDir('schema');
    for (const file of ['defs.schema.json', 'flow.schema.json', 'sdk.schema.json', 'storage.schema.json', 'examples.schema.json']) writeFileSync(join(dir, file), readFileSync(join(ROOT, 'spec/schema', file), 'utf8'));
    const flow = readFileSync(join(dir, 'flow.schema.json'), 'utf8');
    // A schema that lags the registry: a method and an environment key missing, as before a module or a key was added.
    writeFileSync(join(dir, 'flow.schema.json'), flow.replace(', "private_key_jwt"]', ']'));
    const sdk = readFileSync(join(dir, 'sdk.schema.json'), 'utf8');
    writeFileSync(join(dir, 'sdk.schema.json'), sdk.replace(', "secretStorage"]', ']').replace(/,\n\s+"secretStorage": \{[^}]*\}/, ''));
    expect(schemaDrift(dir, 'schema').length).toBe(3);
    expect((await writeRegistryEnums(dir, 'schema')).sort()).toEqual(['schema/flow.schema.json', 'schema/sdk.schema.json']);
    expect(readFileSync(join(dir, 'flow.schema.json'), 'utf8')).toBe(flow);
    expect(readFileSync(join(dir, 'sdk.schema.json'), 'utf8')).toBe(sdk);
    expect(schemaDrift(dir, 'schema')).toEqual([]);
    expect(await writeRegistryEnums(dir, 'schema')).toEqual([]);
  });

  test('a list that grows past the line is laid out as the formatter would, with the object around it', async () => {
    const dir = scratchDir('schema-wide');
    const flow = readFileSync(join(ROOT, 'spec/schema/flow.schema.json'), 'utf8');
    // A long description beside the grant list leaves no room for it on one line once the registry's values are written.
    const wide = flow.replace('"grant": { "enum": ["authorization_code", "device_code", "client_credentials"] }', `"grant": { "description": "${'x'.repeat(150)}", "enum": ["authorization_code"] }`);
    writeFileSync(join(dir, 'flow.schema.json'), wide);
    expect(await writeRegistryEnums(dir, 'schema')).toEqual(['schema/flow.schema.json']);
    const written = readFileSync(join(dir, 'flow.schema.json'), 'utf8');
    expect(schemaDrift(dir, 'schema')).toEqual([]);
    const prettier = await import('prettier');
    expect(await prettier.check(written, { ...(await prettier.resolveConfig(join(ROOT, 'spec/schema/flow.schema.json'))), filepath: join(ROOT, 'spec/schema/flow.schema.json') })).toBe(true);
  });

  test('an option the runtime reads gets its type from the registry', () => {
    const files = realOutput();
    const options = files.get('src/options.ts')!;
    expect(options).toContain("import type { FetchFunction, Logger } from './runtime/hooks.js';");
    expect(options).toMatch(/@defaultValue 30\s*\*\/\s*readonly requestTimeoutSeconds\?: number;/);
    expect(options).toContain('readonly fetch?: FetchFunction;');
    expect(options).toContain('readonly logger?: Logger;');
    expect(files.get('src/settings.ts')).toContain("{ name: 'requestTimeoutSeconds', required: false, secret: false, default: 30 },");
    expect(files.get('src/settings.ts')).toContain("{ name: 'allowInsecureHttp', required: false, secret: false, default: false },");
  }, 60_000);

  test("an option's type stated in the spec is refused: the registry declares it", () => {
    expectProblems(
      specErrors(specCopy({ 'sdk.yaml': (t) => t.replace('  - name: requestTimeoutSeconds\n', '  - name: requestTimeoutSeconds\n    type: string\n') })),
      'spec/sdk.yaml:L:5 error unknown key "type": an option\'s type is declared once, in the registry (templates/runtime/registry-public.ts), so the spec does not state it; remove it (/commonOptions/9/type)',
    );
  });

  test('optional storage methods may be declared and are optional in the provider interface', () => {
    const lease = '    - name: acquireLease\n      doc: Take the lease on `key`.\n' + '    - name: releaseLease\n      doc: End the lease.\n';
    const files = generated({ 'sdk.yaml': (t) => t.replace(/ {4}- name: acquireLease\n[\s\S]*?commonOptions:\n/, `${lease}commonOptions:\n`) });
    const provider = files.get('src/storage-provider.ts')!;
    expect(provider).toContain('acquireLease?(key: string, ttlMs: number, maxHoldMs?: number): Promise<number | undefined>;');
    expect(provider).not.toContain('renewLease');
    expect(provider).toContain('releaseLease?(key: string, fence: number): Promise<void>;');
    expect(provider).toContain('loadObj(key: string): Promise<Record<string, unknown>>;');
  }, 60_000);

  test.each([
    [
      "a storage method's signature stated in the spec (the registry declares it)",
      { 'sdk.yaml': (t: string) => t.replace('    - name: renewLease\n', '    - name: renewLease\n      params: [{ name: key, type: string }]\n') },
      'spec/sdk.yaml:L:7 error unknown key "params": a storage method\'s parameters are declared once, in the registry (templates/runtime/registry-public.ts), so the spec does not state it; remove it (/storageProvider/methods/7/params)',
    ],
    [
      'a missing storage method the runtime calls',
      { 'sdk.yaml': (t: string) => t.replace(/ {4}- name: mtime\n(.*\n){1}/, '') },
      'spec/sdk.yaml:L:5 error storage method "mtime" is missing; the runtime calls it (/storageProvider/methods)',
    ],
  ])('%s is refused', (_, edits, expected) => {
    expectProblems(specErrors(specCopy(edits)), expected);
  });
});

describe('every option field takes effect or is refused', () => {
  test('default, required and secret reach the options type, the flow descriptor and the docs comment', () => {
    const files = realOutput();
    const settings = files.get('src/settings.ts')!;
    expect(settings).toContain("{ name: 'saveStateToStorage', required: false, secret: false, default: true },");
    expect(settings).toContain("{ name: 'clientSecret', required: true, secret: true },");
    const options = files.get('src/options.ts')!;
    expect(options).toMatch(/@defaultValue true\s*\*\/\s*readonly saveStateToStorage\?: boolean;/);
    expect(options).toMatch(/readonly clientSecret: string;/);
  }, 60_000);

  test('a string-list default is emitted as a list', () => {
    const files = generated({ 'sdk.yaml': (t) => t.replace('  - name: requestedScopes\n', '  - name: requestedScopes\n    default: [planet]\n') });
    expect(files.get('src/settings.ts')).toContain("{ name: 'requestedScopes', required: false, secret: false, default: ['planet'] },");
    expect(files.get('src/options.ts')).toMatch(/@defaultValue \['planet'\]\s*\*\/\s*readonly requestedScopes\?: readonly string\[\];/);
  }, 60_000);

  test.each([
    [
      'a default of the wrong type',
      { 'sdk.yaml': (t: string) => t.replace('    default: true\n', '    default: "yes"\n') },
      'spec/sdk.yaml:L:14 error default of option "saveStateToStorage" must be true or false, as its type is boolean (/commonOptions/1/default)',
    ],
    [
      'a default for an option that cannot have one',
      { 'sdk.yaml': (t: string) => t.replace('  - name: storageProvider\n', '  - name: storageProvider\n    default: none\n') },
      'spec/sdk.yaml:L:14 error option "storageProvider" of type ObjectStorageProvider cannot have a default; remove "default" (/commonOptions/3/default)',
    ],
    [
      'a default on a required option',
      { 'flows/m2m.yaml': (t: string) => t.replace('    required: true\n    doc: Client ID', '    required: true\n    default: abc\n    doc: Client ID') },
      'spec/flows/m2m.yaml:L:14 error option "clientId" is required, so a default would never apply; remove "default" or "required: true" (/options/0/default)',
    ],
    [
      'a secret the auth method needs made optional',
      { 'flows/m2m.yaml': (t: string) => t.replace('  - name: clientSecret\n    required: true\n', '  - name: clientSecret\n    required: false\n') },
      'spec/flows/m2m.yaml:L:5 error option "clientSecret" must have "required: true": token endpoint auth method "client_secret_post" cannot run without it (/options/1)',
    ],
    [
      'a secret option marked not secret',
      { 'flows/m2m.yaml': (t: string) => t.replace('  - name: clientSecret\n    required: true\n', '  - name: clientSecret\n    required: true\n    secret: false\n') },
      'spec/flows/m2m.yaml:L:13 error option "clientSecret" holds a secret, as the registry declares it; remove "secret: false" (/options/1/secret)',
    ],
    [
      'a secret option that holds no text',
      { 'sdk.yaml': (t: string) => t.replace('  - name: saveStateToStorage\n', '  - name: saveStateToStorage\n    secret: true\n') },
      'spec/sdk.yaml:L:13 error option "saveStateToStorage" of type boolean cannot be secret: the SDK hides secret text, and this option holds none; remove "secret: true" (/commonOptions/1/secret)',
    ],
    [
      'an option the grant needs left out',
      { 'flows/auth_code.yaml': (t: string) => t.replace(/ {2}- name: callbackUrl\n(.*\n)+/, '') },
      'spec/flows/auth_code.yaml:23:3 error the authorization_code grant needs a "callbackUrl" option; add it with "required: true" (/options)',
    ],
    [
      'an auth method the grant does not work with',
      { 'flows/m2m.yaml': (t: string) => t.replace('tokenEndpointAuthMethod: client_secret_post', 'tokenEndpointAuthMethod: none') },
      `spec/flows/m2m.yaml:7:26 error the client_credentials grant works with token endpoint auth method ${CREDENTIAL_METHODS}, not "none" (/tokenEndpointAuthMethod)\n` +
        'spec/sdk.yaml:L:5 error built-in profile "planet-m2m" needs "clientId": flow "oauth_m2m" is a public client, so no user-supplied secret goes with it (/builtinProfiles/1)',
    ],
    [
      'two flows sharing a client type',
      { 'flows/device_code.yaml': (t: string) => t.replace('clientType: oidc_device_code', 'clientType: oidc_auth_code') },
      'spec/flows/device_code.yaml:6:13 error duplicate client type "oidc_auth_code", first defined in spec/flows/auth_code.yaml:6 (/clientType)',
    ],
    [
      'two flows with the same order',
      { 'flows/device_code_dpop.yaml': (t: string) => t.replace('order: 5\n', 'order: 2\n') },
      'spec/flows/device_code_dpop.yaml:2:8 error flow order 2 is already flow "oauth_user_devicecode__external_browser"\'s, in spec/flows/device_code.yaml:2:8; give each flow an order of its own, as it sets where the flow is listed (/order)',
    ],
    [
      'saveStateToStorage removed while an in-memory mode exists',
      { 'sdk.yaml': (t: string) => t.replace(/ {2}- name: saveStateToStorage\n(.*\n){4}/, '') },
      `spec/storage/in_memory.yaml:3:10 error backend "memory" is selected with option "saveStateToStorage", which flow ${FLOWS_BY_FILE} does not declare; add it under commonOptions in spec/sdk.yaml (/backend)`,
    ],
    [
      'storageProvider removed while an application-storage mode exists',
      { 'sdk.yaml': (t: string) => t.replace(/ {2}- name: storageProvider\n(.*\n){3}/, '') },
      `spec/storage/app_custom_storage.yaml:3:10 error backend "provider" is selected with option "storageProvider", which flow ${FLOWS_BY_FILE} does not declare; add it under commonOptions in spec/sdk.yaml (/backend)\nspec/storage/redis_shared.yaml:3:10 error backend "provider" is selected with option "storageProvider", which flow ${FLOWS_BY_FILE} does not declare; add it under commonOptions in spec/sdk.yaml (/backend)`,
    ],
  ])('%s is refused with its position', (_, edits, expected) => {
    expectProblems(specErrors(specCopy(edits)), expected);
  });
});

describe('names the runtime, the package or JavaScript already use are refused', () => {
  test.each([
    [
      'factory fromProfile',
      { 'flows/m2m.yaml': (t: string) => t.replace('factory: fromOAuthM2M', 'factory: fromProfile') },
      'spec/flows/m2m.yaml:3:10 error factory name "fromProfile" is already a static member of the Auth class; choose another name (/factory)',
    ],
    [
      'factory name',
      { 'flows/m2m.yaml': (t: string) => t.replace('factory: fromOAuthM2M', 'factory: name') },
      'spec/flows/m2m.yaml:3:10 error factory name "name" is already a static member of the Auth class; choose another name (/factory)',
    ],
    [
      'factory hasOwnProperty',
      { 'flows/m2m.yaml': (t: string) => t.replace('factory: fromOAuthM2M', 'factory: hasOwnProperty') },
      'spec/flows/m2m.yaml:3:10 error factory name "hasOwnProperty" is already a static member of the Auth class; choose another name (/factory)',
    ],
    [
      'options type DeviceLoginInfo',
      { 'flows/m2m.yaml': (t: string) => t.replace('optionsType: OAuthM2MOptions', 'optionsType: DeviceLoginInfo') },
      'spec/flows/m2m.yaml:4:14 error options type name "DeviceLoginInfo" is already exported by the runtime or the generated package; choose another name (/optionsType)',
    ],
    [
      'options type ConfigError',
      { 'flows/m2m.yaml': (t: string) => t.replace('optionsType: OAuthM2MOptions', 'optionsType: ConfigError') },
      'spec/flows/m2m.yaml:4:14 error options type name "ConfigError" is already exported by the runtime or the generated package; choose another name (/optionsType)',
    ],
    [
      'options type <Scopes>Value',
      { 'flows/m2m.yaml': (t: string) => t.replace('optionsType: OAuthM2MOptions', 'optionsType: PlanetOAuthScopesValue') },
      'spec/flows/m2m.yaml:4:14 error duplicate exported name "PlanetOAuthScopesValue", first defined in spec/sdk.yaml:L (/optionsType)',
    ],
    [
      'auth class AuthCore',
      { 'sdk.yaml': (t: string) => t.replace('  auth: Auth\n', '  auth: AuthCore\n') },
      'spec/sdk.yaml:L:9 error class name "AuthCore" is already exported by the runtime or the generated package; choose another name (/classes/auth)',
    ],
    [
      'scopes class Promise',
      { 'sdk.yaml': (t: string) => t.replace('  scopes: PlanetOAuthScopes\n', '  scopes: Promise\n') },
      'spec/sdk.yaml:L:11 error class name "Promise" would hide the JavaScript global of that name; choose another name (/classes/scopes)',
    ],
    [
      'provider class JSON',
      { 'storage/app_custom_storage.yaml': (t: string) => t.replace('providerClass: DemoStorageProvider', 'providerClass: JSON') },
      'spec/storage/app_custom_storage.yaml:4:16 error provider class name "JSON" would hide the JavaScript global of that name; choose another name (/providerClass)',
    ],
    [
      'provider class auth',
      {
        'storage/app_custom_storage.yaml': (t: string) => t.replace('providerClass: DemoStorageProvider', 'providerClass: auth'),
        'storage/app_custom_storage.provider.ts': (t: string) => t.replace('class DemoStorageProvider', 'class auth'),
      },
      'spec/storage/app_custom_storage.yaml:4:16 error the name "auth" clashes with the generated code (examples/app_custom_storage__oauth_m2m.ts:9:10 Import declaration conflicts with local declaration of \'auth\', and 8 more); choose another name (/providerClass)',
    ],
    [
      'scope __proto__',
      { 'sdk.yaml': (t: string) => t.replace('  - name: PLANET\n', '  - name: __proto__\n').replaceAll('[PLANET, ', '[__proto__, ') },
      'spec/sdk.yaml:L:11 error scope name "__proto__" is a member every JavaScript object already has; choose another name (/scopes/0/name)',
    ],
    [
      'scope toString',
      { 'sdk.yaml': (t: string) => t.replace('  - name: PLANET\n', '  - name: toString\n').replaceAll('[PLANET, ', '[toString, ') },
      'spec/sdk.yaml:L:11 error scope name "toString" is a member every JavaScript object already has; choose another name (/scopes/0/name)',
    ],
    [
      'scope default (a reserved word)',
      { 'sdk.yaml': (t: string) => t.replace('  - name: PLANET\n', '  - name: default\n').replaceAll('[PLANET, ', '[default, ') },
      'spec/sdk.yaml:L:11 error scope name "default" is not a valid TypeScript identifier (/scopes/0/name)',
    ],
  ])(
    '%s',
    (_, edits, expected) => {
      expectProblems(specErrors(specCopy(edits)), expected);
    },
    60_000,
  );

  test('the taken names come from the runtime files: a name exported by a new runtime module is refused', () => {
    const templates = join(scratchDir('templates'), 'templates');
    execFileSync('cp', ['-r', join(ROOT, 'templates'), templates]);
    writeFileSync(join(templates, 'runtime', 'extra.ts'), 'export interface OAuthM2MOptions { readonly x: number }\n');
    const inputs = { ...projectInputs(ROOT), templatesDir: templates };
    expect(() => specToIR(inputs)).toThrow('spec/flows/m2m.yaml:4:14 error options type name "OAuthM2MOptions" is already exported by the runtime or the generated package; choose another name (/optionsType)');
  });
});

describe('hostile spec files get a positioned error or a correct result', () => {
  const cases: [string, (dir: string) => void, string][] = [
    [
      'bytes that are not UTF-8',
      (dir) => writeFileSync(join(dir, 'flows/m2m.yaml'), Buffer.concat([readFileSync(join(ROOT, 'spec/flows/m2m.yaml')).subarray(0, 40), Buffer.from([0xff, 0xfe]), Buffer.from('x\n')])),
      'spec/flows/m2m.yaml:3:18 error byte 0xff at offset 40 is not UTF-8; save the file as UTF-8 (/)',
    ],
    [
      'an overlong UTF-8 encoding',
      (dir) => writeFileSync(join(dir, 'flows/m2m.yaml'), Buffer.concat([Buffer.from('id: a'), Buffer.from([0xc0, 0xaf])])),
      'spec/flows/m2m.yaml:1:6 error byte 0xc0 at offset 5 is not UTF-8; save the file as UTF-8 (/)',
    ],
    [
      'an alias bomb',
      (dir) =>
        writeFileSync(
          join(dir, 'flows/m2m.yaml'),
          'a: &a [x, x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n',
        ),
      'spec/flows/m2m.yaml:2:8 error aliases here expand to too many values (more than 100); write the values out instead of repeating aliases (/b/0)',
    ],
    [
      'a folder named like a spec file',
      (dir) => mkdirSync(join(dir, 'flows/x.yaml')),
      'spec/flows/x.yaml:1:1 error is not a regular file (a folder?); a spec file must be a YAML file, so rename or remove spec/flows/x.yaml (/)',
    ],
    [
      'a FIFO named like a spec file',
      (dir) => execFileSync('mkfifo', [join(dir, 'storage/x.yaml')]),
      'spec/storage/x.yaml:1:1 error is not a regular file (a folder?); a spec file must be a YAML file, so rename or remove spec/storage/x.yaml (/)',
    ],
    [
      'a link to nothing named like a spec file',
      (dir) => symlinkSync(join(dir, 'nowhere.yaml'), join(dir, 'flows/x.yaml')),
      'spec/flows/x.yaml:1:1 error missing spec file (or a link to nothing); create spec/flows/x.yaml (/)',
    ],
    [
      'sdk.yaml that is a folder',
      (dir) => execFileSync('sh', ['-c', `rm ${join(dir, 'sdk.yaml')} && mkdir ${join(dir, 'sdk.yaml')}`]),
      'spec/sdk.yaml:1:1 error is not a regular file (a folder?); a spec file must be a YAML file, so rename or remove spec/sdk.yaml (/)',
    ],
    ['an upper-case extension', (dir) => execFileSync('cp', [join(dir, 'flows/m2m.yaml'), join(dir, 'flows/x.YAML')]), 'spec/flows/x.YAML:1:1 error spec file names end in lowercase ".yaml"; rename it to x.yaml (/)'],
    [
      'an unclosed code fence in a summary',
      (dir) => writeFileSync(join(dir, 'flows/m2m.yaml'), readFileSync(join(dir, 'flows/m2m.yaml'), 'utf8').replace('  first time one is needed', '  first time\n  ```sh\n  one is needed')),
      'spec/flows/m2m.yaml:L:10 error the code fence opened on line 3 of this text is never closed; close it, or the rest of the docs page becomes code (/summary)',
    ],
    [
      'NUL in prose',
      (dir) => writeFileSync(join(dir, 'flows/m2m.yaml'), readFileSync(join(dir, 'flows/m2m.yaml'), 'utf8').replace('title: Service account (client credentials)', 'title: "Service\\0account"')),
      'spec/flows/m2m.yaml:L:8 error text holds the control character U+0000; remove it (write a line break as a new line) (/title)',
    ],
    [
      'U+2028 in prose',
      (dir) => writeFileSync(join(dir, 'flows/m2m.yaml'), readFileSync(join(dir, 'flows/m2m.yaml'), 'utf8').replace('doc: Client ID of the service account.', 'doc: "Client ID\\u2028of the service account."')),
      'spec/flows/m2m.yaml:L:10 error text holds the control character U+2028; remove it (write a line break as a new line) (/options/0/doc)',
    ],
  ];
  test.each(cases)('%s', (_, damage, expected) => {
    const dir = specCopy();
    damage(dir);
    expectProblems(specErrors(dir), expected);
  });

  test('a closed code fence in a summary is kept and the docs page stays balanced', () => {
    const files = generated({ 'flows/m2m.yaml': (t) => t.replace('  first time one is needed', '  first time\n\n  ```sh\n  planet-auth login service-account\n  ```\n\n  one is needed') });
    const docs = files.get('docs/application-managed-sessions.md')!;
    expect(docs).toContain('```sh\nplanet-auth login service-account\n```');
    expect(docs.split('\n').filter((l) => /^ {0,3}```/.test(l)).length % 2).toBe(0);
  }, 60_000);
});

describe('the generator command', () => {
  test('a name only the compiler catches is reported at its spec field, and the output folder is left untouched', async () => {
    const out = scratchDir('untouched');
    writeFileSync(join(out, 'keep.txt'), 'before');
    const dir = specCopy({
      'storage/app_custom_storage.yaml': (t) => t.replace('providerClass: DemoStorageProvider', 'providerClass: storageProvider'),
      'storage/app_custom_storage.provider.ts': (t) => t.replace('class DemoStorageProvider', 'class storageProvider'),
    });
    const refused = await cli(['--spec', dir, '--out', out], 'spec');
    expect(refused.status).toBe(1);
    expect(refused.stderr).toMatch(/^spec\/storage\/app_custom_storage\.yaml:4:16 error the name "storageProvider" clashes with the generated code \(examples\/app_custom_storage__oauth_m2m\.ts:\d+:\d+ /);
    expect(readdirSync(out)).toEqual(['keep.txt']);
  });

  test('an unknown flag exits 2 with the usage and writes nothing', () => {
    const out = scratchDir('typo');
    const cli = spawnSync(process.execPath, [...GENERATOR, '--chek', '--out', out], { encoding: 'utf8', env: ALONE });
    expect(cli.status).toBe(2);
    expect(cli.stderr).toContain('generator: unknown argument "--chek"');
    expect(cli.stderr).toContain('usage: npm run generate');
    expect(readdirSync(out)).toEqual([]);
  });

  test('generate builds dist/ with the edit, and generate:check catches a build older than src/', async () => {
    const out = join(scratchDir('build'), 'generated');
    const renamed = specCopy({ 'flows/m2m.yaml': (t) => t.replace('factory: fromOAuthM2M', 'factory: fromServiceAccount') });
    const run = (...args: string[]) => cli([...args, '--out', out]);
    expect((await run('--spec', renamed)).status).toBe(0);
    expect(readFileSync(join(out, 'dist/auth.js'), 'utf8')).toContain('static fromServiceAccount(');
    expect((await run('--spec', renamed, '--check')).status).toBe(0);
    // The sources change without a build, as after a pull: src/ is current, dist/ is not.
    writeOutput(out, realOutput());
    const stale = await run('--check');
    expect(stale.status).toBe(1);
    expect(stale.stderr).toContain('dist/ was built from other sources');
    expect(stale.stderr).toContain('run npm run build');
    expect((await run('--build')).status).toBe(0);
    expect(readFileSync(join(out, 'dist/auth.js'), 'utf8')).toContain('static fromOAuthM2M(');
    expect((await run('--check')).status).toBe(0);
    expect(existsSync(join(out, 'dist/examples'))).toBe(false);
  }, 120_000);
});

describe('spec option fields take effect at run time', () => {
  // The fixture: saveStateToStorage defaults to false, profileName is required and secret.
  const fixture = join(ROOT, 'test/fixtures/spec-effects');
  const fixtureSpec = () =>
    specCopy({
      'sdk.yaml': (t) => t.replace(/( {2}- name: saveStateToStorage\n {4}default:) true\n/, '$1 false\n').replace('  - name: profileName\n', '  - name: profileName\n    required: true\n    secret: true\n'),
      'examples.yaml': readFileSync(join(fixture, 'examples.yaml'), 'utf8'),
    });
  const { server } = useEmbeddedServer();
  let fixtureDist = '';
  const realDist = join(ROOT, 'generated/dist/index.js');

  beforeAll(async () => {
    const out = join(scratchDir('effects'), 'generated');
    const made = await cli(['--spec', fixtureSpec(), '--out', out]);
    if (made.status !== 0) throw new Error(made.stderr);
    fixtureDist = join(out, 'dist/index.js');
  }, 120_000);

  /** Runs a scenario in a child process (the server answers in this one, so the child must not block it). */
  async function run(dist: string, scenario: string): Promise<{ home: string; ok?: boolean; error?: string; inspect?: string; json?: string; logs: string }> {
    const home = tempHome();
    const child = spawn(process.execPath, [join(fixture, 'run.mjs'), dist, scenario], { env: { ...process.env, ...server().env(), HOME: home } });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const status = await new Promise<number | null>((resolve) => child.on('close', resolve));
    if (status !== 0) throw new Error(stderr);
    return { home, ...(JSON.parse(stdout) as { logs: string }) };
  }

  test('the fixture emits its defaults, required and secret into the descriptor', () => {
    const settings = readFileSync(join(fixtureDist, '../../src/settings.ts'), 'utf8');
    expect(settings).toContain("{ name: 'saveStateToStorage', required: false, secret: false, default: false },");
    expect(settings).toContain("{ name: 'profileName', required: true, secret: true },");
    expect(readFileSync(join(fixtureDist, '../../src/options.ts'), 'utf8')).toMatch(/readonly profileName: string;/);
  });

  test('saveStateToStorage defaulting to false writes nothing under HOME (the real spec saves the session)', async () => {
    const fixtureRun = await run(fixtureDist, 'with-profile');
    expect(fixtureRun.ok).toBe(true);
    expect(readdirSync(fixtureRun.home)).toEqual([]);
    const realRun = await run(realDist, 'with-profile');
    expect(realRun.ok).toBe(true);
    expect(existsSync(join(realRun.home, '.planet/effects-profile-7c1d/token.json'))).toBe(true);
  }, 60_000);

  test('a required profileName is refused at run time when left out (the real spec does without)', async () => {
    expect((await run(fixtureDist, 'no-profile')).error).toMatch(/^ConfigError profileName is required for fromOAuthM2M\(\)/);
    expect((await run(realDist, 'no-profile')).ok).toBe(true);
  }, 60_000);

  test('a secret option is absent from the logs and from error output', async () => {
    const printed = await run(fixtureDist, 'printed');
    expect(printed.logs).toContain('[redacted]');
    expect(printed.logs).not.toContain('effects-profile-7c1d');
    expect(printed.error).toBeDefined();
    expect(printed.error).not.toContain('effects-profile-7c1d');
    expect(printed.error).not.toContain('wrong-secret-3b9e77');
    // The real spec does not mark profileName secret: there it is logged, so the check above can fail.
    expect((await run(realDist, 'printed')).logs).toContain('effects-profile-7c1d');
  }, 60_000);

  // Marked failing: inspect() and toJSON() of a session print its profile name even when the spec marks
  // profileName secret. Turn this into a plain test once they leave out secret options.
  test('a secret option is absent from inspect and JSON output', async () => {
    const printed = await run(fixtureDist, 'printed');
    expect(printed.inspect).toContain('Auth');
    expect(printed.inspect).not.toContain('effects-profile-7c1d');
    expect(printed.json).not.toContain('effects-profile-7c1d');
  }, 60_000);
});

test('an example whose auth method reads an example variable the spec does not declare is refused at the example', () => {
  const dir = specCopy({ 'sdk.yaml': (t) => t.replace(/ {2}m2mPrivateKey:\n {4}name: \S+\n {4}doc: .*\n/, '') });
  expect(specErrors(dir)).toMatch(
    /^spec\/examples\.yaml:\d+:11 error the examples of flow "oauth_m2m_private_key_jwt" \(grant client_credentials, private_key_jwt\) read examples variable "m2mPrivateKey"; declare it under \/examplesEnvironment in spec\/sdk\.yaml \(\/examples\/\d+\/flow\)\nspec\/examples\.yaml:\d+:11 error .*\(\/examples\/\d+\/flow\)$/,
  );
});

test('flows share a CLI login command only with the same grant and another kind of client credential', () => {
  const sameKind = specCopy({
    'flows/m2m_private_key_jwt.yaml': (t) =>
      t.replace('tokenEndpointAuthMethod: private_key_jwt', 'tokenEndpointAuthMethod: client_secret_basic').replace(/ {2}- name: privateKey\n[\s\S]*$/, '  - name: clientSecret\n    required: true\n    doc: Secret.\n'),
  });
  expect(specErrors(sameKind)).toMatch(
    /^spec\/flows\/m2m_private_key_jwt\.yaml:\d+:12 error duplicate CLI login command "service-account", first defined in spec\/flows\/m2m\.yaml:\d+ for a client that also holds a secret \(\/cliLogin\/command\)$/m,
  );
  const otherGrant = specCopy({ 'flows/device_code.yaml': (t) => t.replace('command: device', 'command: service-account') });
  expect(specErrors(otherGrant)).toMatch(
    /spec\/flows\/(device_code|m2m)\.yaml:\d+:12 error CLI login command "service-account" is already flow "\w+"'s, of another grant; flows share a login command only when they have the same grant/,
  );
});

describe('a compiler error that quotes a spec name is called a clash only when it is one', () => {
  test('a class of a template that does not fit the spec-named class it extends: not a clash, and renaming will not help', () => {
    const templates = join(scratchDir('templates'), 'templates');
    execFileSync('cp', ['-r', join(ROOT, 'templates'), templates]);
    const example = join(templates, 'examples/example.ts.hbs');
    writeFileSync(example, `${readFileSync(example, 'utf8')}\nexport class CountingSession extends {{sessionClass}} {\n  override fetch(): number {\n    return 1;\n  }\n}\n`);
    let printed = '';
    try {
      generate({ ...projectInputs(ROOT), templatesDir: templates }, checker);
    } catch (error) {
      if (!(error instanceof SpecError)) throw error;
      printed = formatDiagnostics(error.diagnostics);
    }
    expect(printed).toMatch(
      /^spec\/sdk\.yaml:\d+:\d+ error the generated code does not compile where it uses "Session" \(examples\/[a-z0-9_]+\.ts:\d+:\d+ Property 'fetch' in type 'CountingSession' is not assignable to the same property in base type 'Session'.*, and \d+ more\); renaming will not help: change this value or the template that uses it \(\/classes\/session\)$/,
    );
    expect(printed).not.toMatch(/clash|choose another name/);
  });

  test('a provider class named eval is refused before it reaches the compiler: another name fixes it, and it is not called a clash', () => {
    const errors = specErrors(specCopy({ 'storage/app_custom_storage.yaml': (t) => t.replace(/providerClass: \w+/, 'providerClass: eval') }));
    expectProblems(errors, 'spec/storage/app_custom_storage.yaml:L:16 error provider class name "eval" would hide the JavaScript global of that name; choose another name (/providerClass)');
    expect(errors).not.toMatch(/clash/);
  });

  // A real clash still says so: see "provider class auth" above and "a name only the compiler catches" below.
});

test('a runtime file that does not compile fails generation, naming the file', () => {
  const templates = join(scratchDir('templates'), 'templates');
  execFileSync('cp', ['-r', join(ROOT, 'templates'), templates]);
  writeFileSync(join(templates, 'runtime', 'broken.ts'), 'export const broken: number = "text";\n');
  const inputs = { ...projectInputs(ROOT), templatesDir: templates };
  expect(() => generate(inputs, checker)).toThrow("spec/sdk.yaml:1:1 error the generated code does not compile: src/runtime/broken.ts:4:14 Type 'string' is not assignable to type 'number'. (/)");
});

test('output that passed the type check is vouched for only while its files, lockfile and checker stay the same', () => {
  const out = join(scratchDir('checked'), 'generated');
  const files = realOutput();
  expect(checkedBefore(ROOT, out, files)).toBe(false);
  recordChecked(ROOT, out, files);
  expect(checkedBefore(ROOT, out, files)).toBe(true);
  const edited = new Map(files);
  edited.set('examples/in_memory__oauth_m2m.ts', files.get('examples/in_memory__oauth_m2m.ts') + '\nconst x: number = "text";\n');
  expect(checkedBefore(ROOT, out, edited)).toBe(false);
  const otherRoot = scratchDir('root');
  mkdirSync(join(otherRoot, 'generator'));
  writeFileSync(join(otherRoot, 'generator/typecheck.ts'), readFileSync(join(ROOT, 'generator/typecheck.ts')));
  writeFileSync(join(otherRoot, 'package-lock.json'), readFileSync(join(ROOT, 'package-lock.json')));
  expect(checkedBefore(otherRoot, out, files)).toBe(true);
  writeFileSync(join(otherRoot, 'package-lock.json'), '{}');
  expect(checkedBefore(otherRoot, out, files)).toBe(false);
}, 60_000);

describe('writes are whole, never through a link, and dist/ is checked by content', () => {
  test('a link planted in the output folder is replaced by the file; what it pointed at is untouched', () => {
    const base = scratchDir('link');
    const out = join(base, 'generated');
    const files = realOutput();
    writeOutput(out, files);
    const outside = join(base, 'outside.txt');
    writeFileSync(outside, "not the generator's\n");
    rmSync(join(out, 'README.md'));
    symlinkSync(outside, join(out, 'README.md'));
    expect(checkOutput(out, files).differing).toEqual(['README.md']);
    writeOutput(out, files);
    expect(readFileSync(outside, 'utf8')).toBe("not the generator's\n");
    expect(lstatSync(join(out, 'README.md')).isFile()).toBe(true);
    expect(readFileSync(join(out, 'README.md'), 'utf8')).toBe(files.get('README.md'));
    expect(checkOutput(out, files)).toEqual({ differing: [], missing: [], extra: [] });
  });

  test('a write that fails part-way leaves the output folder as it was, and no staging folder behind', () => {
    const base = scratchDir('whole');
    const out = join(base, 'generated');
    const files = realOutput();
    writeOutput(out, files);
    const before = readFileSync(join(out, 'src/auth.ts'), 'utf8');
    const broken = new Map(files);
    broken.set('src/auth.ts', '// changed\n');
    broken.set(`examples/${'x'.repeat(300)}.ts`, '// a name no file system takes\n');
    expect(() => writeOutput(out, broken)).toThrow(/ENAMETOOLONG/);
    expect(readFileSync(join(out, 'src/auth.ts'), 'utf8')).toBe(before);
    expect(readdirSync(base)).toEqual(['generated']);
  });

  test('an example file name longer than a file system takes is refused at its spec position', () => {
    const storage = 'a'.repeat(200);
    const flow = `oauth_m2m_${'b'.repeat(50)}`;
    const dir = specCopy({
      'storage/in_memory.yaml': (t) => t.replace(/^id: in_memory$/m, `id: ${storage}`),
      'flows/m2m.yaml': (t) => t.replace(/^id: oauth_m2m$/m, `id: ${flow}`),
      'sdk.yaml': (t) => t.replaceAll('flow: oauth_m2m\n', `flow: ${flow}\n`),
      'examples.yaml': (t) => t.replaceAll('storage: in_memory', `storage: ${storage}`).replaceAll('flow: oauth_m2m\n', `flow: ${flow}\n`),
    });
    expect(specErrors(dir)).toMatch(
      new RegExp(`^spec/examples\\.yaml:\\d+:\\d+ error the example's file name a{40}\\.\\.\\. would be 265 bytes, over the 255 a file name may have; shorten the storage or flow id \\(/examples/\\d+\\)$`, 'm'),
    );
  });

  test('generate:check names a changed or missing dist/ file, and generate restores it', async () => {
    const out = join(scratchDir('dist'), 'generated');
    const run = (...args: string[]) => cli([...args, '--out', out]);
    expect((await run()).status).toBe(0);
    const built = readFileSync(join(out, 'dist/auth.js'), 'utf8');
    writeFileSync(join(out, 'dist/auth.js'), built + '// edited\n');
    rmSync(join(out, 'dist/index.js'));
    const check = await run('--check');
    expect(check.status).toBe(1);
    expect(check.stderr).toContain(`changed: ${join(out, 'dist/auth.js').slice(ROOT.length + 1)}`);
    expect(check.stderr).toContain(`missing: ${join(out, 'dist/index.js').slice(ROOT.length + 1)}`);
    expect(check.stderr).toContain('run npm run generate, which rebuilds it');
    const again = await run();
    expect(again.status).toBe(0);
    expect(readFileSync(join(out, 'dist/auth.js'), 'utf8')).toBe(built);
    expect(existsSync(join(out, 'dist/index.js'))).toBe(true);
    expect((await run('--check')).status).toBe(0);
    // Nothing changed since: the run has nothing to do, and says so.
    expect((await run()).stdout).toMatch(/\(0 changed, 0 removed\)/);
  }, 180_000);
});

/** Resolves once the text a stream printed (since the call) matches `pattern`. */
function printed(stream: NodeJS.ReadableStream, pattern: RegExp): Promise<string> {
  return new Promise((done) => {
    let text = '';
    const onData = (chunk: Buffer | string) => {
      text += String(chunk);
      if (pattern.test(text)) {
        stream.off('data', onData);
        done(text);
      }
    };
    stream.on('data', onData);
  });
}

test('--watch regenerates after each save, in place or by a rename, prints problems at their spec position, and keeps the last good output', async () => {
  const dir = specCopy();
  const out = join(scratchDir('watch'), 'generated');
  const child = spawn(process.execPath, [join(ROOT, 'generator/run.mjs'), '--watch', '--spec', dir, '--out', out], { cwd: join(dir, '..'), env: { ...process.env, GENERATOR_SERVER: '0' } });
  const exited = new Promise((done) => child.on('exit', done));
  try {
    await printed(child.stdout, /ok in [\d.]+ s; watching/);
    const docs = join(out, 'docs/application-managed-sessions.md');
    expect(readFileSync(docs, 'utf8')).toContain('### Service account (client credentials)');

    const saved = printed(child.stdout, /ok in [\d.]+ s; watching/);
    const flow = join(dir, 'flows/m2m.yaml');
    writeFileSync(flow, readFileSync(flow, 'utf8').replace('title: Service account (client credentials)', 'title: Service account, watched'));
    await saved;
    expect(readFileSync(docs, 'utf8')).toContain('### Service account, watched');

    // A save that writes a new file and renames it over the old one (as many editors save) is seen, and so is a plain save after it.
    for (const [title, save] of [
      ['Service account, renamed over', (text: string) => (writeFileSync(`${flow}.new`, text), renameSync(`${flow}.new`, flow))],
      ['Service account, saved in place', (text: string) => writeFileSync(flow, text)],
    ] as const) {
      const regenerated = printed(child.stdout, /ok in [\d.]+ s; watching/);
      save(readFileSync(flow, 'utf8').replace(/^title: .*$/m, `title: ${title}`));
      await regenerated;
      expect(readFileSync(docs, 'utf8')).toContain(`### ${title}`);
    }

    const refused = printed(child.stderr, /problem\(s\) in the spec; nothing was generated/);
    const failed = printed(child.stdout, /failed in [\d.]+ s; watching/);
    writeFileSync(flow, readFileSync(flow, 'utf8').replace('grant: client_credentials', 'grant: telepathy'));
    expect(await refused).toMatch(/^spec\/flows\/m2m\.yaml:\d+:\d+ error must be one of /m);
    await failed;
    expect(readFileSync(docs, 'utf8')).toContain('### Service account, saved in place');
    expect(readdirSync(join(out, '..'))).toEqual(['generated']);
  } finally {
    child.kill('SIGTERM');
    await exited;
  }
}, 180_000);

describe('values the schema accepts but the runtime cannot use are refused at their field, saying what to write', () => {
  const line = (text: string, pattern: RegExp, replacement: string) => {
    if (!pattern.test(text)) throw new Error(`fixture edit found no ${String(pattern)}`);
    return text.replace(pattern, replacement);
  };
  const cases: [string, Parameters<typeof specCopy>[0], string, string, string][] = [
    [
      'a timeout default of -1',
      { 'sdk.yaml': (t) => line(t, /(name: requestTimeoutSeconds\n\s+)default: 30/, '$1default: -1') },
      'spec/sdk.yaml',
      'requestTimeoutSeconds default -1 is out of range; write a number more than 0 and at most 3600',
      '/commonOptions/\\d+/default',
    ],
    [
      'disk.root ".."',
      { 'sdk.yaml': (t) => line(t, /root: \.planet\n/, 'root: ".."\n') },
      'spec/sdk.yaml',
      'disk.root ".." must be one file or folder name (letters, digits, ".", "_", "-"; not "." or ".."), such as ".planet"',
      '/disk/root',
    ],
    [
      'defaultProfile ".."',
      { 'sdk.yaml': (t) => line(t, /defaultProfile: planet-user/, 'defaultProfile: ".."') },
      'spec/sdk.yaml',
      'disk.defaultProfile ".." must be one file or folder name (letters, digits, ".", "_", "-"; not "." or ".."), such as "planet-user"',
      '/disk/defaultProfile',
    ],
    [
      'a defaults file that is the sessions folder',
      { 'sdk.yaml': (t) => line(t, /defaultsFile: \.planet\.json/, 'defaultsFile: .planet') },
      'spec/sdk.yaml',
      'disk.defaultsFile ".planet" is the sessions folder (disk.root); name another file, such as ".planet.json"',
      '/disk/defaultsFile',
    ],
    [
      'providerRoot ".."',
      { 'storage/app_custom_storage.yaml': (t) => line(t, /providerRoot: \.planet-demo/, 'providerRoot: ".."') },
      'spec/storage/app_custom_storage.yaml',
      'providerRoot ".." must be one file or folder name (letters, digits, ".", "_", "-"; not "." or ".."), such as ".planet-demo"',
      '/providerRoot',
    ],
    [
      'a plain-http remote issuer of the SDK',
      { 'sdk.yaml': (t) => line(t, /issuer: https:\/\/login\.planet\.com\//, 'issuer: http://login.example.com/') },
      'spec/sdk.yaml',
      'issuer "http://login.example.com/" is plain http to another machine, which the runtime refuses; write https://login.example.com/',
      '/authServer/issuer',
    ],
    [
      'a plain-http remote issuer of a flow',
      { 'flows/m2m.yaml': (t) => line(t, /issuer: https:/, 'issuer: http:') },
      'spec/flows/m2m.yaml',
      'issuer "http://services.sentinel-hub.com/auth/realms/main" is plain http to another machine, which the runtime refuses; write https://services.sentinel-hub.com/auth/realms/main',
      '/issuer',
    ],
    [
      'a plain-http remote issuer of a built-in profile',
      { 'sdk.yaml': (t) => line(t, /( {4}flow: oauth_m2m\n)/, '$1    issuer: http://login.example.com/\n') },
      'spec/sdk.yaml',
      'issuer "http://login.example.com/" is plain http to another machine, which the runtime refuses; write https://login.example.com/',
      '/builtinProfiles/1/issuer',
    ],
    [
      'a defaults file ".." (the home folder\'s parent)',
      { 'sdk.yaml': (t) => line(t, /defaultsFile: \.planet\.json/, 'defaultsFile: ".."') },
      'spec/sdk.yaml',
      'disk.defaultsFile ".." must be one file or folder name (letters, digits, ".", "_", "-"; not "." or ".."), such as ".planet.json"',
      '/disk/defaultsFile',
    ],
    [
      'a profileName default every flow would share',
      { 'sdk.yaml': (t) => line(t, /(name: profileName\n)/, '$1    default: shared\n') },
      'spec/sdk.yaml',
      'profileName cannot have a default: every flow would keep its session under that one name; remove "default"',
      '/commonOptions/\\d+/default',
    ],
    [
      'justInTime on a user flow',
      { 'examples.yaml': (t) => line(t, /(storage: in_memory\n\s+title: Log in as a user with a local browser, session in memory only\n\s+login: )always/, '$1justInTime') },
      'spec/examples.yaml',
      'login "justInTime" needs a grant that logs in with no person present (client_credentials); flow "oauth_user_authcode__with_browser" has authorization_code: write ensureInitialized or ifNotInitialized',
      '/examples/0/login',
    ],
    [
      'one variable for both issuer and audience',
      { 'sdk.yaml': (t) => line(t, /name: PLANET_AUTH_AUDIENCE/, 'name: PLANET_AUTH_ISSUER') },
      'spec/sdk.yaml',
      'PLANET_AUTH_ISSUER already sets environment.issuer; give audience a variable of its own',
      '/environment/audience/name',
    ],
    [
      'a profileName on an in-memory example',
      { 'examples.yaml': (t) => line(t, /(title: Call APIs as a service account, session in memory only\n)/, '$1    profileName: unused\n') },
      'spec/examples.yaml',
      'profileName "unused" has no effect: storage mode "in_memory" keeps the session in memory; remove profileName',
      '/examples/\\d+/profileName',
    ],
  ];
  test.each(cases)('%s', (_, edits, file, message, path) => {
    const escaped = message.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    expect(specErrors(specCopy(edits))).toMatch(new RegExp(`^${file.replace(/\./g, '\\.')}:\\d+:\\d+ error ${escaped} \\(${path}\\)$`));
  });
});

describe('messages say what is wrong where, and text stays text', () => {
  test('a file with CR-only line endings reads as lines', () => {
    const files = generated({ 'flows/m2m.yaml': (t) => t.replace(/\n/g, '\r') });
    expect(files.get('src/auth.ts')).toContain('static fromOAuthM2M(');
  });

  test('an alias to no anchor is called that, not an alias bomb', () => {
    const errors = specErrors(specCopy({ 'flows/m2m.yaml': (t) => t.replace('title: Service account (client credentials)', 'title: *nowhere') }));
    expect(errors).toMatch(/^spec\/flows\/m2m\.yaml:\d+:\d+ error alias \*nowhere names no anchor defined above it; define &nowhere before it, or write the value out \(\/title\)$/m);
    expect(errors).not.toContain('too many values');
  });

  test.each([
    ['a right-to-left override', '\u202e'],
    ['a zero-width space', '\u200b'],
  ])('%s in a text field is refused at its field', (_, ch) => {
    const code = `U+${ch.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}`;
    const errors = specErrors(specCopy({ 'flows/m2m.yaml': (t) => t.replace('title: Service account (client credentials)', `title: "Service ${ch}account"`) }));
    expect(errors).toMatch(
      new RegExp(
        `^spec/flows/m2m\\.yaml:\\d+:\\d+ error text holds the invisible character ${code.replace('+', '\\+')} \\(a direction override or zero-width character, which makes text read otherwise than it is\\); remove it \\(/title\\)$`,
        'm',
      ),
    );
  });

  test('@deprecated in a description stays text in the JSDoc', () => {
    const files = generated({ 'flows/m2m.yaml': (t) => t.replace('first time one is needed, and again', 'first time one is needed,\n  @deprecated and again') });
    const auth = files.get('src/auth.ts')!;
    expect(auth).toContain('\\@deprecated and again');
    expect(auth).not.toMatch(/^\s*\*\s*@deprecated/m);
  });
});

test('the runtime the tests import is the runtime source: generated/src/runtime is templates/runtime under a header, and npm test regenerates it first', () => {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
  expect(pkg.scripts['pretest']).toBe('npm run generate');
  const source = join(ROOT, 'templates/runtime');
  const copy = join(ROOT, 'generated/src/runtime');
  const list = (dir: string) =>
    readdirSync(dir, { recursive: true, encoding: 'utf8' })
      .filter((p) => p.endsWith('.ts') && !p.endsWith('.test.ts'))
      .sort();
  expect(list(copy)).toEqual(list(source));
  const drifted = list(source).filter((p) => readFileSync(join(copy, p), 'utf8') !== `${compiledHeader([`templates/runtime/${p}`]).trimEnd()}\n\n${readFileSync(join(source, p), 'utf8')}`);
  expect(drifted).toEqual([]);
});

test('a very long message is one line, shortened in the middle, and keeps its end', () => {
  const long = formatDiagnostics([{ file: 'spec/sdk.yaml', line: 1, col: 1, message: `start ${'x'.repeat(2000)}\nmiddle; write the fix here`, jsonPath: '/' }]);
  expect(long).not.toContain('\n');
  expect(long.length).toBeLessThan(500);
  expect(long).toMatch(/^spec\/sdk\.yaml:1:1 error start x+ \.\.\. x+ middle; write the fix here \(\/\)$/);
});
