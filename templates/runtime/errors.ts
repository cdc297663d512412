// Typed errors. Each has a stable `code`; each message says what happened,
// which profile or file, and what to do next. No message ever holds a secret
// or a token.

/**
 * Code of a {@link ConfigError}: options or arguments that cannot work.
 *
 * @group Errors
 */
export const ERR_CONFIG = 'ERR_CONFIG';
/**
 * Code of a {@link ProfileError}: a profile that does not exist or whose name is not allowed.
 *
 * @group Errors
 */
export const ERR_PROFILE = 'ERR_PROFILE';
/**
 * Code of a {@link StateError} for saved state that is not valid (not JSON, wrong fields); the file is left as it is.
 *
 * @group Errors
 */
export const ERR_STATE_CORRUPT = 'ERR_STATE_CORRUPT';
/**
 * Code of a {@link StateError} for saved state the SDK refuses to trust, such as a symbolic link in place of a session file.
 *
 * @group Errors
 */
export const ERR_STATE_UNSAFE = 'ERR_STATE_UNSAFE';
/**
 * Code of a {@link StateError} for storage that failed to read or write.
 *
 * @group Errors
 */
export const ERR_STORAGE = 'ERR_STORAGE';
/**
 * Code of a {@link LoginRequiredError}: no usable session, log in first.
 *
 * @group Errors
 */
export const ERR_NOT_LOGGED_IN = 'ERR_NOT_LOGGED_IN';
/**
 * Code of a {@link LoginTimeoutError}: a browser login that did not come back in time.
 *
 * @group Errors
 */
export const ERR_LOGIN_TIMEOUT = 'ERR_LOGIN_TIMEOUT';
/**
 * Code of an {@link AccessDeniedError}: the user or the server refused the login.
 *
 * @group Errors
 */
export const ERR_ACCESS_DENIED = 'ERR_ACCESS_DENIED';
/**
 * Code of a {@link DeviceCodeExpiredError}: the device code expired before the user logged in.
 *
 * @group Errors
 */
export const ERR_DEVICE_CODE_EXPIRED = 'ERR_DEVICE_CODE_EXPIRED';
/**
 * Code of a {@link CallbackError}: a redirect back to the application that cannot be accepted.
 *
 * @group Errors
 */
export const ERR_CALLBACK = 'ERR_CALLBACK';
/**
 * Code of an {@link AbortedError}: the caller's `AbortSignal` stopped the operation.
 *
 * @group Errors
 */
export const ERR_ABORTED = 'ERR_ABORTED';
/**
 * Code of a {@link TokenRequestError} for an OAuth error from the token endpoint, such as `invalid_grant`.
 *
 * @group Errors
 */
export const ERR_TOKEN_REQUEST = 'ERR_TOKEN_REQUEST';
/**
 * Code of a {@link TokenRequestError} for a status or answer from the authorization server that the SDK cannot use.
 *
 * @group Errors
 */
export const ERR_SERVER = 'ERR_SERVER';
/**
 * Code of a {@link NetworkError}: the authorization server could not be reached or did not answer in time.
 *
 * @group Errors
 */
export const ERR_NETWORK = 'ERR_NETWORK';
/**
 * Code of a {@link LockTimeoutError}: another process held the session's lock for too long.
 *
 * @group Errors
 */
export const ERR_LOCK_TIMEOUT = 'ERR_LOCK_TIMEOUT';

/**
 * Every `code` a {@link PlanetAuthError} can carry; compare with the `ERR_*` constants.
 *
 * | Code | Thrown as | What happened |
 * | --- | --- | --- |
 * | `ERR_CONFIG` | {@link ConfigError} | options or arguments that cannot work |
 * | `ERR_PROFILE` | {@link ProfileError} | a profile that does not exist or whose name is not allowed |
 * | `ERR_STATE_CORRUPT` | {@link StateError} | saved state that is not valid; it is left as it is |
 * | `ERR_STATE_UNSAFE` | {@link StateError} | saved state the SDK refuses to trust, such as a symbolic link |
 * | `ERR_STORAGE` | {@link StateError} | storage (files, the OS keychain, application storage) that failed to read or write |
 * | `ERR_NOT_LOGGED_IN` | {@link LoginRequiredError} | no usable session: log in first |
 * | `ERR_LOGIN_TIMEOUT` | {@link LoginTimeoutError} | a browser login that did not come back in time |
 * | `ERR_ACCESS_DENIED` | {@link AccessDeniedError} | the user or the server refused the login |
 * | `ERR_DEVICE_CODE_EXPIRED` | {@link DeviceCodeExpiredError} | the device code expired before the user logged in |
 * | `ERR_CALLBACK` | {@link CallbackError} | a redirect back to the application that cannot be accepted |
 * | `ERR_ABORTED` | {@link AbortedError} | the caller's `AbortSignal` stopped the operation |
 * | `ERR_TOKEN_REQUEST` | {@link TokenRequestError} | an OAuth error from the token endpoint, such as `invalid_grant` |
 * | `ERR_SERVER` | {@link TokenRequestError} | a status or answer from the authorization server the SDK cannot use |
 * | `ERR_NETWORK` | {@link NetworkError} | the authorization server could not be reached or did not answer in time |
 * | `ERR_LOCK_TIMEOUT` | {@link LockTimeoutError} | another process held the session's lock for too long |
 * | `ERR_TURN_LOST` | {@link TurnLostError} | this process lost its turn as the session's writer and spent nothing |
 *
 * @group Errors
 */
