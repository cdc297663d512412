// The command table's shape and the parser that reads a command line against
// it. Help, suggestions and completion read the same table, so a command or
// option exists in all of them or in none.

export interface OptionSpec {
  /** Long name, without the dashes. */
  readonly name: string;
  readonly short?: string;
  /** Placeholder of the value (`NAME`); absent for a flag. */
  readonly value?: string;
  readonly multiple?: boolean;
  readonly help: string;
  /** Options that cannot be given with this one. */
  readonly conflicts?: readonly string[];
  /** What completion offers for the value. */
  readonly completes?: 'profile';
}

export interface ArgSpec {
  readonly name: string;
  readonly required: boolean;
  readonly completes?: 'profile' | 'shell' | 'command';
  /** Takes every remaining word. */
  readonly rest?: boolean;
}

export interface CommandSpec<Run = unknown> {
  /** Words that name the command: `["profile", "list"]`. */
  readonly path: readonly string[];
  readonly summary: string;
  /** Paragraphs shown by `help <command>` under the usage line. */
  readonly description?: readonly string[];
  readonly args: readonly ArgSpec[];
  readonly options: readonly OptionSpec[];
  readonly examples: readonly string[];
  /** Left out of help and suggestions (the completion helper). */
  readonly hidden?: boolean;
  readonly run: Run;
}

export type OptionValues = Readonly<Record<string, string | true | readonly string[] | undefined>>;

export interface ParsedLine<Run = unknown> {
  readonly command: CommandSpec<Run> | undefined;
  /** Words matched so far when no command was matched (a group such as `login`). */
  readonly group: readonly string[];
  readonly args: readonly string[];
  readonly options: OptionValues;
}

/** A command line that cannot be run; `usage` is the command it was meant for. */
export class UsageError extends Error {
  constructor(
    message: string,
    readonly usage: readonly string[] = [],
  ) {
    super(message);
  }
}

/** Optimal string alignment distance: edits, counting a swap of neighbours as one. */
export function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) best = Math.min(best, d[i - 2]![j - 2]! + 1);
      d[i]![j] = best;
    }
  }
  return d[a.length]![b.length]!;
}

/** The closest candidate, when one is close enough to be a likely typo (or starts with what was typed). */
export function suggest(typed: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of candidates) {
    const distance = editDistance(typed.toLowerCase(), candidate);
    if (distance < bestDistance) [best, bestDistance] = [candidate, distance];
  }
  if (best !== undefined && bestDistance <= Math.max(1, Math.min(2, Math.floor(typed.length / 3)))) return best;
  return typed.length >= 3 ? candidates.find((c) => c.startsWith(typed.toLowerCase())) : undefined;
}

function didYouMean(typed: string, candidates: readonly string[]): string {
  const close = suggest(typed, candidates);
  return close !== undefined ? `; did you mean "${close}"?` : '';
}

interface Token {
  readonly option?: string;
  /** As typed, for messages. */
  readonly text: string;
  readonly value?: string;
  readonly word?: string;
}

/** Commands one word below `prefix` (the flows under `login`, say), without hidden ones. */
export function childWords(table: readonly CommandSpec[], prefix: readonly string[]): string[] {
  const words = table.filter((c) => !c.hidden && c.path.length > prefix.length && prefix.every((w, i) => c.path[i] === w)).map((c) => c.path[prefix.length]!);
  return [...new Set(words)];
}

/** The longest command path that the leading words name. */
export function matchCommand<Run>(table: readonly CommandSpec<Run>[], words: readonly string[]): { command?: CommandSpec<Run>; depth: number } {
  let depth = 0;
  while (depth < words.length && childWords(table, words.slice(0, depth)).includes(words[depth]!)) depth++;
  const command = table.find((c) => c.path.length === depth && c.path.every((w, i) => words[i] === w));
  return { ...(command ? { command } : {}), depth };
}

/**
 * Reads `argv` against the table. Global options may stand anywhere on the
 * line; a command's own options anywhere after its name or before it. Every
 * refusal is a UsageError with a one-line reason.
 */
