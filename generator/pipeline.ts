// The whole generator as one pure function of the spec and templates:
// load -> validate -> IR -> emit. Only write.ts touches the output folder.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SpecError } from './diagnostics.js';
import { emitDocs } from './emit/docs.js';
import { emitExamples } from './emit/examples.js';
import { emitPackageFiles } from './emit/package.js';
import { emitTypeScript } from './emit/typescript.js';
import { buildIR, type SpecIR } from './ir.js';
import { loadSpec } from './load.js';
import { headerLines } from './text.js';
import { typed, validateMeaning, validateSchemas } from './validate.js';

export interface GeneratorInputs {
  /** Folder holding sdk.yaml, flows/, storage/ and examples.yaml. */
  readonly specDir: string;
  /** How spec paths are printed in messages and headers. */
  readonly specDisplay: string;
  readonly schemaDir: string;
  /** Holds runtime/, examples/ and docs/. */
  readonly templatesDir: string;
  readonly runtimeDependencies: Readonly<Record<string, string>>;
  /** The workspace's `repository` field, which the generated package points into. */
  readonly repository?: { readonly type: string; readonly url: string };
}

export function projectInputs(root: string, specDir = join(root, 'spec'), specDisplay = 'spec'): GeneratorInputs {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { dependencies?: Record<string, string>; repository?: { type: string; url: string } };
  return { specDir, specDisplay, schemaDir: join(root, 'spec', 'schema'), templatesDir: join(root, 'templates'), runtimeDependencies: pkg.dependencies ?? {}, repository: pkg.repository };
}

/** Reads and checks the spec; throws SpecError listing every problem. */
export function specToIR(inputs: GeneratorInputs): SpecIR {
  const loaded = loadSpec(inputs.specDir, inputs.specDisplay);
  if (loaded.diagnostics.length > 0) throw new SpecError(loaded.diagnostics);
  const schemaProblems = validateSchemas(loaded, inputs.schemaDir);
  if (schemaProblems.length > 0) throw new SpecError(schemaProblems);
  const spec = typed(loaded);
  const meaningProblems = validateMeaning(spec);
  if (meaningProblems.length > 0) throw new SpecError(meaningProblems);
  return buildIR(spec);
}

/** The runtime's files (folders included), copied unchanged under a header naming each source. */
function copyRuntime(templatesDir: string): Map<string, string> {
  const dir = join(templatesDir, 'runtime');
  const out = new Map<string, string>();
  const visit = (relative: string) => {
    for (const entry of readdirSync(join(dir, relative), { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const path = relative ? `${relative}/${entry.name}` : entry.name;
      if (entry.isDirectory()) visit(path);
      else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts')) {
        const header = headerLines([`templates/runtime/${path}`]).map((l) => `// ${l}`).join('\n');
        out.set(path, `${header}\n\n${readFileSync(join(dir, path), 'utf8')}`);
      }
    }
  };
  visit('');
  return out;
}

/** Every output file, keyed by its path under the output folder. */
export function emitAll(ir: SpecIR, inputs: GeneratorInputs): Map<string, string> {
  const files = new Map<string, string>();
  const put = (prefix: string, entries: Map<string, string>) => {
    for (const [path, text] of entries) files.set(prefix + path, text);
  };
  put('src/', emitTypeScript(ir));
  put('src/runtime/', copyRuntime(inputs.templatesDir));
  const examples = emitExamples(ir, join(inputs.templatesDir, 'examples'), inputs.specDir);
  put('examples/', examples);
  put('docs/', emitDocs(ir, join(inputs.templatesDir, 'docs'), examples));
  const sources = new Map([...files].filter(([path]) => path.startsWith('src/')).map(([path, text]) => [path.slice('src/'.length), text]));
  put('', emitPackageFiles(ir, { ...inputs, sources }));
  return new Map([...files.entries()].sort(([a], [b]) => (a < b ? -1 : 1)));
}

export function generate(inputs: GeneratorInputs): { ir: SpecIR; files: Map<string, string> } {
  const ir = specToIR(inputs);
  return { ir, files: emitAll(ir, inputs) };
}

export { SpecError };
