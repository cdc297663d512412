// Typed errors. Each has a stable `code`; each message says what happened,
// which profile or file, and what to do next. No message ever holds a secret
// or a token.

export const ERR_CONFIG = 'ERR_CONFIG';
export const ERR_PROFILE = 'ERR_PROFILE';
export const ERR_STATE_CORRUPT = 'ERR_STATE_CORRUPT';
export const ERR_STATE_UNSAFE = 'ERR_STATE_UNSAFE';
export const ERR_STORAGE = 'ERR_STORAGE';
export const ERR_NOT_LOGGED_IN = 'ERR_NOT_LOGGED_IN';
export const ERR_LOGIN_TIMEOUT = 'ERR_LOGIN_TIMEOUT';
export const ERR_ACCESS_DENIED = 'ERR_ACCESS_DENIED';
export const ERR_DEVICE_CODE_EXPIRED = 'ERR_DEVICE_CODE_EXPIRED';
export const ERR_CALLBACK = 'ERR_CALLBACK';
export const ERR_ABORTED = 'ERR_ABORTED';
export const ERR_TOKEN_REQUEST = 'ERR_TOKEN_REQUEST';
export const ERR_SERVER = 'ERR_SERVER';
export const ERR_NETWORK = 'ERR_NETWORK';
export const ERR_LOCK_TIMEOUT = 'ERR_LOCK_TIMEOUT';

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

export class PlanetAuthError extends Error {
  readonly code: PlanetAuthErrorCode;
  /** The HTTP status behind the error, when a server answered. */
  readonly status: number | undefined;
  /** What to do about it, when the message alone does not say. */
  readonly hint: string | undefined;

  constructor(code: PlanetAuthErrorCode, message: string, options?: { cause?: unknown; status?: number; hint?: string }) {
    // The message alone says what to do: the hint is part of it.
    super(options?.hint && !message.includes(options.hint) ? `${message}; ${options.hint}` : message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.status = options?.status;
    this.hint = options?.hint;
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

/** Options or arguments that cannot work, such as an empty client ID. */
export class ConfigError extends PlanetAuthError {
  constructor(message: string) {
    super(ERR_CONFIG, message);
  }
}

/** A profile that does not exist or whose name is not allowed. */
export class ProfileError extends PlanetAuthError {
  constructor(message: string) {
    super(ERR_PROFILE, message);
  }
}

/**
 * Saved session state that cannot be read or trusted. The file is left as it
 * is; `location` names it.
 */
export class StateError extends PlanetAuthError {
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
 */
export class LoginRequiredError extends PlanetAuthError {
  declare readonly hint: string;

  constructor(
    readonly reason: string,
    hint: string,
    options?: { cause?: unknown },
  ) {
    super(ERR_NOT_LOGGED_IN, `${reason}: ${hint}`, { ...options, hint });
  }
}

export class LoginTimeoutError extends PlanetAuthError {
  constructor(message: string) {
    super(ERR_LOGIN_TIMEOUT, message);
  }
}

/** The user or the authorization server refused the login. */
export class AccessDeniedError extends PlanetAuthError {
  constructor(message: string) {
    super(ERR_ACCESS_DENIED, message);
  }
}

export class DeviceCodeExpiredError extends PlanetAuthError {
  constructor(message: string) {
    super(ERR_DEVICE_CODE_EXPIRED, message);
  }
}

/** A redirect back to the application that cannot be accepted. */
export class CallbackError extends PlanetAuthError {
  constructor(message: string) {
    super(ERR_CALLBACK, message);
  }
}

export class AbortedError extends PlanetAuthError {
  constructor(message: string) {
    super(ERR_ABORTED, message);
  }
}

/**
 * The authorization server answered with an OAuth error (`oauthError`, such
 * as `invalid_grant`) or a status the SDK cannot use.
 */
export class TokenRequestError extends PlanetAuthError {
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

/** The authorization server could not be reached, or did not answer in time. */
export class NetworkError extends PlanetAuthError {
  constructor(message: string, options?: { cause?: unknown; hint?: string }) {
    super(ERR_NETWORK, message, options);
  }
}

export class LockTimeoutError extends PlanetAuthError {
  constructor(message: string) {
    super(ERR_LOCK_TIMEOUT, message);
  }
}

export const ERR_TURN_LOST = 'ERR_TURN_LOST';

/**
 * This process lost its turn as the session's writer (its lock or lease was
 * taken over, say after a long pause); it gave the turn up without spending
 * a refresh token or writing. Calling again takes a new turn.
 */
export class TurnLostError extends PlanetAuthError {
  constructor(message: string) {
    super(ERR_TURN_LOST, message);
  }
}