export function parseLine<Run>(argv: readonly string[], table: readonly CommandSpec<Run>[], globals: readonly OptionSpec[]): ParsedLine<Run> {
  const everyOption = new Map<string, OptionSpec>();
  for (const o of [...globals, ...table.flatMap((c) => c.options)]) everyOption.set(o.name, o);
  const byShort = new Map([...everyOption.values()].filter((o) => o.short).map((o) => [o.short!, o]));

  const tokens: Token[] = [];
  // A refusal before the command is known names the command the plain words point at.
  const guessed = () =>
    matchCommand(
      table,
      argv.filter((a) => !a.startsWith('-')),
    ).command?.path ?? [];
  for (let i = 0; i < argv.length; i++) {
    const text = argv[i]!;
    if (text === '--') {
      tokens.push(...argv.slice(i + 1).map((word) => ({ text: word, word })));
      break;
    }
    if (!text.startsWith('-') || text === '-') {
      tokens.push({ text, word: text });
      continue;
    }
    const eq = text.indexOf('=');
    const name = text.startsWith('--') ? text.slice(2, eq === -1 ? undefined : eq) : text.slice(1);
    const spec = text.startsWith('--') ? everyOption.get(name) : byShort.get(name);
    if (spec === undefined) {
      // Only the option's name is repeated in messages: what follows it may be a secret.
      tokens.push({ option: `?${text.startsWith('--') ? name : text.slice(0, 2)}`, text });
      continue;
    }
    if (spec.value === undefined) {
      if (eq !== -1) throw new UsageError(`option --${spec.name} takes no value (got "${text}")`, guessed());
      tokens.push({ option: spec.name, text });
      continue;
    }
    const value = eq !== -1 && text.startsWith('--') ? text.slice(eq + 1) : argv[++i];
    if (value === undefined || (eq === -1 && value.startsWith('-') && value !== '-')) {
      const dash = value === undefined ? '' : `; for a value that starts with "-", write --${spec.name}=${spec.value}`;
      throw new UsageError(`option --${spec.name} needs a value (${spec.value})${dash}`, guessed());
    }
    if (value === '') throw new UsageError(`option --${spec.name} needs a non-empty value (${spec.value})`, guessed());
    tokens.push({ option: spec.name, text, value });
  }

  const words = tokens.filter((t) => t.word !== undefined).map((t) => t.word!);
  const { command, depth } = matchCommand(table, words);
  const group = words.slice(0, depth);
  if (command === undefined && words.length > depth) {
    const typed = words[depth]!;
    const kind = depth === 0 ? 'command' : `"${group.join(' ')}" command`;
    throw new UsageError(`unknown ${kind} "${typed}"${didYouMean(typed, childWords(table, group))}`, group);
  }
  const allowed = [...globals, ...(command?.options ?? [])];
  const usage = command?.path ?? group;

  const options: Record<string, string | true | string[]> = {};
  for (const token of tokens) {
    if (token.option === undefined) continue;
    if (token.option.startsWith('?')) {
      const typed = token.option.slice(1);
      const isLong = !typed.startsWith('-');
      const close = isLong
        ? suggest(
            typed,
            allowed.map((o) => o.name),
          )
        : undefined;
      const elsewhere = isLong && close === undefined ? suggest(typed, [...everyOption.keys()]) : undefined;
      const owner = elsewhere !== undefined ? table.find((c) => c.options.some((o) => o.name === elsewhere)) : undefined;
      const advice = close !== undefined ? `; did you mean "--${close}"?` : owner ? `; "--${elsewhere}" is an option of "${owner.path.join(' ')}"` : '';
      throw new UsageError(`unknown option "${isLong ? `--${typed}` : typed}"${advice}`, usage);
    }
    const spec = allowed.find((o) => o.name === token.option);
    if (spec === undefined) {
      const where = command ? `"${command.path.join(' ')}"` : group.length > 0 ? `"${group.join(' ')}" itself` : 'this command';
      throw new UsageError(`option --${token.option} does not apply to ${where}`, usage);
    }
    if (spec.value === undefined) {
      options[spec.name] = true;
    } else if (spec.multiple) {
      options[spec.name] = [...((options[spec.name] as string[] | undefined) ?? []), token.value!];
    } else {
      if (options[spec.name] !== undefined && options[spec.name] !== token.value) throw new UsageError(`option --${spec.name} is given twice with different values`, usage);
      options[spec.name] = token.value!;
    }
  }
  for (const spec of allowed) {
    for (const other of spec.conflicts ?? []) {
      if (options[spec.name] !== undefined && options[other] !== undefined) throw new UsageError(`--${spec.name} and --${other} cannot be used together`, usage);
    }
  }
  return { command, group, args: words.slice(depth), options };
}

/** Checks the positional arguments against the command's; returns them by name. */
export function bindArgs(command: CommandSpec, args: readonly string[]): Record<string, string | readonly string[] | undefined> {
  const bound: Record<string, string | readonly string[] | undefined> = {};
  let i = 0;
  for (const spec of command.args) {
    if (spec.rest) {
      bound[spec.name] = args.slice(i);
      i = args.length;
      break;
    }
    const value = args[i++];
    if (value === undefined && spec.required) throw new UsageError(`missing ${spec.name}`, command.path);
    bound[spec.name] = value;
  }
  if (args.length > i) {
    const extra = args.slice(i);
    throw new UsageError(`unexpected argument${extra.length > 1 ? 's' : ''} ${extra.map((a) => JSON.stringify(a)).join(' ')}`, command.path);
  }
  return bound;
}
