// The interface every grant module implements. The session engine
// (auth-core.ts) owns the lifecycle: loading, turn-taking, refreshing and
// saving; a grant knows how to get a first set of tokens, and declares
// everything else about itself: the options it needs, its CLI login, and
// how an example program logs in with it. The registry lists the modules.
import type * as OidcClient from 'openid-client';
import type { BindingKey } from '../token-binding/types.js';
import type { OptionSpec } from '../cli-args.js';
import type { ClientOptions } from '../client-options.js';
import type { PlanetAuthError } from '../errors.js';
import type { SessionLog } from '../log.js';
import type { FlowDescriptor } from '../settings.js';
import type { DeviceLoginInfo, UserLoginOptions } from '../core/api-types.js';

export type { DeviceLoginInfo, UserLoginOptions } from '../core/api-types.js';

/** A token endpoint response, as openid-client returns it. */
export type TokenResponse = Record<string, unknown>;

/** Everything a grant needs from the session it logs in. */
export interface GrantContext {
  readonly oidc: typeof OidcClient;
  readonly config: OidcClient.Configuration;
  /** Options every token request of the login passes to openid-client: the token binding's (the DPoP handle, for a DPoP flow). */
  readonly requestOptions: { readonly DPoP?: OidcClient.DPoPHandle };
  /** The key the login's tokens are to be bound to, for a flow whose token binding has keys. */
  readonly boundKey?: BindingKey;
  readonly flow: FlowDescriptor;
  readonly scopes: readonly string[];
  /** The loopback callback URL, for the authorization code grant. */
  readonly callbackUrl: string | undefined;
  readonly log: SessionLog;
  /** Request parameters plus the audience this session asks for. */
  parameters(extra: Record<string, string>): Record<string, string>;
  /** Maps what openid-client throws to this SDK's typed errors. */
  protocolError(error: unknown, step: string): PlanetAuthError;
}

/**
 * The outcome of a login: the tokens, and for logins a browser waits on, a
 * way to tell the browser how it ended once the tokens were saved.
 */
export interface LoginResult {
  readonly response: TokenResponse;
  readonly finish?: (outcome: { readonly ok: true } | { readonly ok: false; readonly message: string }) => void;
}

/** The terminal a CLI login talks to (stderr), as the CLI gives it. */
export interface CliLoginTerminal {
  info(text: string): void;
  /** Redraws `line` (given a spinner frame) until the returned function is called. */
  progress(line: (spinner: string) => string): () => void;
  strong(text: string): string;
  /** `text` from a server, made safe to print (no control or direction-changing characters). */
  printable(text: string): string;
  /** Opens `url` in a browser on this machine; false when none could be opened. */
  openBrowser(url: string): Promise<boolean>;
  /** `text` drawn as a QR code for a terminal. */
  qrCode(text: string): Promise<string>;
}

/** The session a CLI login logs in (the AuthCore's login methods). */
export interface CliLoginSession {
  userLogin(options?: UserLoginOptions): Promise<unknown>;
  deviceUserLoginInitiate(): Promise<DeviceLoginInfo>;
  deviceUserLoginComplete(info: DeviceLoginInfo): Promise<unknown>;
}

/** A grant's part of `login <command>`: its options, what they make of the session, and how the login runs at a terminal. */
export interface GrantCli {
  /** Its login options; `doc` is the flow's own wording of a factory option, when it has one. */
  options(doc: (option: string, fallback: string) => string): OptionSpec[];
  /** Its arguments in the command's example. */
  readonly exampleArgs: readonly string[];
  /** The session options its login options (else the profile's saved ones) give. */
  sessionOptions(values: Readonly<Record<string, unknown>>, existing: ClientOptions | undefined): Partial<ClientOptions>;
  /** Logs in with the person at the terminal, if one takes part. */
  login(terminal: CliLoginTerminal, session: CliLoginSession, values: Readonly<Record<string, unknown>>): Promise<void>;
}

/** How an example program logs in with the grant, and what it says about it. */
export interface GrantExample {
  /** Who logs in, as a sentence starts: "The user". */
  readonly who: string;
  /** The statements that log in, one per line. */
  readonly login: readonly string[];
  /** What `ensureInitialized()` does, for its comment. */
  readonly ensureComment: string;
  /** The arguments of `ensureInitialized(...)`. */
  readonly ensureArguments: string;
  /** What an example passes as its client ID: an examples environment variable (by its key in the spec), else a placeholder. */
  readonly clientId: { readonly env: string; readonly fallback: string };
}

/**
 * What a saved profile (`auth_client.json`) holds for the grant, beside the
 * client's identity and credential: the authorization code grant keeps its
 * callback URL, the others nothing.
 */
export interface GrantProfile {
  /** The `auth_client.json` fields it writes and reads, all strings. */
  readonly savedFields: readonly string[];
  /**
   * The fields to write after a login with `options`, given the file there
   * now (undefined when there is none); a field left out keeps the file's value.
   */
  fields(options: ClientOptions, existing: Readonly<Record<string, unknown>> | undefined): Record<string, string>;
  /** The session options its fields give back. */
  fromProfile(config: Readonly<Record<string, unknown>>): Partial<ClientOptions>;
}

/** A grant whose saved profile holds nothing of its own. */
export const NOTHING_SAVED: GrantProfile = { savedFields: [], fields: () => ({}), fromProfile: () => ({}) };

export interface Grant {
  /** Options a flow of this grant must declare, and the runtime requires at run time. */
  readonly requiredOptions: readonly string[];
  /**
   * Whether a public client (auth method `none`, no credential) may use it.
   * Every method with a credential works with every grant.
   */
  readonly publicClients: boolean;
  /** Where the grant is specified, for doc comments. */
  readonly see: string;
  /**
   * Whether the grant logs in again by itself, without a person (client
   * credentials): such a session gets no refresh token (so never asks for
   * one), the engine logs in whenever it has no usable token, and an example
   * may log in just in time.
   */
  readonly unattended: boolean;
  readonly cli: GrantCli;
  readonly example: GrantExample;
  /** What a saved profile holds for it. */
  readonly profile: GrantProfile;
  /** Logs in; for a person this opens a browser or shows a code. */
  login(context: GrantContext, options: UserLoginOptions): Promise<LoginResult>;
}
