// The interface every grant module implements. The session engine
// (auth-core.ts) owns the lifecycle: loading, turn-taking, refreshing and
// saving; a grant only knows how to get a first set of tokens.
import type * as OidcClient from 'openid-client';
import type { DpopKey } from '../dpop.js';
import type { PlanetAuthError } from '../errors.js';
import type { SessionLog } from '../log.js';
import type { FlowDescriptor } from '../settings.js';

/** A token endpoint response, as openid-client returns it. */
export type TokenResponse = Record<string, unknown>;

/**
 * What the user needs to complete a device login (RFC 8628, section 3.2).
 *
 * @group Auth
 */
export interface DeviceLoginInfo {
  /** The page where the user enters the code. */
  readonly verificationUri: string;
  /** The URL with the code already in it, when the server sends one. */
  readonly verificationUriComplete?: string;
  /** The code the user enters or confirms. */
  readonly userCode: string;
  /** Seconds until the code expires. */
  readonly expiresIn: number;
  /** Seconds between polls. */
  readonly interval: number;
}

/**
 * Options of a login: how the user is reached and how long to wait.
 *
 * @group Auth
 */
export interface UserLoginOptions {
  /** Open the login page in the user's browser; otherwise the URL is printed. @defaultValue false */
  readonly allowOpenBrowser?: boolean;
  /** Also let the user paste the URL the browser was sent to, when the terminal is interactive. @defaultValue false */
  readonly allowTtyPrompt?: boolean;
  /** How long to wait for the browser login, in milliseconds. @defaultValue 300000 */
  readonly timeoutMs?: number;
  /**
   * Shows the browser login's URL, called before the browser is opened;
   * `opening` (when a browser is being opened) resolves false if none could
   * be. By default the URL is printed to stderr.
   */
  readonly onAuthorizationUrl?: (url: string, opening: Promise<boolean> | undefined) => void;
  /** Shows the device login instructions; by default they are printed to stderr. */
  readonly onDeviceCode?: (info: DeviceLoginInfo) => void;
  /** Cancels the login while it waits for the user or the server. */
  readonly signal?: AbortSignal;
}

/** Everything a grant needs from the session it logs in. */
export interface GrantContext {
  readonly oidc: typeof OidcClient;
  readonly config: OidcClient.Configuration;
  /** Options every token request of the login passes to openid-client: the DPoP handle, for a DPoP flow. */
  readonly requestOptions: { readonly DPoP?: OidcClient.DPoPHandle };
  /** The key a DPoP login's tokens are bound to. */
  readonly dpopKey?: DpopKey;
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

export interface Grant {
  /**
   * Whether the grant logs in again by itself, without a person (client
   * credentials): the engine then does so whenever it has no usable token.
   */
  readonly unattended: boolean;
  /** Logs in; for a person this opens a browser or shows a code. */
  login(context: GrantContext, options: UserLoginOptions): Promise<LoginResult>;
}
