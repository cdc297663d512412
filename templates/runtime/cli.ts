// The command-line interface: logs in with any flow of the SDK, and shows,
// refreshes and ends the sessions kept on disk, shared with the SDK and with
// the Python CLI. One table of commands (below) is what parsing, help,
// suggestions and completion all read; each command is a small function in
// the cli-*.ts file of its topic.
import { bindArgs, matchCommand, parseLine, UsageError, type CommandSpec } from './cli-args.js';
import { completions, completionScript, SHELLS } from './cli-completion.js';
import { CliContext, CliError, removeIfOnlyLock, EXIT_FAILURE, EXIT_NOT_LOGGED_IN, EXIT_OK, EXIT_USAGE, type Call, type CliSpec, type Runner } from './cli-context.js';
import { commandHelp, GLOBAL_OPTIONS, groupHelp, mainHelp, usageLine } from './cli-help.js';
import { loginCommands } from './cli-login.js';
import { Output, printable, type CliIo } from './cli-output.js';
import { profileCommands } from './cli-profile.js';
import { sessionCommands, withoutSdkHint } from './cli-session.js';
import type { AuthCore } from './auth-core.js';
import { ConfigError, LoginRequiredError, PlanetAuthError, ProfileError, specificHint } from './errors.js';

export { EXIT_FAILURE, EXIT_NOT_LOGGED_IN, EXIT_OK, EXIT_USAGE, type CliSpec, type LoginCommand } from './cli-context.js';
export { printable, type CliIo } from './cli-output.js';

/** Every command of the CLI, in the order help lists them. */
export function commandTable(spec: CliSpec): CommandSpec<Runner>[] {
  const n = spec.name;
  return [
    ...loginCommands(spec),
    ...sessionCommands(spec),
    ...profileCommands(spec),
    {
      path: ['completion'],
      summary: 'Print a shell completion script (bash, zsh or fish)',
      args: [{ name: 'SHELL', required: true, completes: 'shell' }],
      options: [],
      examples: [`source <(${n} completion bash)     # in ~/.bashrc`, `${n} completion fish | source`],
      run: async (cli, call) => {
        const shell = call.args['SHELL'] as string;
        if (!(SHELLS as readonly string[]).includes(shell)) throw new UsageError(`unknown shell "${shell}"; use one of ${SHELLS.join(', ')}`, call.command.path);
        const script = completionScript(spec, shell as (typeof SHELLS)[number]);
        cli.out.data({ shell, script });
        if (!cli.out.json) cli.io.stdout.write(script);
        return EXIT_OK;
      },
    },
    {
      path: ['help'],
      summary: 'Show help for a command',
      args: [{ name: 'COMMAND', required: false, completes: 'command', rest: true }],
      options: [],
      examples: [`${n} help login device`],
      run: async (cli, call) => showHelp(cli, call.args['COMMAND'] as readonly string[]),
    },
    {
      path: ['version'],
      summary: 'Print the version',
      args: [],
      options: [],
      examples: [`${n} version`],
      run: async (cli) => showVersion(cli),
    },
    {
      path: ['__complete'],
      summary: 'Completion candidates for the words given (used by the completion scripts)',
      hidden: true,
      args: [{ name: 'WORDS', required: false, rest: true }],
      options: [],
      examples: [],
      // Run by Cli.run before parsing, since the words it is given are not its own options.
      run: async () => EXIT_OK,
    },
  ];
}

function showVersion(cli: CliContext): number {
  cli.out.data({ name: cli.spec.name, version: cli.spec.version });
  cli.out.result(cli.spec.version);
  return EXIT_OK;
}

function showHelp(cli: CliContext, words: readonly string[]): number {
  const { command, depth } = matchCommand(cli.table, words);
  if (depth < words.length) {
    // Reuses the parser's refusal, with its suggestion.
    parseLine(words, cli.table, []);
  }
  const text = command ? commandHelp(cli.spec, command) : depth > 0 ? groupHelp(cli.spec, cli.table, words) : mainHelp(cli.spec, cli.table);
  cli.out.data({ command: words.join(' '), help: text });
  cli.out.result(text);
  return EXIT_OK;
}

export class Cli {
  readonly #spec: CliSpec;
  readonly #io: CliIo;
  readonly #table: CommandSpec<Runner>[];

  constructor(spec: CliSpec, io: CliIo) {
    this.#spec = spec;
    this.#io = io;
    this.#table = commandTable(spec);
  }

