// A storage mode's own provider code (`providerSource`): problems with it are
// errors at the spec field that names it, and the emitted copy keeps the
// source's lines, so a compiler message maps back to it.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { formatDiagnostics } from '../generator/diagnostics.js';
import { providerDiagnostic, PROVIDER_HEADER_LINES } from '../generator/emit/providers.js';
import { generate, projectInputs, SpecError } from '../generator/pipeline.js';
import { ROOT, specCopy } from './support/spec-fixture.js';

function problems(edits: Parameters<typeof specCopy>[0], bytes: Record<string, Buffer> = {}): string {
  const dir = specCopy(edits);
  for (const [file, data] of Object.entries(bytes)) writeFileSync(join(dir, file), data);
  try {
    generate(projectInputs(ROOT, dir, 'spec'));
  } catch (error) {
    if (error instanceof SpecError) return formatDiagnostics(error.diagnostics);
    throw error;
  }
  throw new Error('the spec was accepted');
}

const FIELD = 'spec/storage/app_custom_storage.yaml:5:17';

test('a provider source that does not exist is an error at providerSource', () => {
  expect(problems({ 'storage/app_custom_storage.yaml': (t) => t.replace('providerSource: app_custom_storage.provider.ts', 'providerSource: missing.provider.ts') })).toBe(
    `${FIELD} error provider source spec/storage/missing.provider.ts does not exist; write the provider class there (/providerSource)`,
  );
});

test('a provider source that does not export the class, or does not declare the interface, is an error at providerSource', () => {
  expect(problems({ 'storage/app_custom_storage.provider.ts': (t) => t.replace('export class DemoStorageProvider', 'class DemoStorageProvider') })).toBe(
    `${FIELD} error provider source spec/storage/app_custom_storage.provider.ts does not export a class "DemoStorageProvider" (named by "providerClass") (/providerSource)`,
  );
  expect(problems({ 'storage/app_custom_storage.provider.ts': (t) => t.replace(' implements ObjectStorageProvider', '') })).toBe(
    `${FIELD} error class DemoStorageProvider in spec/storage/app_custom_storage.provider.ts must be declared "implements ObjectStorageProvider", so it is checked against the interface the SDK calls (/providerSource)`,
  );
  expect(problems({}, { 'storage/app_custom_storage.provider.ts': Buffer.from([0x63, 0x6c, 0xff, 0xfe]) })).toBe(
    `${FIELD} error provider source spec/storage/app_custom_storage.provider.ts is not UTF-8 text; save it as UTF-8 (/providerSource)`,
  );
});

test('a provider storage mode needs provider code and one way to make it', () => {
  expect(problems({ 'storage/app_custom_storage.yaml': (t) => t.replace('providerSource: app_custom_storage.provider.ts\n', '') })).toBe(
    'spec/storage/app_custom_storage.yaml:1:1 error a storage mode with backend "provider" needs "providerSource", a TypeScript file beside it that exports the provider class (/)',
  );
  expect(problems({ 'storage/in_memory.yaml': (t) => `${t}providerSource: x.ts\n` })).toContain('error "providerSource" applies only to a backend with a provider, not "memory" (/providerSource)');
  expect(problems({ 'storage/redis_shared.yaml': (t) => `${t}providerRoot: .x\n` })).toContain('needs either "providerRoot" (a folder) or "providerUrl" (a server), not both');
});

test('the emitted provider keeps the source lines below its header; a compiler position there names the spec field and the source line', () => {
  const { ir, files } = generate(projectInputs(ROOT));
  const emitted = files.get('examples/providers/redis_shared.ts')!.split('\n');
  const source = emitted.slice(PROVIDER_HEADER_LINES);
  const line = source.findIndex((l) => l.includes('export class RedisStorageProvider')) + 1;
  expect(emitted[line + PROVIDER_HEADER_LINES - 1]).toContain('export class RedisStorageProvider');
  const mapped = providerDiagnostic(ir, 'examples/providers/redis_shared.ts', line + PROVIDER_HEADER_LINES, 14, "Class 'RedisStorageProvider' incorrectly implements interface 'ObjectStorageProvider'.");
  expect(mapped).toEqual({
    file: 'spec/storage/redis_shared.yaml',
    line: 5,
    col: 17,
    jsonPath: '/providerSource',
    message: `provider source spec/storage/redis_shared.provider.ts:${line}:14: Class 'RedisStorageProvider' incorrectly implements interface 'ObjectStorageProvider'.`,
  });
  expect(providerDiagnostic(ir, 'examples/in_memory__oauth_m2m.ts', 3, 1, 'x')).toBeUndefined();
});

test('a type error in the provider code is an error at providerSource naming the line of the source', () => {
  const broken = (t: string) => t.replace('async objExists(key: string): Promise<boolean> {', 'async objExists(key: string): Promise<string> {');
  const source = broken(readFileSync(join(ROOT, 'spec/storage/app_custom_storage.provider.ts'), 'utf8')).split('\n');
  const line = source.findIndex((l) => l.includes('Promise<string>')) + 1;
  const message = problems({ 'storage/app_custom_storage.provider.ts': broken });
  expect(message.split('\n')[0]).toMatch(new RegExp(`^${FIELD} error provider source spec/storage/app_custom_storage\\.provider\\.ts:${line}:\\d+: .*objExists.* \\(/providerSource\\)$`));
});
