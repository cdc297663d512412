// The command-line interface: logs in with any flow of the SDK, and shows,
// refreshes and ends the sessions kept on disk, shared with the SDK and with
// the Python CLI. Results go to stdout, progress and errors to stderr.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { AuthCore, type DeviceLoginInfo, type SessionStatus } from './auth-core.js';
import { ConfigError, LoginRequiredError, ProfileError, StateError } from './errors.js';
import {
  CLIENT_FILE,
  TOKEN_FILE,
  defaultSession,
  defaultSessionOptions,
  homeDir,
  normalizeProfileName,
  parseClientConfig,
  readJsonFileSync,
  readProfileOptions,
  type ClientOptions,
} from './profile.js';
import type { SdkSettings } from './settings.js';
import { FileStore } from './store.js';

export interface LoginCommand {
  /** `login <command>` */
  readonly command: string;
  readonly flowId: string;
  readonly summary: string;
}

export interface CliSpec {
  readonly name: string;
  readonly version: string;
  readonly settings: SdkSettings;
  readonly logins: readonly LoginCommand[];
}

export interface CliIo {
  readonly stdout: NodeJS.WritableStream & { isTTY?: boolean };
  readonly stderr: NodeJS.WritableStream & { isTTY?: boolean };
  readonly stdin: NodeJS.ReadableStream & { isTTY?: boolean };
  readonly env: NodeJS.ProcessEnv;
}

/** Exit codes, documented in `--help`. */
export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;
export const EXIT_NOT_LOGGED_IN = 3;

class UsageError extends Error {}

interface Parsed {
  readonly positionals: string[];
  readonly values: Record<string, string | boolean | string[] | undefined>;
}

