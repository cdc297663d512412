// The SDK's log: every protocol step, for an application's logger or, with
// the debug environment variable set, for stderr. Tokens and secrets are
// replaced before a record leaves the SDK.
import type { Logger, LogRecord } from './hooks.js';

const REDACTED = '[redacted]';
/** Fields whose values are never logged, whatever they hold. */
const SECRET_FIELDS = /token|secret|code_verifier|password|assertion|^code$/i;

export interface SessionLog {
  debug(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  /** Adds a value that must never be logged (a token, a secret), and returns it. */
  secret<T extends string | undefined>(value: T): T;
  /** `text` with every known secret replaced. */
  redact(text: string): string;
}

function stderrLogger(record: LogRecord): void {
  const fields = record.fields && Object.keys(record.fields).length > 0 ? ` ${JSON.stringify(record.fields)}` : '';
  process.stderr.write(`[planet-auth] ${record.level}: ${record.message}${fields}\n`);
}

/** True when the debug environment variable asks for logging to stderr. */
function debugFromEnv(name: string | undefined): boolean {
  if (name === undefined) return false;
  const value = process.env[name];
  return value !== undefined && value !== '' && value !== '0' && value.toLowerCase() !== 'false';
}

/** A log for one session; `logger` wins over the environment's debug switch. */
export function sessionLog(logger: Logger | undefined, debugEnv: string | undefined, context: Record<string, unknown>): SessionLog {
  const sink = logger ?? (debugFromEnv(debugEnv) ? stderrLogger : undefined);
  const secrets = new Set<string>();
  const redact = (text: string): string => {
    let out = text;
    for (const secret of secrets) if (out.includes(secret)) out = out.split(secret).join(REDACTED);
    return out;
  };
  const clean = (value: unknown, depth = 0): unknown => {
    if (typeof value === 'string') return redact(value);
    if (depth > 4 || value === null || typeof value !== 'object') return value;
    if (Array.isArray(value)) return value.map((v) => clean(v, depth + 1));
    const out: Record<string, unknown> = {};
    for (const [key, v] of Object.entries(value)) out[key] = SECRET_FIELDS.test(key) ? REDACTED : clean(v, depth + 1);
    return out;
  };
  let loggerFailed = false;
  // A failing logger must not fail the session, nor crash the process with an unhandled rejection: said once, on stderr.
  const loggerFailure = (error: unknown) => {
    if (loggerFailed) return;
    loggerFailed = true;
    process.emitWarning(`the logger given to the SDK failed (${redact(error instanceof Error ? error.message : String(error))}); later failures are not reported`, 'PlanetAuthWarning');
  };
  const emit = (level: LogRecord['level'], message: string, fields?: Record<string, unknown>) => {
    if (!sink) return;
    try {
      const result: unknown = sink({ level, message: redact(message), fields: clean({ ...context, ...fields }) as Record<string, unknown> });
      if (isThenable(result)) Promise.resolve(result).catch(loggerFailure);
    } catch (error) {
      loggerFailure(error);
    }
  };
  return {
    debug: (message, fields) => emit('debug', message, fields),
    warn: (message, fields) => emit('warn', message, fields),
    secret: (value) => {
      if (value === undefined || value.length < 8) return value;
      secrets.delete(value);
      secrets.add(value);
      // Only recent tokens can still turn up; keep the set small (a value added again counts as recent).
      if (secrets.size > 32) secrets.delete(secrets.values().next().value!);
      return value;
    },
    redact,
  };
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return value !== null && (typeof value === 'object' || typeof value === 'function') && typeof (value as { then?: unknown }).then === 'function';
}

/**
 * What an application's callback returned, when it is a promise: its
 * rejection is logged as a warning instead of crashing the process as an
 * unhandled rejection.
 */
export function containAsync(result: unknown, log: SessionLog, what: string): void {
  if (isThenable(result)) Promise.resolve(result).catch((error: unknown) => log.warn(`${what} failed`, { error: error instanceof Error ? error.message : String(error) }));
}
