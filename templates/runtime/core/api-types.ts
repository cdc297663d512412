// The options and results of the session's public methods (AuthCore).
// For the links in the doc comments.
// eslint-disable-next-line @typescript-eslint/no-unused-vars -- read by the {@link} tags below, which the rule does not see
import type { AuthCore } from '../auth-core.js';

/** Default wait for a browser login, in milliseconds. */
export const BROWSER_LOGIN_TIMEOUT_MS = 300_000;

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

/**
 * Options of {@link AuthCore.ensureInitialized}: those of a login, used only when one is needed.
 *
 * @group Auth
 */
export type EnsureInitializedOptions = UserLoginOptions;

/**
 * Options of a call that may wait for the authorization server.
 *
 * @group Session
 */
export interface SignalOptions {
  /** Stops waiting (the call rejects with `AbortedError`); a refresh other callers share goes on. */
  readonly signal?: AbortSignal;
}

/**
 * Options of {@link AuthCore.deviceUserLoginComplete}.
 *
 * @group Auth
 */
export type DeviceLoginCompleteOptions = SignalOptions;

/**
 * Options of {@link AuthCore.logout}.
 *
 * @group Session
 */
export interface LogoutOptions extends SignalOptions {
  /**
   * Forget the session here even when the server cannot be reached to
   * revoke it; its refresh token then stays valid at the server until it
   * expires. @defaultValue false
   */
  readonly forgetLocally?: boolean;
}

/**
 * What {@link AuthCore.logout} did.
 *
 * @group Session
 */
export interface LogoutResult {
  /** The server revoked the refresh token (and an opaque access token). */
  readonly revoked: boolean;
  /** The tokens were forgotten here (memory and storage). */
  readonly forgotten: boolean;
  /** Why the server did not revoke, when it did not. */
  readonly warning?: string;
}

/**
 * What is known about a session, without any request and without the tokens themselves.
 *
 * @group Session
 */
export interface SessionStatus {
  /** The profile the session is saved under. */
  readonly profile: string;
  /** The flow it logs in with. */
  readonly flow: string;
  /** The `client_type` of its profile. */
  readonly clientType: string;
  /** The client ID it logs in as. */
  readonly clientId: string;
  /** The authorization server's issuer URL. */
  readonly issuer: string;
  /** The scopes it asks for. */
  readonly scopes: readonly string[];
  /** Where the session is kept. */
  readonly storage: 'memory' | 'disk' | 'provider';
  /** Whether tokens are saved. */
  readonly loggedIn: boolean;
  /** Expiry of the access token, epoch seconds. */
  readonly expiresAt?: number;
  /** Whether the access token has not expired yet. */
  readonly accessTokenValid: boolean;
  /** Whether the session can be refreshed without a login. */
  readonly hasRefreshToken: boolean;
}

/**
 * New tokens, as {@link AuthCore.onTokens} reports them.
 *
 * @group Events
 */
export interface TokenEvent {
  /** Why the tokens changed. */
  readonly reason: 'login' | 'refresh' | 'logout';
  /** The new access token; absent after a logout. */
  readonly accessToken?: string;
  /** When it expires, epoch seconds on this machine's clock; absent when nothing says. */
  readonly expiresAt?: number;
  /** The scopes the server granted, when it said. */
  readonly scope?: string;
  /** The OpenID Connect ID token, when there is one. */
  readonly idToken?: string;
  /** Only for listeners that asked for it with `includeRefreshToken`. */
  readonly refreshToken?: string;
}

/**
 * Options of {@link AuthCore.onTokens}.
 *
 * @group Events
 */
export interface TokenListenerOptions {
  /** Also hand the listener the refresh token. @defaultValue false */
  readonly includeRefreshToken?: boolean;
}