const COMMON_OPTIONS = {
  profile: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

const LOGIN_OPTIONS = {
  ...COMMON_OPTIONS,
  'client-id': { type: 'string' },
  'client-secret': { type: 'string' },
  'callback-url': { type: 'string' },
  scope: { type: 'string', multiple: true },
  'open-browser': { type: 'boolean' },
  'no-open-browser': { type: 'boolean' },
  'show-qr-code': { type: 'boolean' },
} as const;

const TOKEN_OPTIONS = { ...COMMON_OPTIONS, refresh: { type: 'boolean' }, 'no-refresh': { type: 'boolean' } } as const;

function parse(args: string[], options: ParseArgsConfig['options']): Parsed {
  try {
    const { values, positionals } = parseArgs({ args, options, allowPositionals: true, strict: true });
    return { values: values as Parsed['values'], positionals };
  } catch (error) {
    throw new UsageError((error as Error).message.replace(/^\w*Error[^:]*: /, '').split('\n')[0]!);
  }
}

class Output {
  readonly color: boolean;
  readonly progress: boolean;

  constructor(readonly io: CliIo) {
    this.color = io.stderr.isTTY === true && !('NO_COLOR' in io.env);
    this.progress = io.stderr.isTTY === true;
  }

  result(text: string): void {
    this.io.stdout.write(`${text}\n`);
  }

  json(value: unknown): void {
    this.io.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
  }

  info(text: string): void {
    this.io.stderr.write(`${text}\n`);
  }

  strong(text: string): string {
    return this.color ? `\u001b[1m${text}\u001b[22m` : text;
  }

  error(name: string, text: string): void {
    this.io.stderr.write(`${name}: ${this.color ? '\u001b[31merror\u001b[39m' : 'error'}: ${text}\n`);
  }

  /** A line redrawn in place on a terminal (nothing otherwise); returns a function that clears it. */
  ticker(render: (tick: number) => string): () => void {
    if (!this.progress) return () => undefined;
    let tick = 0;
    const draw = () => this.io.stderr.write(`\r\u001b[2K${render(tick++)}`);
    draw();
    const timer = setInterval(draw, 100);
    timer.unref();
    return () => {
      clearInterval(timer);
      this.io.stderr.write('\r\u001b[2K');
    };
  }
}

const SPINNER = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

function statusJson(status: SessionStatus): Record<string, unknown> {
  return {
    profile: status.profile,
    flow: status.flow,
    client_type: status.clientType,
    client_id: status.clientId,
    issuer: status.issuer,
    scopes: status.scopes,
    logged_in: status.loggedIn,
    access_token_valid: status.accessTokenValid,
    expires_at: status.expiresAt !== undefined ? new Date(status.expiresAt * 1000).toISOString() : null,
    has_refresh_token: status.hasRefreshToken,
  };
}

export class Cli {
  readonly #spec: CliSpec;
  readonly #out: Output;
  readonly #io: CliIo;

  constructor(spec: CliSpec, io: CliIo) {
    this.#spec = spec;
    this.#io = io;
    this.#out = new Output(io);
  }

  /** Runs one command line; resolves with the exit code. */
  async run(argv: string[]): Promise<number> {
    try {
      return await this.#dispatch(argv);
    } catch (error) {
      return this.#fail(error);
    }
  }

  #fail(error: unknown): number {
    const name = this.#spec.name;
    if (error instanceof UsageError) {
      this.#out.error(name, `${error.message} (see "${name} --help")`);
      return EXIT_USAGE;
    }
    const message = error instanceof Error ? error.message : String(error);
    this.#out.error(name, message);
    if (error instanceof LoginRequiredError) return EXIT_NOT_LOGGED_IN;
    if (error instanceof ProfileError) return /does not exist/.test(message) ? EXIT_NOT_LOGGED_IN : EXIT_USAGE;
    if (error instanceof ConfigError) return EXIT_USAGE;
    return EXIT_FAILURE;
  }

  async #dispatch(argv: string[]): Promise<number> {
    const [command, ...rest] = argv;
    if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
      this.#out.result(this.#mainHelp());
      return command === undefined ? EXIT_USAGE : EXIT_OK;
    }
    if (command === '--version') {
      this.#out.result(this.#spec.version);
      return EXIT_OK;
    }
    switch (command) {
      case 'login':
        return this.#login(rest);
      case 'logout':
        return this.#logout(rest);
      case 'status':
        return this.#status(rest);
      case 'print-access-token':
        return this.#printAccessToken(rest);
      case 'refresh':
        return this.#refresh(rest);
      case 'profile':
        return this.#profile(rest);
      default:
        throw new UsageError(`unknown command "${command}"`);
    }
  }

  // ---- help -----------------------------------------------------------------

  #mainHelp(): string {
    const n = this.#spec.name;
    const logins = this.#spec.logins.map((l) => `  ${n} login ${l.command.padEnd(22)} ${l.summary}`).join('\n');
    return `Usage: ${n} <command> [options]

Log in to Planet APIs and manage the sessions kept in ~/${this.#spec.settings.disk.root}/<profile>/,
shared with the SDK and with the Python CLI.

Commands:
${logins}
  ${n} logout                       Revoke and forget the session of a profile
  ${n} status                       Show a profile's session (never its tokens)
  ${n} print-access-token           Print a valid access token, refreshing it if due
  ${n} refresh                      Refresh the session now
  ${n} profile list|show|set        List profiles, show one, or choose the default

Which profile: --profile, else $${this.#spec.settings.env.profile}, else $${this.#spec.settings.env.clientId} with
$${this.#spec.settings.env.clientSecret} (a service account kept in memory), else ~/${this.#spec.settings.disk.defaultsFile}, else "${this.#spec.settings.disk.defaultProfile}".

Exit codes: 0 ok, 1 failure, 2 usage error, 3 not logged in (or no such profile).
Run "${n} <command> --help" for a command's options and examples.`;
  }

  #commandHelp(command: string): string {
    const n = this.#spec.name;
    const common = '  --profile NAME        Profile to use\n  --json                Print the result as JSON\n  -h, --help            Show this help';
    switch (command) {
      case 'login': {
        const lines = this.#spec.logins.map((l) => `  ${l.command.padEnd(22)}${l.summary}`).join('\n');
        const example = this.#spec.logins[0]?.command ?? 'browser';
        return `Usage: ${n} login <flow> [options]

Flows:
${lines}

Options:
  --client-id ID        Client ID (default: the profile's, or $${this.#spec.settings.env.clientId} for a service account)
  --client-secret S     Service account secret; prefer $${this.#spec.settings.env.clientSecret} or the prompt,
                        since command lines are visible to other users
  --callback-url URL    Loopback callback of a browser login (default http://127.0.0.1:0/callback)
  --scope SCOPE         Scope to request; repeat for several (default: ${this.#spec.settings.defaultScopes.join(' ')})
  --open-browser        Open the login page in the browser (default)
  --no-open-browser     Print the login URL instead
  --show-qr-code        Show a QR code of the device login URL
${common}

The session is saved under the profile (default: the client ID), and becomes the
default profile when none is set.

Examples:
  ${n} login ${example} --client-id my-app --profile work
  ${n} login device --client-id my-app --show-qr-code
  ${this.#spec.settings.env.clientSecret}=... ${n} login service-account --client-id my-service`;
      }
      case 'print-access-token':
        return `Usage: ${n} print-access-token [--refresh | --no-refresh] [options]

Prints the profile's access token, refreshing it first when it is due.
  --refresh             Refresh now, even if the token is still fresh
  --no-refresh          Print the saved token as it is, without any request
${common}

Example:
  curl -H "Authorization: Bearer $(${n} print-access-token)" https://api.example.com/`;
      case 'profile':
        return `Usage: ${n} profile list | show [NAME] | set NAME

  list                  Profiles saved in ~/${this.#spec.settings.disk.root}/ (* marks the default)
  show [NAME]           A profile's client settings (secrets hidden)
  set NAME              Make NAME the default profile (written to ~/${this.#spec.settings.disk.defaultsFile})
  --json                Print the result as JSON

Examples:
  ${n} profile list
  ${n} profile set work`;
      default:
        return `Usage: ${n} ${command} [options]

${command === 'logout' ? 'Revokes the session at the authorization server, then forgets its tokens; the profile stays.' : command === 'status' ? "Shows the profile's flow, client, scopes, expiry and whether a refresh token is held; never the tokens." : 'Refreshes the session now (a service account logs in again).'}
${common}

Example:
  ${n} ${command} --profile work`;
    }
  }

  // ---- profiles ---------------------------------------------------------------

  #profileArg(value: unknown): string | undefined {
    if (typeof value !== 'string') return undefined;
    try {
      return normalizeProfileName(value);
    } catch (error) {
      throw new UsageError((error as Error).message);
    }
  }

  /** The session a command acts on: `--profile`, else the SDK's default-session rules. */
  #auth(parsed: Parsed): AuthCore {
    const settings = this.#spec.settings;
    const named = this.#profileArg(parsed.values['profile']);
    const { flowId, options } = named !== undefined ? readProfileOptions(settings, named) : defaultSessionOptions(settings);
    return new AuthCore(settings, flowId, options);
  }

  #helpRequested(parsed: Parsed, command: string): boolean {
    if (parsed.values['help'] !== true) return false;
    this.#out.result(this.#commandHelp(command));
    return true;
  }

  // ---- commands -----------------------------------------------------------------

  async #login(args: string[]): Promise<number> {
    const parsed = parse(args, LOGIN_OPTIONS);
    if (this.#helpRequested(parsed, 'login')) return EXIT_OK;
    const [flowName, extra] = parsed.positionals;
    if (flowName === undefined) throw new UsageError(`name a flow: ${this.#spec.logins.map((l) => `"login ${l.command}"`).join(', ')}`);
    if (extra !== undefined) throw new UsageError(`unexpected argument "${extra}"`);
    const login = this.#spec.logins.find((l) => l.command === flowName);
    if (!login) throw new UsageError(`unknown flow "${flowName}"; use one of ${this.#spec.logins.map((l) => l.command).join(', ')}`);
    const settings = this.#spec.settings;
    const flow = settings.flows.find((f) => f.id === login.flowId)!;
    const env = this.#io.env;
    const v = parsed.values;

    const named = this.#profileArg(v['profile']);
    const existing = named !== undefined ? this.#existingConfig(named) : undefined;
    const service = flow.tokenEndpointAuthMethod !== 'none';
    const clientId = (v['client-id'] as string | undefined) ?? existing?.clientId ?? (service ? nonEmpty(env[settings.env.clientId]) : undefined);
    if (!clientId) throw new UsageError(`missing client ID: pass --client-id${service ? ` or set ${settings.env.clientId}` : ''}`);
    let clientSecret: string | undefined;
    if (service) {
      clientSecret = (v['client-secret'] as string | undefined) ?? nonEmpty(env[settings.env.clientSecret]) ?? existing?.clientSecret;
      if (!clientSecret && this.#io.stdin.isTTY) clientSecret = await promptHidden(this.#io, 'Client secret: ');
      if (!clientSecret) throw new UsageError(`missing client secret: set ${settings.env.clientSecret} (or pass --client-secret)`);
    }
    const scopes = (v['scope'] as string[] | undefined) ?? existing?.requestedScopes;
    const options: ClientOptions = {
      clientId,
      ...(clientSecret ? { clientSecret } : {}),
      ...(flow.grant === 'authorization_code' ? { callbackUrl: (v['callback-url'] as string | undefined) ?? existing?.callbackUrl ?? 'http://127.0.0.1:0/callback' } : {}),
      ...(scopes && scopes.length > 0 ? { requestedScopes: scopes } : {}),
      ...(named !== undefined ? { profileName: named } : {}),
      ...(existing?.issuer ? { issuer: existing.issuer } : {}),
      ...(existing?.audience ? { audience: existing.audience } : {}),
    };
    const auth = new AuthCore(settings, flow.id, options);

    if (flow.grant === 'authorization_code') {
      const stop = this.#out.ticker((t) => `${SPINNER[t % SPINNER.length]} Waiting for the login in the browser...`);
      try {
        await auth.userLogin({ allowOpenBrowser: v['no-open-browser'] !== true });
      } finally {
        stop();
      }
    } else if (flow.grant === 'device_code') {
      const info = await auth.deviceUserLoginInitiate();
      await this.#showDeviceLogin(info, v['show-qr-code'] === true);
      const deadline = Date.now() + info.expiresIn * 1000;
      const stop = this.#out.ticker(() => {
        const left = Math.max(0, Math.round((deadline - Date.now()) / 1000));
        return `Waiting for the login to complete... ${Math.floor(left / 60)}:${String(left % 60).padStart(2, '0')} left`;
      });
      try {
        await auth.deviceUserLoginComplete(info);
      } finally {
        stop();
      }
    } else {
      await auth.userLogin();
    }
    const madeDefault = await this.#setDefaultIfNone(auth.profileName);
    const status = await auth.sessionStatus();
    if (v['json'] === true) this.#out.json({ ...statusJson(status), default_profile: madeDefault || undefined });
    else {
      this.#out.result(`Logged in: profile ${this.#out.strong(status.profile)} (${login.command}).`);
      if (madeDefault) this.#out.info(`"${status.profile}" is now the default profile.`);
    }
    return EXIT_OK;
  }

  async #showDeviceLogin(info: DeviceLoginInfo, qr: boolean): Promise<void> {
    const out = this.#out;
    if (info.verificationUriComplete) out.info(`To log in, open ${info.verificationUriComplete}\nand check that it shows the code ${out.strong(info.userCode)}.`);
    else out.info(`To log in, open ${info.verificationUri}\nand enter the code ${out.strong(info.userCode)}.`);
    if (qr) {
      const target = info.verificationUriComplete ?? info.verificationUri;
      const { default: qrcode } = await import('qrcode-terminal');
      const rendered = await new Promise<string>((resolve) => qrcode.generate(target, { small: true }, resolve));
      out.info(rendered);
    }
  }

  #existingConfig(profile: string): ClientOptions | undefined {
    try {
      return readProfileOptions(this.#spec.settings, profile).options;
    } catch (error) {
      if (error instanceof ProfileError) return undefined;
      throw error;
    }
  }

  #defaultsPath(): string {
    return join(homeDir(), this.#spec.settings.disk.defaultsFile);
  }

  /** Makes `profile` the default when `~/.planet.json` names none; true when it did. Other keys in the file are kept. */
  async #setDefaultIfNone(profile: string): Promise<boolean> {
    const defaults = readJsonFileSync(this.#defaultsPath()) ?? {};
    if (typeof defaults[this.#spec.settings.env.profile] === 'string') return false;
    await this.#writeDefaults({ ...defaults, [this.#spec.settings.env.profile]: profile });
    return true;
  }

  async #writeDefaults(data: Record<string, unknown>): Promise<void> {
    await new FileStore(homeDir()).saveObj(this.#spec.settings.disk.defaultsFile, data);
  }

  async #logout(args: string[]): Promise<number> {
    const parsed = parse(args, COMMON_OPTIONS);
    if (this.#helpRequested(parsed, 'logout')) return EXIT_OK;
    const auth = this.#auth(parsed);
    const before = await auth.sessionStatus();
    await auth.logout();
    if (parsed.values['json'] === true) this.#out.json({ profile: auth.profileName, logged_out: before.loggedIn });
    else this.#out.result(before.loggedIn ? `Logged out: profile ${auth.profileName}.` : `Profile ${auth.profileName} had no session.`);
    return EXIT_OK;
  }

  async #status(args: string[]): Promise<number> {
    const parsed = parse(args, COMMON_OPTIONS);
    if (this.#helpRequested(parsed, 'status')) return EXIT_OK;
    const status = await this.#auth(parsed).sessionStatus();
    if (parsed.values['json'] === true) this.#out.json(statusJson(status));
    else {
      const expiry = status.expiresAt !== undefined ? new Date(status.expiresAt * 1000).toISOString() : 'unknown';
      this.#out.result(
        [
          `profile:        ${status.profile}`,
          `flow:           ${status.flow} (${status.clientType})`,
          `client id:      ${status.clientId}`,
          `issuer:         ${status.issuer}`,
          `scopes:         ${status.scopes.join(' ')}`,
          `logged in:      ${status.loggedIn ? 'yes' : 'no'}`,
          `access token:   ${status.loggedIn ? `${status.accessTokenValid ? 'valid' : 'expired'} until ${expiry}` : 'none'}`,
          `refresh token:  ${status.hasRefreshToken ? 'held' : 'none'}`,
        ].join('\n'),
      );
    }
    return status.loggedIn ? EXIT_OK : EXIT_NOT_LOGGED_IN;
  }

  async #printAccessToken(args: string[]): Promise<number> {
    const parsed = parse(args, TOKEN_OPTIONS);
    if (this.#helpRequested(parsed, 'print-access-token')) return EXIT_OK;
    if (parsed.values['refresh'] === true && parsed.values['no-refresh'] === true) throw new UsageError('--refresh and --no-refresh exclude each other');
    const auth = this.#auth(parsed);
    let token: string | undefined;
    if (parsed.values['no-refresh'] === true) {
      token = await auth.savedAccessToken();
      if (token === undefined) throw new LoginRequiredError(`profile "${auth.profileName}" has no saved access token`, this.#loginCommand(auth));
    } else {
      if (parsed.values['refresh'] === true) await auth.refresh();
      token = await this.#withLoginHint(auth, () => auth.getAccessToken());
    }
    if (parsed.values['json'] === true) this.#out.json({ profile: auth.profileName, access_token: token });
    else this.#out.result(token);
    return EXIT_OK;
  }

  async #refresh(args: string[]): Promise<number> {
    const parsed = parse(args, COMMON_OPTIONS);
    if (this.#helpRequested(parsed, 'refresh')) return EXIT_OK;
    const auth = this.#auth(parsed);
    await this.#withLoginHint(auth, () => auth.refresh());
    const status = await auth.sessionStatus();
    if (parsed.values['json'] === true) this.#out.json(statusJson(status));
    else this.#out.result(`Refreshed: profile ${status.profile}, access token valid until ${status.expiresAt !== undefined ? new Date(status.expiresAt * 1000).toISOString() : 'unknown'}.`);
    return EXIT_OK;
  }

  async #withLoginHint<T>(auth: AuthCore, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (error) {
      if (error instanceof LoginRequiredError) throw new LoginRequiredError(error.reason, this.#loginCommand(auth), { cause: error });
      throw error;
    }
  }

  /** The hint a CLI user needs: the exact login command for the profile. */
  #loginCommand(auth: AuthCore): string {
    const command = this.#spec.logins.find((l) => l.flowId === auth.flow.id)?.command ?? '';
    return `run "${this.#spec.name} login ${command} --profile ${auth.profileName}"`;
  }

  async #profile(args: string[]): Promise<number> {
    const parsed = parse(args, COMMON_OPTIONS);
    if (this.#helpRequested(parsed, 'profile')) return EXIT_OK;
    const [sub, name, extra] = parsed.positionals;
    if (extra !== undefined) throw new UsageError(`unexpected argument "${extra}"`);
    const settings = this.#spec.settings;
    const json = parsed.values['json'] === true;
    switch (sub) {
      case 'list': {
        const current = this.#currentDefault();
        const rows = this.#listProfiles().map((p) => ({ ...p, default: p.profile === current }));
        if (json) this.#out.json(rows);
        else if (rows.length === 0) this.#out.result(`No profiles in ~/${settings.disk.root}/; log in with "${this.#spec.name} login".`);
        else for (const r of rows) this.#out.result(`${r.default ? '*' : ' '} ${r.profile.padEnd(24)} ${r.client_type.padEnd(32)} ${r.logged_in ? 'logged in' : 'logged out'}`);
        return EXIT_OK;
      }
      case 'show': {
        const profile = this.#profileArg(name) ?? this.#profileArg(parsed.values['profile']) ?? this.#currentDefault();
        const path = join(homeDir(), settings.disk.root, profile, CLIENT_FILE);
        const data = readJsonFileSync(path);
        if (!data) throw new ProfileError(`profile "${profile}" does not exist (no ${path}): log in with that profile first`);
        const config = parseClientConfig(path, data);
        const shown = { profile, ...config, ...(config.client_secret ? { client_secret: '(hidden)' } : {}) };
        if (json) this.#out.json(shown);
        else for (const [k, value] of Object.entries(shown)) this.#out.result(`${k.padEnd(20)} ${Array.isArray(value) ? value.join(' ') : String(value)}`);
        return EXIT_OK;
      }
      case 'set': {
        const profile = this.#profileArg(name);
        if (profile === undefined) throw new UsageError('name the profile: "profile set NAME"');
        const path = join(homeDir(), settings.disk.root, profile, CLIENT_FILE);
        if (!readJsonFileSync(path)) throw new ProfileError(`profile "${profile}" does not exist (no ${path}): log in with "--profile ${profile}" first`);
        const defaults = readJsonFileSync(this.#defaultsPath()) ?? {};
        await this.#writeDefaults({ ...defaults, [settings.env.profile]: profile });
        if (json) this.#out.json({ default_profile: profile });
        else this.#out.result(`Default profile: ${profile}.`);
        return EXIT_OK;
      }
      default:
        throw new UsageError(sub === undefined ? 'name a profile command: list, show or set' : `unknown profile command "${sub}"`);
    }
  }

  #currentDefault(): string {
    const session = defaultSession(this.#spec.settings);
    return session.profile ?? this.#spec.settings.disk.defaultProfile;
  }

  #listProfiles(): { profile: string; client_type: string; client_id: string; logged_in: boolean }[] {
    const root = join(homeDir(), this.#spec.settings.disk.root);
    let names: string[];
    try {
      names = readdirSync(root, { withFileTypes: true })
        .filter((e) => e.isDirectory())
        .map((e) => e.name)
        .sort();
    } catch {
      return [];
    }
    const rows = [];
    for (const profile of names) {
      const path = join(root, profile, CLIENT_FILE);
      let data: Record<string, unknown> | undefined;
      try {
        data = readJsonFileSync(path);
      } catch (error) {
        if (error instanceof StateError) {
          this.#out.info(`skipping profile "${profile}": ${error.message}`);
          continue;
        }
        throw error;
      }
      if (!data) continue;
      const config = parseClientConfig(path, data);
      rows.push({ profile, client_type: config.client_type, client_id: config.client_id, logged_in: readJsonFileSync(join(root, profile, TOKEN_FILE)) !== undefined });
    }
    return rows;
  }
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value;
}

/** Reads a line from the terminal without echoing it. */
async function promptHidden(io: CliIo, question: string): Promise<string> {
  const { createInterface } = await import('node:readline');
  const rl = createInterface({ input: io.stdin, output: io.stderr, terminal: true });
  const output = rl as unknown as { _writeToOutput?: (s: string) => void };
  io.stderr.write(question);
  output._writeToOutput = () => undefined;
  return new Promise((resolve) => {
    rl.question('', (answer) => {
      rl.close();
      io.stderr.write('\n');
      resolve(answer.trim());
    });
  });
}

/** Entry point used by the generated bin. */
export async function main(spec: CliSpec): Promise<void> {
  const io: CliIo = { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin, env: process.env };
  process.exitCode = await new Cli(spec, io).run(process.argv.slice(2));
}