export type PlanetAuthErrorCode =
  | typeof ERR_CONFIG
  | typeof ERR_PROFILE
  | typeof ERR_STATE_CORRUPT
  | typeof ERR_STATE_UNSAFE
  | typeof ERR_STORAGE
  | typeof ERR_NOT_LOGGED_IN
  | typeof ERR_LOGIN_TIMEOUT
  | typeof ERR_ACCESS_DENIED
  | typeof ERR_DEVICE_CODE_EXPIRED
  | typeof ERR_CALLBACK
  | typeof ERR_ABORTED
  | typeof ERR_TOKEN_REQUEST
  | typeof ERR_SERVER
  | typeof ERR_NETWORK
  | typeof ERR_LOCK_TIMEOUT
  | typeof ERR_TURN_LOST;

/**
 * The base class of every error the SDK throws. Check `code` (or use
 * `instanceof` with a subclass) to decide what to do; the message says what
 * happened and what to do next, and never holds a secret or a token.
 *
 * @group Errors
 */
export class PlanetAuthError extends Error {
  /** Stable identifier of the kind of failure, one of the `ERR_*` constants. */
  readonly code: PlanetAuthErrorCode;
  /** The HTTP status behind the error, when a server answered. */
  readonly status: number | undefined;
  /**
   * What to do about it: the advice given for this very failure, else the
   * general advice for its `code`. Never empty.
   */
  readonly hint: string;

  constructor(code: PlanetAuthErrorCode, message: string, options?: { cause?: unknown; status?: number; hint?: string }) {
    // The message alone says what to do: a hint given for this failure is part of it.
    super(options?.hint && !message.includes(options.hint) ? `${message}; ${options.hint}` : message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.status = options?.status;
    this.hint = options?.hint || DEFAULT_HINTS[code];
    if (options?.hint) givenHints.set(this, options.hint);
    this.name = new.target.name;
  }

  /**
   * Two lines, not the whole chain of causes: an uncaught error prints its
   * code, its message (which says what to do) and where it was thrown.
   */
  [Symbol.for('nodejs.util.inspect.custom')](): string {
    const frame = this.stack?.split('\n').find((line) => line.trimStart().startsWith('at '));
    return [`${this.name} [${this.code}]: ${this.message}`, ...(frame ? [`    ${frame.trim()}`] : [])].join('\n');
  }
}

/**
 * Options or arguments that cannot work, such as an empty client ID.
 *
 * @group Errors
 */
export class ConfigError extends PlanetAuthError {
  /** @param options `hint`: what to do, when the message alone does not say. */
  constructor(message: string, options?: { hint?: string; cause?: unknown }) {
    super(ERR_CONFIG, message, options);
  }
}

/**
 * A profile that does not exist or whose name is not allowed.
 *
 * @group Errors
 */
export class ProfileError extends PlanetAuthError {
  /** @param options `hint`: what to do, when the message alone does not say. */
  constructor(message: string, options?: { hint?: string; cause?: unknown }) {
    super(ERR_PROFILE, message, options);
  }
}

/**
 * Saved session state that cannot be read or trusted. The file is left as it
 * is; `location` names it.
 *
 * @group Errors
 */
export class StateError extends PlanetAuthError {
  /** @param location The file or storage key at fault. */
  constructor(
    code: typeof ERR_STATE_CORRUPT | typeof ERR_STATE_UNSAFE | typeof ERR_STORAGE,
    readonly location: string,
    message: string,
    options?: { cause?: unknown; hint?: string },
  ) {
    super(code, message, options);
  }
}

/**
 * No usable session: the user (or program) must log in. `reason` says why and
 * `hint` how; a caller such as the CLI may give its own hint for the same reason.
 *
 * @group Errors
 */
export class LoginRequiredError extends PlanetAuthError {
  /** What to do about it: log in, and how. */
  declare readonly hint: string;

