// Shell completion. The scripts for bash, zsh and fish are thin: each asks
// the CLI's hidden `__complete` command, which reads the command table (and
// lists profiles at that moment), so the shells never disagree with the
// parser or with each other.
import { childWords, matchCommand, type CommandSpec, type OptionSpec } from './cli-args.js';
import type { CliContext, CliSpec, Runner } from './cli-context.js';
import { GLOBAL_OPTIONS } from './cli-help.js';
import { listProfiles } from './profile.js';

export const SHELLS = ['bash', 'zsh', 'fish'] as const;

function functionName(spec: CliSpec): string {
  return `_${spec.name.replace(/[^A-Za-z0-9]/g, '_')}`;
}

export function completionScript(spec: CliSpec, shell: (typeof SHELLS)[number]): string {
  const n = spec.name;
  const fn = functionName(spec);
  switch (shell) {
    case 'bash':
      return `# bash completion for ${n}; load with: source <(${n} completion bash)
${fn}() {
  local IFS=$'\\n' line
  COMPREPLY=()
  while IFS= read -r line; do
    # Quoted for the command line: bash inserts a completion as it is, and a profile name may hold $( ) or spaces.
    printf -v line '%q' "\${line%%$'\\t'*}"
    COMPREPLY+=("$line")
  done < <(${n} __complete "\${COMP_WORDS[@]:1:COMP_CWORD}" 2>/dev/null)
}
complete -o default -F ${fn} ${n}
`;
    case 'zsh':
      return `#compdef ${n}
# zsh completion for ${n}; load with: source <(${n} completion zsh)
${fn}() {
  local -a candidates
  local line
  for line in "\${(@f)$(${n} __complete "\${(@)words[2,CURRENT]}" 2>/dev/null)}"; do
    [[ -n $line ]] && candidates+=("\${\${line%%$'\\t'*}//:/\\\\:}:\${line#*$'\\t'}")
  done
  _describe -t commands '${n}' candidates
}
compdef ${fn} ${n}
`;
    case 'fish':
      return `# fish completion for ${n}; load with: ${n} completion fish | source
function __${fn.slice(1)}_complete
    set -l words (commandline -opc) (commandline -ct)
    ${n} __complete $words[2..-1] 2>/dev/null
end
complete -c ${n} -f -a '(__${fn.slice(1)}_complete)'
`;
  }
}

function optionsOf(command: CommandSpec | undefined): readonly OptionSpec[] {
  return [...GLOBAL_OPTIONS, ...(command?.options ?? [])];
}

/**
 * Candidates for the last of `words` (the word being typed, possibly
 * empty), one `value<TAB>description` per line.
 */
export function completions(cli: CliContext, words: readonly string[]): string[] {
  const table = cli.table;
  const current = words[words.length - 1] ?? '';
  const before = words.slice(0, -1);
  const positional: string[] = [];
  const used = new Set<string>();
  let pendingValue: OptionSpec | undefined;
  const every = new Map([...GLOBAL_OPTIONS, ...table.flatMap((c) => c.options)].map((o) => [o.name, o]));
  for (const word of before) {
    if (pendingValue) {
      pendingValue = undefined;
      continue;
    }
    if (word.startsWith('-')) {
      const spec = every.get(word.replace(/^--?/, '').split('=')[0]!);
      if (spec) used.add(spec.name);
      if (spec?.value !== undefined && !word.includes('=')) pendingValue = spec;
      continue;
    }
    positional.push(word);
  }
  // Names that could not be typed safely (control characters) are not offered.
  const profiles = () =>
    listProfiles(cli.settings)
      // eslint-disable-next-line no-control-regex -- names with control characters are left out of completions
      .filter((p) => !/[\u0000-\u001f\u007f-\u009f]/.test(p.name))
      .map((p) => `${p.name}\t${p.usable ? (p.clientType ?? 'profile') : 'cannot be used'}`);
  const { command, depth } = matchCommand(table, positional);
  let candidates: string[];
  if (pendingValue) {
    candidates = pendingValue.completes === 'profile' ? profiles() : [];
  } else if (current.startsWith('-')) {
    candidates = optionsOf(command)
      .filter((o) => o.multiple || !used.has(o.name))
      .map((o) => `--${o.name}\t${o.help}`);
  } else if (command === undefined) {
    const group = positional.slice(0, depth);
    candidates = depth === positional.length ? childWords(table, group).map((w) => `${w}\t${summaryOf(table, [...group, w])}`) : [];
  } else {
    const arg = command.args[positional.length - depth] ?? command.args.find((a) => a.rest);
    if (arg?.completes === 'profile') candidates = profiles();
    else if (arg?.completes === 'shell') candidates = SHELLS.map((s) => `${s}\tcompletion script for ${s}`);
    else if (arg?.completes === 'command') {
      const group = positional.slice(depth);
      candidates = childWords(table, matchCommand(table, group).depth === group.length ? group : []).map((w) => `${w}\t${summaryOf(table, [...group, w])}`);
    } else candidates = [];
  }
  return candidates.filter((c) => c.startsWith(current));
}

function summaryOf(table: readonly CommandSpec<Runner>[], path: readonly string[]): string {
  const exact = table.find((c) => c.path.join(' ') === path.join(' '));
  if (exact) return exact.summary;
  return `${childWords(table, path).join(', ')}`;
}
