// Help text, written from the command table: the overview, a group's
// commands (`login`, `profile`), and one command's usage, options and
// examples.
import { childWords, type CommandSpec, type OptionSpec } from './cli-args.js';
import type { CliSpec } from './cli-context.js';

export const GLOBAL_OPTIONS: readonly OptionSpec[] = [
  { name: 'profile', value: 'NAME', help: 'Profile to use (see "Which profile" in --help)', completes: 'profile' },
  { name: 'json', help: 'Print the result, or the error, as JSON on stdout' },
  { name: 'help', short: 'h', help: 'Show help' },
  { name: 'version', short: 'v', help: 'Print the version' },
];

const EXIT_CODES = 'Exit codes: 0 ok, 1 failure, 2 usage error, 3 not logged in or no such profile.';

function optionLine(o: OptionSpec): string {
  const flag = `${o.short ? `-${o.short}, ` : '    '}--${o.name}${o.value ? ` ${o.value}` : ''}`;
  return `  ${flag.padEnd(28)}${o.help}${o.multiple ? ' (repeatable)' : ''}`;
}

export function usageLine(spec: CliSpec, command: CommandSpec): string {
  const args = command.args.map((a) => (a.required ? a.name : `[${a.name}]`)).join(' ');
  return `Usage: ${spec.name} ${command.path.join(' ')}${args ? ` ${args}` : ''}${command.options.length > 0 ? ' [options]' : ''}`;
}

/** The commands under a group (or all, for the overview), one per line. */
function commandLines(spec: CliSpec, table: readonly CommandSpec[], prefix: readonly string[]): string[] {
  const visible = table.filter((c) => !c.hidden && prefix.every((w, i) => c.path[i] === w));
  const width = Math.max(...visible.map((c) => c.path.join(' ').length)) + 2;
  return visible.map((c) => `  ${spec.name} ${c.path.join(' ').padEnd(width)}${c.summary}`);
}

export function mainHelp(spec: CliSpec, table: readonly CommandSpec[]): string {
  const { env, disk } = spec.settings;
  const vars = [...spec.environment, { name: 'NO_COLOR', doc: 'Set (to anything) for output without colour or escape sequences.' }, { name: 'BROWSER', doc: 'Command that opens the login page (%s stands for the URL).' }];
  const varWidth = Math.max(...vars.map((v) => v.name.length)) + 2;
  return `Usage: ${spec.name} <command> [options]

Log in to Planet APIs and manage the sessions kept in ~/${disk.root}/<profile>/,
shared with the SDK and with the Python CLI.

Commands:
${commandLines(spec, table, []).join('\n')}

Options, anywhere on the line:
${GLOBAL_OPTIONS.map(optionLine).join('\n')}

Which profile: --profile, else the one $${env.profile} names (or that key in
~/${disk.defaultsFile}), else an ad hoc service account when $${env.clientId} and
$${env.clientSecret} are both found (each in the environment or that file),
else "${disk.defaultProfile}".

Environment:
${vars.map((v) => `  ${v.name.padEnd(varWidth)}${v.doc}`).join('\n')}

${EXIT_CODES}
Run "${spec.name} help <command>" for a command's options and examples.`;
}

export function groupHelp(spec: CliSpec, table: readonly CommandSpec[], group: readonly string[]): string {
  const words = childWords(table, group);
  const examples = table.filter((c) => !c.hidden && group.every((w, i) => c.path[i] === w)).map((c) => `  ${c.examples[0]}`);
  return `Usage: ${spec.name} ${group.join(' ')} <${words.join('|')}> [options]

Commands:
${commandLines(spec, table, group).join('\n')}

Examples:
${examples.join('\n')}

Run "${spec.name} help ${group.join(' ')} <command>" for one command's options and examples.`;
}

export function commandHelp(spec: CliSpec, command: CommandSpec): string {
  const parts = [usageLine(spec, command), '', command.summary];
  if (command.description && command.description.length > 0) parts.push('', ...command.description);
  if (command.options.length > 0) parts.push('', 'Options:', ...command.options.map(optionLine));
  parts.push('', 'Options for every command:', ...GLOBAL_OPTIONS.map(optionLine));
  parts.push('', command.examples.length > 1 ? 'Examples:' : 'Example:', ...command.examples.map((e) => `  ${e}`));
  parts.push('', EXIT_CODES);
  return parts.join('\n');
}