  /**
   * @param reason Why there is no usable session, such as `no session saved for profile "x"`.
   * @param hint What to do about it, such as which login call to make.
   */
  constructor(
    readonly reason: string,
    hint: string,
    options?: { cause?: unknown },
  ) {
    super(ERR_NOT_LOGGED_IN, `${reason}: ${hint}`, { ...options, hint });
  }
}

/**
 * A browser login whose redirect did not come back in time; start the login again.
 *
 * @group Errors
 */
export class LoginTimeoutError extends PlanetAuthError {
  constructor(message: string) {
    super(ERR_LOGIN_TIMEOUT, message);
  }
}

/**
 * The user or the authorization server refused the login.
 *
 * @group Errors
 */
export class AccessDeniedError extends PlanetAuthError {
  constructor(message: string) {
    super(ERR_ACCESS_DENIED, message);
  }
}

/**
 * The device code expired before the user finished logging in; start a new device login.
 *
 * @group Errors
 */
export class DeviceCodeExpiredError extends PlanetAuthError {
  constructor(message: string) {
    super(ERR_DEVICE_CODE_EXPIRED, message);
  }
}

/**
 * A redirect back to the application that cannot be accepted.
 *
 * @group Errors
 */
export class CallbackError extends PlanetAuthError {
  constructor(message: string) {
    super(ERR_CALLBACK, message);
  }
}

/**
 * The caller's `AbortSignal` stopped a login or a token request.
 *
 * @group Errors
 */
export class AbortedError extends PlanetAuthError {
  constructor(message: string) {
    super(ERR_ABORTED, message);
  }
}

/**
 * The authorization server answered with an OAuth error (`oauthError`, such
 * as `invalid_grant`) or a status the SDK cannot use.
 *
 * @group Errors
 */
export class TokenRequestError extends PlanetAuthError {
  /**
   * @param status HTTP status of the server's answer, when there was one.
   * @param oauthError The OAuth `error` field of the answer, such as `invalid_grant`, when there was one.
   */
  constructor(
    code: typeof ERR_TOKEN_REQUEST | typeof ERR_SERVER,
    message: string,
    status: number | undefined,
    readonly oauthError: string | undefined,
    options?: { cause?: unknown; hint?: string },
  ) {
    super(code, message, { ...options, ...(status !== undefined ? { status } : {}) });
  }
}

/**
 * The authorization server could not be reached, or did not answer in time.
 *
 * @group Errors
 */
export class NetworkError extends PlanetAuthError {
  constructor(message: string, options?: { cause?: unknown; hint?: string }) {
    super(ERR_NETWORK, message, options);
  }
}

/**
 * Another process held the session's lock for longer than the SDK waits. If no
 * other process uses the profile, remove the lock folder the message names.
 *
 * @group Errors
 */
export class LockTimeoutError extends PlanetAuthError {
  constructor(message: string) {
    super(ERR_LOCK_TIMEOUT, message);
  }
}

/**
 * Code of a {@link TurnLostError}: this process lost its turn as the session's writer.
 *
 * @group Errors
 */
export const ERR_TURN_LOST = 'ERR_TURN_LOST';

/**
 * This process lost its turn as the session's writer (its lock or lease was
 * taken over, say after a long pause); it gave the turn up without spending
 * a refresh token or writing. Calling again takes a new turn.
 *
 * @group Errors
 */
export class TurnLostError extends PlanetAuthError {
  constructor(message: string) {
    super(ERR_TURN_LOST, message);
  }
}

/** The general advice for each code, for errors raised without advice of their own. */
const DEFAULT_HINTS: Record<PlanetAuthErrorCode, string> = {
  ERR_CONFIG: 'correct the option or environment variable the message names',
  ERR_PROFILE: 'check the profile name, or log in to create the profile',
  ERR_STATE_CORRUPT: 'move the file the message names out of the way (it was left as it is), then log in again',
  ERR_STATE_UNSAFE: 'replace what the message names with a regular file or folder of your own, or remove it, then log in again',
  ERR_STORAGE: 'check that the storage can be read and written, then try again',
  ERR_NOT_LOGGED_IN: 'log in',
  ERR_LOGIN_TIMEOUT: 'start the login again and finish it in the browser in time',
  ERR_ACCESS_DENIED: 'log in again and allow access',
  ERR_DEVICE_CODE_EXPIRED: 'start the device login again and finish it before the code expires',
  ERR_CALLBACK: 'start the login again',
  ERR_ABORTED: 'nothing to fix: the caller stopped the operation',
  ERR_TOKEN_REQUEST: 'check the issuer URL and the client settings, or log in again',
  ERR_SERVER: 'try again later',
  ERR_NETWORK: 'check the network and the issuer URL, then try again',
  ERR_LOCK_TIMEOUT: 'try again; if no other process uses the profile, remove the lock folder the message names',
  ERR_TURN_LOST: 'call again: the next call takes a new turn',
};

const givenHints = new WeakMap<PlanetAuthError, string>();

/**
 * The advice given for this very failure, not the general one for its code; undefined when none was given.
 * @group Errors
 */
export function specificHint(error: PlanetAuthError): string | undefined {
  return givenHints.get(error);
}
