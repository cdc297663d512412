// The saved token, in the CLI's `token.json` format: the token response plus
// `_iat` and `_exp` in epoch seconds.
import { ERR_STATE_CORRUPT, StateError } from './errors.js';

export interface TokenFile {
  readonly access_token?: string;
  readonly refresh_token?: string;
  readonly id_token?: string;
  readonly token_type?: string;
  readonly scope?: string;
  readonly expires_in?: number;
  readonly _iat?: number;
  readonly _exp?: number;
  readonly [extra: string]: unknown;
}

/** What the hot path reads: the access token and when to refresh it, in epoch milliseconds. */
export interface LiveToken {
  readonly accessToken: string;
  readonly refreshAtMs: number;
  readonly expiresAtMs: number;
  readonly file: TokenFile;
}

/** Refresh when this share of the access token's lifetime has passed, as the CLI does. */
export const REFRESH_AT_LIFETIME_SHARE = 0.75;

const STRING_FIELDS = ['access_token', 'refresh_token', 'id_token', 'token_type', 'scope'] as const;
const NUMBER_FIELDS = ['expires_in', '_iat', '_exp'] as const;

export function parseTokenFile(location: string, data: Record<string, unknown>): TokenFile {
  for (const field of STRING_FIELDS) {
    if (data[field] !== undefined && typeof data[field] !== 'string') {
      throw new StateError(ERR_STATE_CORRUPT, location, `field "${field}" in ${location} must be a string; the file was left as it is. Fix it or log in again`);
    }
  }
  for (const field of NUMBER_FIELDS) {
    if (data[field] !== undefined && (typeof data[field] !== 'number' || !Number.isFinite(data[field]))) {
      throw new StateError(ERR_STATE_CORRUPT, location, `field "${field}" in ${location} must be a number; the file was left as it is. Fix it or log in again`);
    }
  }
  if (data['access_token'] === undefined && data['refresh_token'] === undefined) {
    throw new StateError(ERR_STATE_CORRUPT, location, `${location} holds neither "access_token" nor "refresh_token"; the file was left as it is. Log in again`);
  }
  return data as TokenFile;
}

/** Reads `iat` and `exp` from a JWT access token without verifying it (only to schedule refreshes). */
function jwtTimes(token: string): { iat?: number; exp?: number } {
  const parts = token.split('.');
  if (parts.length !== 3 || !parts[1]) return {};
  try {
    const claims = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8')) as { iat?: unknown; exp?: unknown };
    return {
      iat: typeof claims.iat === 'number' ? claims.iat : undefined,
      exp: typeof claims.exp === 'number' ? claims.exp : undefined,
    };
  } catch {
    return {};
  }
}

/** A token endpoint response as it is saved, with `_iat`/`_exp` from the JWT when it has them. */
export function tokenFileFromResponse(response: Record<string, unknown>, previous: TokenFile | undefined, nowMs = Date.now()): TokenFile {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(response)) {
    if (value !== undefined && value !== null && typeof value !== 'function') out[key] = value;
  }
  // A refresh response may leave the refresh token out, meaning the old one stays valid.
  if (out['refresh_token'] === undefined && previous?.refresh_token !== undefined) out['refresh_token'] = previous.refresh_token;
  const access = typeof out['access_token'] === 'string' ? (out['access_token'] as string) : '';
  const times = jwtTimes(access);
  const now = Math.floor(nowMs / 1000);
  const iat = times.iat ?? now;
  const expiresIn = typeof out['expires_in'] === 'number' ? (out['expires_in'] as number) : undefined;
  const exp = times.exp ?? (expiresIn !== undefined ? now + expiresIn : undefined);
  out['_iat'] = iat;
  if (exp !== undefined) out['_exp'] = exp;
  return out as TokenFile;
}

/** The hot-path view of a token file, or undefined when it holds no access token. */
export function liveToken(file: TokenFile): LiveToken | undefined {
  if (typeof file.access_token !== 'string' || file.access_token === '') return undefined;
  const iat = file._iat ?? 0;
  // Without an expiry the token is treated as expired, so it is refreshed before use.
  const exp = file._exp ?? iat;
  const refreshAt = iat + (exp - iat) * REFRESH_AT_LIFETIME_SHARE;
  return { accessToken: file.access_token, refreshAtMs: refreshAt * 1000, expiresAtMs: exp * 1000, file };
}
