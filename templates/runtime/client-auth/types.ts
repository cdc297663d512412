// The interface every client authentication module implements: one module
// per way a client proves itself at the token endpoint (RFC 6749, section
// 2.3). A module declares everything about its method, so the registry, the
// validator, the CLI, saved profiles and the examples read it from here.
import type * as OidcClient from 'openid-client';
import type { OptionSpec } from '../cli-args.js';
import type { ClientCredentials } from '../client-options.js';
import type { CredentialOption } from '../registry-public.js';

export type { ClientCredentials } from '../client-options.js';

/** The names of a method's options that a flow of it must have. */
export function requiredOptionsOf(method: ClientAuthMethod): string[] {
  return Object.entries(method.options)
    .filter(([, option]) => option.required)
    .map(([name]) => name);
}

/** What a client holds to prove itself: nothing (a public client), a shared secret, or a private key it signs with. */
export type ClientCredentialKind = 'nothing' | 'secret' | 'privateKey';

/** What a CLI login gives a module to find the credential: the command line, the environment, the profile's saved values. */
export interface CliCredentialContext {
  /** The parsed login options. */
  readonly values: Readonly<Record<string, unknown>>;
  /** An environment variable, undefined when unset or empty. */
  env(name: string): string | undefined;
  /** What the profile being logged in again already holds. */
  readonly existing: ClientCredentials | undefined;
  /** The environment variable of an ad hoc service account's secret. */
  readonly secretEnv: string;
  readonly stdinIsTTY: boolean;
  readStdin(): Promise<string>;
  promptHidden(question: string): Promise<string | undefined>;
  /** A usage error (exit code 2) with its hint. */
  usage(message: string, hint: string): Error;
  /** `text` as a full command line of this CLI, such as `planet-auth help login x`. */
  command(text: string): string;
  /** The login command's name, such as `service-account`. */
  readonly login: string;
}

/** What an example program passes for an option: an examples environment variable (by its key in the spec), else a placeholder. */
export interface ExampleValue {
  readonly env: string;
  readonly fallback: string;
}

/** The credential options of one method, by name. */
export type CredentialOptions = Readonly<Record<string, CredentialOption>>;

export interface ClientAuthMethod<O extends CredentialOptions = CredentialOptions> {
  /** What the client holds. */
  readonly holds: ClientCredentialKind;
  /**
   * The options it reads: its entry in `CLIENT_AUTH_METHODS`
   * (registry-public.ts), where they are declared once, so the public types
   * (`ClientCredentials`, the factories' options) need none of this module.
   */
  readonly options: O;
  /** Where the spec says how it works, for doc comments. */
  readonly see: string;
  /**
   * The `auth_client.json` fields that keep its options, by option name. A
   * private key is kept as a reference (a file path or a variable name), never itself.
   */
  profileFields(options: ClientCredentials): Record<string, string>;
  /** Its options, read back from the fields of `auth_client.json` it wrote. */
  fromProfile(config: Readonly<Record<string, unknown>>): ClientCredentials;
  /** The `auth_client.json` fields it writes, all strings. */
  readonly savedFields: readonly string[];
  /** The CLI login's options for it; `doc` is the flow's own wording of an option, when it has one. */
  cliOptions(secretEnv: string, doc: (option: string, fallback: string) => string): OptionSpec[];
  /** Whether a CLI login's options ask for this method, when several flows share one login command. */
  selectedBy(values: Readonly<Record<string, unknown>>): boolean;
  /** The credential a CLI login uses: from its options, else the environment, else the profile; throws a usage error naming the fix. */
  cliCredentials(context: CliCredentialContext): Promise<ClientCredentials>;
  /** Prefix of a login command in a hint, such as `PL_AUTH_CLIENT_SECRET=... `. */
  loginHintPrefix(secretEnv: string): string;
  /** Example command-line arguments of a CLI login. */
  readonly cliExample: string;
  /** What an example program passes for its options, by option name. */
  readonly exampleValues: Readonly<Record<string, ExampleValue>>;
  /** What to check when the server refuses the client's credentials. */
  readonly refusedHint: string;
  /** The credential as openid-client takes it. */
  clientAuth(oidc: typeof OidcClient, credentials: ClientCredentials): Promise<OidcClient.ClientAuth>;
}