  /** Runs one command line; resolves with the exit code. */
  async run(argv: string[]): Promise<number> {
    // --json is looked for before parsing, so that even a refused line answers in JSON.
    const json = argv.slice(0, argv.includes('--') ? argv.indexOf('--') : undefined).includes('--json');
    const cli = new CliContext(this.#spec, this.#io, new Output(this.#io, json), this.#table);
    let usage: readonly string[] = [];
    try {
      // The completion scripts pass the words as typed, options included: they are not parsed.
      if (argv[0] === '__complete') {
        for (const line of completions(cli, argv.slice(1))) this.#io.stdout.write(`${line}\n`);
        return EXIT_OK;
      }
      const line = parseLine(argv, this.#table, GLOBAL_OPTIONS);
      usage = line.command?.path ?? line.group;
      if (line.options['help'] === true) return showHelp(cli, line.command?.path ?? line.group);
      if (line.options['version'] === true) return showVersion(cli);
      if (line.command === undefined) {
        if (line.group.length === 0) {
          cli.out.info(mainHelp(this.#spec, this.#table));
          throw new UsageError('name a command');
        }
        throw new UsageError(
          `name a "${line.group.join(' ')}" command: ${this.#table
            .filter((c) => c.path[0] === line.group[0] && !c.hidden)
            .map((c) => c.path.slice(line.group.length).join(' '))
            .join(', ')}`,
          line.group,
        );
      }
      const call: Call = { command: line.command, args: bindArgs(line.command, line.args), options: line.options };
      return await line.command.run(cli, call);
    } catch (error) {
      return this.#fail(cli, error, error instanceof UsageError && error.usage.length > 0 ? error.usage : usage);
    }
  }

  /**
   * Reports `error`, which running `argv` on the session `current` raised
   * outside this class (the start-up path), as `run` would have; returns the exit code.
   * `newFolder`, a profile folder that path found missing, goes if the failure left only the lock in it.
   */
  fail(argv: string[], error: unknown, current: AuthCore, newFolder?: string): number {
    const cli = new CliContext(this.#spec, this.#io, new Output(this.#io, false), this.#table);
    cli.current = current;
    if (newFolder !== undefined) cli.newFolders.push(newFolder);
    const { command } = matchCommand(this.#table, argv);
    return this.#fail(cli, error, command?.path ?? []);
  }

  #fail(cli: CliContext, error: unknown, usage: readonly string[]): number {
    for (const folder of cli.newFolders) removeIfOnlyLock(folder);
    const { code, message, hint, exit } = this.#describe(cli, error, usage);
    if (cli.out.json) cli.io.stdout.write(`${JSON.stringify({ error: { code, message: printable(message), hint: hint === undefined ? null : printable(hint) } }, null, 2)}\n`);
    else {
      cli.out.error(this.#spec.name, message, hint);
      if (exit === EXIT_USAGE && error instanceof UsageError) {
        const command = this.#table.find((c) => c.path.join(' ') === usage.join(' '));
        if (command) cli.io.stderr.write(`${usageLine(this.#spec, command)}\n`);
      }
    }
    return exit;
  }

  /** What to say about a failure: a code for scripts, the message, a hint that names a command, the exit code. */
  #describe(cli: CliContext, error: unknown, usage: readonly string[]): { code: string; message: string; hint: string | undefined; exit: number } {
    const n = this.#spec.name;
    const helpHint = `see "${n} help${usage.length > 0 ? ` ${usage.join(' ')}` : ''}"`;
    if (error instanceof UsageError) return { code: 'ERR_USAGE', message: error.message, hint: helpHint, exit: EXIT_USAGE };
    if (error instanceof CliError) return { code: error.code, message: error.message, hint: error.hint, exit: error.exitCode };
    const auth = cli.current;
    if (error instanceof LoginRequiredError) {
      return { code: error.code, message: error.reason, hint: auth ? cli.loginHint(auth) : `run "${n} login"`, exit: EXIT_NOT_LOGGED_IN };
    }
    // The SDK's own advice for this failure is kept, unless it names SDK calls rather than something a CLI user can do.
    const given = error instanceof PlanetAuthError ? specificHint(error) : undefined;
    const sdkHint = given !== undefined && !/\w\(/.test(given) ? given : undefined;
    if (error instanceof ProfileError) return { code: error.code, message: withoutSdkHint(error), hint: sdkHint ?? `see "${n} profile list"`, exit: EXIT_USAGE };
    if (error instanceof ConfigError) return { code: error.code, message: withoutSdkHint(error), hint: sdkHint ?? helpHint, exit: EXIT_USAGE };
    if (error instanceof PlanetAuthError) {
      const message = withoutSdkHint(error);
      const profile = auth ? ` --profile ${auth.profileName}` : '';
      const again = `run "${n} ${usage.join(' ')}${profile}" again`;
      const hints: Record<string, string> = {
        ERR_NETWORK: `check the network and $${this.#spec.settings.env.issuer}, then ${again}`,
        ERR_SERVER: `${again} later`,
        ERR_LOCK_TIMEOUT: again,
        ERR_TURN_LOST: again,
        ERR_TOKEN_REQUEST: auth ? cli.loginHint(auth) : `run "${n} login"`,
        ERR_ACCESS_DENIED: auth ? cli.loginHint(auth) : `run "${n} login"`,
        ERR_LOGIN_TIMEOUT: auth ? cli.loginHint(auth) : `run "${n} login"`,
        ERR_DEVICE_CODE_EXPIRED: auth ? cli.loginHint(auth) : `run "${n} login"`,
      };
      const fallback = auth ? `fix what the message names, or ${cli.loginHint(auth)}` : `see "${n} profile list"`;
      const own = error.code === 'ERR_NETWORK' ? undefined : sdkHint;
      return { code: error.code, message, hint: own ?? hints[error.code] ?? fallback, exit: EXIT_FAILURE };
    }
    const message = error instanceof Error ? error.message : String(error);
    return { code: 'ERR_INTERNAL', message, hint: `run "${n} ${usage.join(' ')}" again; if it keeps failing, report this message`, exit: EXIT_FAILURE };
  }
}

/** Runs the command line of this process (the generated bin goes through cli-start.ts first). */
export async function main(spec: CliSpec): Promise<void> {
  const { processIo } = await import('./cli-start.js');
  process.exitCode = await new Cli(spec, processIo()).run(process.argv.slice(2));
}
