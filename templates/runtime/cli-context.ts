// What every command of the CLI works with: the generated spec, the output,
// the command table, and the rules for which profile a command acts on.
import { existsSync, readdirSync, rmdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { AuthCore } from './auth-core.js';
import type { CommandSpec, OptionValues } from './cli-args.js';
import type { CliIo, Output } from './cli-output.js';
import { ProfileError, StateError } from './errors.js';
import { LOCK_FOLDER } from './lock.js';
import { defaultSession, defaultSessionOptions, homeDir, normalizeProfileName, profileFolder, readJsonFileSync, readProfileOptions, type ClientOptions } from './profile.js';
import { holdsClientSecret } from './client-options.js';
import type { OptionName } from './registry.js';
import { clientAuthMethod } from './client-auth/index.js';
import type { FlowDescriptor, SdkSettings } from './settings.js';
import { FileStore } from './store.js';

export interface LoginCommand {
  /** `login <command>` */
  readonly command: string;
  readonly flowId: string;
  readonly summary: string;
  /** What the flow needs from the machine and the user, from the flow's spec. */
  readonly requirements: readonly string[];
  /** One line per option of the flow's factory, from the flow's spec. */
  readonly optionDocs: Readonly<Partial<Record<OptionName, string>>>;
}

export interface CliSpec {
  readonly name: string;
  readonly version: string;
  readonly settings: SdkSettings;
  readonly logins: readonly LoginCommand[];
  /** The SDK's environment variables, with what each does. */
  readonly environment: readonly { readonly name: string; readonly doc: string }[];
}

/** Exit codes, documented in `--help` and the README. */
export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;
export const EXIT_NOT_LOGGED_IN = 3;

/** A failure the CLI itself reports: a code for scripts, a message, and a hint naming a command. */
export class CliError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly hint: string | undefined,
    readonly exitCode: number = EXIT_FAILURE,
  ) {
    super(message);
  }
}

export interface Call {
  readonly command: CommandSpec<Runner>;
  readonly args: Readonly<Record<string, string | readonly string[] | undefined>>;
  readonly options: OptionValues;
}

export type Runner = (cli: CliContext, call: Call) => Promise<number>;

export class CliContext {
  /** The session the command acts on, once known: errors name its login command. */
  current: AuthCore | undefined;
  /** Profile folders that did not exist when this command began: a failure removes them if they hold only the lock. */
  readonly newFolders: string[] = [];

  constructor(
    readonly spec: CliSpec,
    readonly io: CliIo,
    readonly out: Output,
    readonly table: readonly CommandSpec<Runner>[],
  ) {}

  get settings(): SdkSettings {
    return this.spec.settings;
  }

  /** `planet-auth <words>`, quoted as a hint shows it. */
  command(words: string): string {
    return `"${this.spec.name} ${words}"`;
  }

  profileName(value: unknown): string | undefined {
    if (typeof value !== 'string') return undefined;
    try {
      return normalizeProfileName(value);
    } catch (error) {
      throw new CliError('ERR_USAGE', (error as Error).message, `profile names are plain words; see ${this.command('profile list')}`, EXIT_USAGE);
    }
  }

  loginFor(flow: FlowDescriptor): LoginCommand | undefined {
    return this.spec.logins.find((l) => l.flowId === flow.id);
  }

  /** The login command that starts a new session for `auth`'s profile. */
  loginHint(auth: AuthCore): string {
    const login = this.loginFor(auth.flow)?.command ?? '';
    const secret = clientAuthMethod(auth.flow.tokenEndpointAuthMethod).loginHintPrefix(this.settings.env.clientSecret);
    return `run "${secret}${this.spec.name} login ${login} --profile ${auth.profileName}"`;
  }

  /** The session a command acts on: `--profile`, else the SDK's default-session rules. */
  auth(options: OptionValues): AuthCore {
    const named = this.profileName(options['profile']);
    const { flowId, options: client } = this.#profileOptions(named);
    const flow = this.settings.flows.find((f) => f.id === flowId)!;
    if (clientAuthMethod(flow.tokenEndpointAuthMethod).holds === 'secret' && !holdsClientSecret(client)) {
      const login = this.loginFor(flow)?.command ?? '';
      throw new CliError(
        'ERR_NOT_LOGGED_IN',
        `profile "${client.profileName}" holds no client secret (it was forgotten at logout)`,
        `run "${this.settings.env.clientSecret}=... ${this.spec.name} login ${login} --profile ${client.profileName}"`,
        EXIT_NOT_LOGGED_IN,
      );
    }
    this.current = new AuthCore(this.settings, flowId, client);
    const folder = profileFolder(this.settings, this.current.profileName);
    if (!existsSync(folder)) this.newFolders.push(folder);
    return this.current;
  }

  #profileOptions(named: string | undefined): { flowId: string; options: ClientOptions } {
    try {
      return named !== undefined ? readProfileOptions(this.settings, named) : defaultSessionOptions(this.settings);
    } catch (error) {
      const profile = named ?? defaultSession(this.settings).profile ?? this.settings.disk.defaultProfile;
      if (error instanceof ProfileError && /does not exist/.test(error.message)) {
        throw new CliError(
          error.code,
          error.message.replace(/: log in with.*$/, ''),
          `log in with ${this.command(`login device --profile ${profile}`)} (or another login command), or see ${this.command('profile list')}`,
          EXIT_NOT_LOGGED_IN,
        );
      }
      if (error instanceof ProfileError) {
        // A profile this SDK cannot use, such as a Python CLI profile of another type: the message says what it is and what to do.
        throw new CliError(error.code, error.message, `see ${this.command('profile list')}`, EXIT_FAILURE);
      }
      if (error instanceof StateError) {
        throw new CliError(error.code, `profile "${profile}" cannot be used: ${error.message}`, `see ${this.command('profile list')}; ${this.command(`profile remove ${profile}`)} removes it`, EXIT_FAILURE);
      }
      throw error;
    }
  }

  /** Whether a profile exists: its folder, or a profile the SDK declares. */
  profileExists(profile: string): boolean {
    return existsSync(profileFolder(this.settings, profile)) || (this.settings.builtinProfiles ?? []).some((b) => b.name === profile);
  }

  currentDefault(): string {
    return defaultSession(this.settings).profile ?? this.settings.disk.defaultProfile;
  }

  defaultsPath(): string {
    return join(homeDir(), this.settings.disk.defaultsFile);
  }

  readDefaults(): Record<string, unknown> {
    return readJsonFileSync(this.defaultsPath()) ?? {};
  }

  async writeDefaults(data: Record<string, unknown>): Promise<void> {
    await new FileStore(homeDir()).saveObj(this.settings.disk.defaultsFile, data);
  }

  /** The default profile named in `~/.planet.json`, if any. */
  savedDefault(): string | undefined {
    const value = this.readDefaults()[this.settings.env.profile];
    return typeof value === 'string' ? value : undefined;
  }
}

/**
 * Removes a profile folder holding nothing but the session lock, as a login
 * that failed (or a service account's automatic login) leaves it; anything
 * else in it, or any error, leaves it as it is.
 */
export function removeIfOnlyLock(folder: string): void {
  try {
    const entries = readdirSync(folder);
    if (entries.some((name) => name !== LOCK_FOLDER)) return;
    rmSync(join(folder, LOCK_FOLDER), { recursive: true, force: true });
    rmdirSync(folder);
  } catch {
    // Left as it is: `profile list` does not show a folder holding only the lock.
  }
}
