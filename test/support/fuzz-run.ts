// Runs seeded spec mutations through the generator and tallies the outcomes.
import { projectInputs } from '../../generator/pipeline.js';
import { EmittedTypeChecker } from '../../generator/typecheck.js';
import { DIAGNOSTIC_LINE, MemoryTypeChecker, generateFromTexts, mutate, readSpecTexts, rng } from './fuzz.js';

export interface FuzzTally {
  readonly mutations: number;
  readonly rejectedWithErrors: number;
  readonly generated: number;
  readonly typeChecked: number;
  readonly crashes: string[];
  readonly unformattedLines: string[];
  readonly typeErrors: string[];
  /** Outcomes per kind of mutation. */
  readonly byMutation: Record<string, { rejected: number; generated: number }>;
}

export function fuzzSpecs(root: string, firstSeed: number, count: number): FuzzTally {
  const inputs = projectInputs(root);
  const generatorChecker = new EmittedTypeChecker(root);
  // An independent check of what the generator accepted: every file, as tsc would.
  const checker = new MemoryTypeChecker(root);
  let rejectedWithErrors = 0;
  let generated = 0;
  const crashes: string[] = [];
  const unformattedLines: string[] = [];
  const typeErrors: string[] = [];
  const byMutation: Record<string, { rejected: number; generated: number }> = {};
  for (let seed = firstSeed; seed < firstSeed + count; seed++) {
    const texts = readSpecTexts(root);
    const { mutation, file } = mutate(texts, rng(seed), inputs.templatesDir);
    const outcome = generateFromTexts(texts, inputs, generatorChecker);
    const where = `seed ${seed} (${mutation} in ${file})`;
    const tally = (byMutation[mutation] ??= { rejected: 0, generated: 0 });
    if (outcome.kind === 'errors') tally.rejected++;
    if (outcome.kind === 'generated') tally.generated++;
    if (outcome.kind === 'crash') crashes.push(`${where}: ${outcome.message.split('\n')[0]}`);
    else if (outcome.kind === 'errors') {
      rejectedWithErrors++;
      for (const line of outcome.lines) if (!DIAGNOSTIC_LINE.test(line) || line.includes('\n')) unformattedLines.push(`${where}: ${line.slice(0, 200)}`);
    } else {
      generated++;
      const packageName = (JSON.parse(outcome.files.get('package.json')!) as { name: string }).name;
      const diagnostics = checker.check(outcome.files, packageName);
      if (diagnostics.length > 0) typeErrors.push(`${where}: ${diagnostics[0]!.slice(0, 200)}`);
    }
  }
  return { mutations: count, rejectedWithErrors, generated, typeChecked: generated, crashes, unformattedLines, typeErrors, byMutation };
}
