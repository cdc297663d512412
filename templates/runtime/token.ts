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

/** Refresh when this share of the access token's lifetime has passed, as the CLI does. */
export const REFRESH_AT_LIFETIME_SHARE = 0.75;

/**
 * The value of `field` in `data` when it is in hand; undefined for a secret
 * read from the keychain only when used (see secret-store.ts), so checking a
 * file never reads one.
 */
export function valueInHand(data: object, field: string): unknown {
  const found = Object.getOwnPropertyDescriptor(data, field);
  return found === undefined || found.get !== undefined ? undefined : found.value;
}

/** Whether `data` holds a string `field`, in hand or in the keychain, without reading it. */
export function holdsString(data: object | undefined, field: string): boolean {
  const found = data === undefined ? undefined : Object.getOwnPropertyDescriptor(data, field);
  return found !== undefined && (found.get !== undefined || typeof found.value === 'string');
}

const STRING_FIELDS = ['access_token', 'refresh_token', 'id_token', 'token_type', 'scope'] as const;
const NUMBER_FIELDS = ['expires_in', '_iat', '_exp'] as const;

export function parseTokenFile(location: string, data: Record<string, unknown>): TokenFile {
  for (const field of STRING_FIELDS) {
    const value = valueInHand(data, field);
    if (value !== undefined && typeof value !== 'string') {
      throw new StateError(ERR_STATE_CORRUPT, location, `field "${field}" in ${location} must be a string; the file was left as it is. Fix it or log in again`);
    }
  }
  for (const field of NUMBER_FIELDS) {
    if (data[field] !== undefined && (typeof data[field] !== 'number' || !Number.isFinite(data[field]))) {
      throw new StateError(ERR_STATE_CORRUPT, location, `field "${field}" in ${location} must be a number; the file was left as it is. Fix it or log in again`);
    }
  }
  if (data['access_token'] === undefined && !holdsString(data, 'refresh_token')) {
    throw new StateError(ERR_STATE_CORRUPT, location, `${location} holds neither "access_token" nor "refresh_token"; the file was left as it is. Log in again`);
  }
  return data;
}

/** Reads `iat` and `exp` from a JWT access token without verifying it (only to learn its lifetime). */
function jwtTimes(token: string): { iat?: number; exp?: number } {
  const parts = token.split('.');
  if (parts.length !== 3 || !parts[1] || parts[1].length > 16_384) return {};
  try {
    const claims = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8')) as { iat?: unknown; exp?: unknown };
    return {
      iat: typeof claims.iat === 'number' && Number.isFinite(claims.iat) ? claims.iat : undefined,
      exp: typeof claims.exp === 'number' && Number.isFinite(claims.exp) ? claims.exp : undefined,
    };
  } catch {
    return {};
  }
}

/**
 * How long an access token lives, in seconds: `expires_in`, else the span
 * between the JWT's `iat` and `exp` (a difference, so the server's clock
 * need not agree with this machine's); undefined when nothing says.
 */
export function lifetimeSeconds(response: Record<string, unknown>, access: string): number | undefined {
  const expiresIn = response['expires_in'];
  if (typeof expiresIn === 'number' && Number.isFinite(expiresIn) && expiresIn > 0) return expiresIn;
  const { iat, exp } = jwtTimes(access);
  if (iat !== undefined && exp !== undefined && exp > iat) return exp - iat;
  return undefined;
}

/**
 * A token endpoint response as it is saved. `_iat` is when this machine
 * sent its request (`sentMs`) and `_exp` that plus the token's lifetime, both on this
 * machine's clock, so refresh timing never compares the server's clock with
 * this one. (The Python CLI reads the JWT's own claims when there are any,
 * and these fields otherwise, with the same meaning.)
 */
export function tokenFileFromResponse(response: Record<string, unknown>, previous: TokenFile | undefined, sentMs: number): TokenFile {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(response)) {
    if (value !== undefined && value !== null && typeof value !== 'function') out[key] = value;
  }
  if (typeof out['token_type'] === 'string' && out['token_type'].toLowerCase() === 'bearer') out['token_type'] = 'Bearer'; // as the Python CLI writes it
  if (typeof out['token_type'] === 'string' && out['token_type'].toLowerCase() === 'dpop') out['token_type'] = 'DPoP'; // as RFC 9449 spells it
  // A refresh response may leave the refresh token out, meaning the old one stays valid.
  if (out['refresh_token'] === undefined && previous?.refresh_token !== undefined) out['refresh_token'] = previous.refresh_token;
  const access = typeof out['access_token'] === 'string' ? out['access_token'] : '';
  const now = Math.floor(sentMs / 1000);
  const lifetime = lifetimeSeconds(out, access);
  out['_iat'] = now;
  if (lifetime !== undefined) out['_exp'] = now + lifetime;
  else delete out['_exp'];
  return out;
}
