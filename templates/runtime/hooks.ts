// What an application can hand the SDK in code: its own fetch (for proxies,
// custom CAs or instrumentation) and a logger for every protocol step.

/**
 * A `fetch` with the signature of the global one; used for every request the SDK makes.
 *
 * @group Auth
 */
export type FetchFunction = (input: string | URL | Request, init?: RequestInit) => Promise<Response>;

/**
 * One protocol step, as the SDK logs it. Secrets and tokens never appear in `message` or `fields`.
 *
 * @group Events
 */
export interface LogRecord {
  /** How much it matters: `debug` for each protocol step, `warn` for what went wrong but was handled. */
  readonly level: 'debug' | 'info' | 'warn' | 'error';
  /** What happened, in a few words that stay the same from one run to the next. */
  readonly message: string;
  /** Details such as the URL path, the HTTP status or the profile, never a secret or a token. */
  readonly fields?: Readonly<Record<string, unknown>>;
}

/**
 * Receives the SDK's log records; the SDK logs nothing unless given one (or the debug environment variable is set).
 *
 * @group Events
 */
export type Logger = (record: LogRecord) => void;
