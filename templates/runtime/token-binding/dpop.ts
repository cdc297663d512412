// DPoP (RFC 9449), the token binding of a flow with `tokenBinding: dpop`:
// the session holds an ES256 key pair, made at its login and kept with its
// tokens (field `dpop_key` of the token file: the private JWK as JSON text,
// a secret like the refresh token), so the tokens the server binds to the
// key are worthless without it. Token requests carry proofs through
// openid-client; calls to the API carry proofs made here, with the nonces
// the API hands out.
import type { webcrypto } from 'node:crypto';
import type * as OidcClient from 'openid-client';
import { ConfigError, ERR_STATE_CORRUPT, ERR_TOKEN_REQUEST, LoginRequiredError, StateError, TokenRequestError } from '../errors.js';
import { printable } from '../http.js';
import type { SessionLog } from '../log.js';
import type { FlowDescriptor } from '../settings.js';
import { holdsString, type TokenFile } from '../token.js';
import type { BoundSession, RefreshBinding, TokenBinding } from './types.js';

/** The name this module has in the registry (`TOKEN_BINDINGS`) and in a flow's `tokenBinding`. */
const NAME = 'dpop';

/** The proof's signature algorithm: ECDSA P-256 with SHA-256. */
const ALGORITHM = 'ES256';

/** Whether `text` is a DPoP key as the SDK saves it: a P-256 private key as JSON text (JWK). */
export function isDpopKeyText(text: string): boolean {
  let jwk: Record<string, unknown>;
  try {
    jwk = JSON.parse(text) as Record<string, unknown>;
  } catch {
    return false;
  }
  return jwk !== null && jwk['kty'] === 'EC' && jwk['crv'] === 'P-256' && ['x', 'y', 'd'].every((f) => typeof jwk[f] === 'string' && /^[A-Za-z0-9_-]{43}$/.test(jwk[f]));
}

/** The token file field holding the session's private key, as JSON text. */
export const DPOP_KEY_FIELD = 'dpop_key';

// The global Web Crypto, so that a process that only reads a saved token loads no crypto module.
const subtle = (): webcrypto.SubtleCrypto => globalThis.crypto.subtle;
type CryptoKeyPair = webcrypto.CryptoKeyPair;
const CURVE = { name: 'ECDSA', namedCurve: 'P-256' } as const;
const b64u = (bytes: ArrayBuffer | Uint8Array | string): string => Buffer.from(typeof bytes === 'string' ? Buffer.from(bytes, 'utf8') : bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes)).toString('base64url');

interface PublicJwk {
  readonly kty: 'EC';
  readonly crv: 'P-256';
  readonly x: string;
  readonly y: string;
}

/**
 * One session's DPoP key pair. Its private half is never shown: not by
 * `util.inspect`, not by `JSON.stringify`, only by {@link DpopKey.saved} for
 * the session's storage.
 */
export class DpopKey {
  readonly binding = NAME;
  readonly pair: CryptoKeyPair;
  /** The JWK thumbprint (RFC 7638) of the public key: the `cnf.jkt` of the tokens bound to it. */
  readonly thumbprint: string;
  readonly #jwk: PublicJwk;
  readonly #saved: string;

  private constructor(pair: CryptoKeyPair, jwk: PublicJwk, thumbprint: string, saved: string) {
    this.pair = pair;
    this.#jwk = jwk;
    this.thumbprint = thumbprint;
    this.#saved = saved;
  }

  /** A new key pair, for a login. */
  static async generate(): Promise<DpopKey> {
    const made = await subtle().generateKey(CURVE, true, ['sign', 'verify']);
    const { kty, crv, x, y, d } = await subtle().exportKey('jwk', made.privateKey);
    return DpopKey.load(JSON.stringify({ kty, crv, x, y, d }), 'a new key');
  }

  /** The key saved as `text` (the private JWK); `location` names where it was read, for the error. */
  static async load(text: string, location: string): Promise<DpopKey> {
    if (!isDpopKeyText(text)) {
      throw new StateError(ERR_STATE_CORRUPT, location, `field "${DPOP_KEY_FIELD}" in ${location} is not a P-256 private key in JWK form; the file was left as it is. Log in again to make a new key`);
    }
    const jwk = JSON.parse(text) as Record<string, string>;
    const pub: PublicJwk = { kty: 'EC', crv: 'P-256', x: jwk['x'] as string, y: jwk['y'] as string };
    try {
      const privateKey = await subtle().importKey('jwk', { ...pub, d: jwk['d'] }, CURVE, false, ['sign']);
      const publicKey = await subtle().importKey('jwk', pub, CURVE, true, ['verify']);
      const thumbprint = b64u(await subtle().digest('SHA-256', Buffer.from(JSON.stringify({ crv: pub.crv, kty: pub.kty, x: pub.x, y: pub.y }))));
      return new DpopKey({ privateKey, publicKey }, pub, thumbprint, text);
    } catch {
      throw new StateError(ERR_STATE_CORRUPT, location, `field "${DPOP_KEY_FIELD}" in ${location} holds a key that does not load; the file was left as it is. Log in again to make a new key`);
    }
  }

  /** The private key as JSON text, for the session's storage only. */
  get saved(): string {
    return this.#saved;
  }

  /** A proof (RFC 9449, section 4.2) for a `method` request to `url`, bound to `accessToken` when given. */
  async proof(method: string, url: URL, accessToken: string | undefined, nonce: string | undefined): Promise<string> {
    const header = { typ: 'dpop+jwt', alg: ALGORITHM, jwk: this.#jwk };
    const payload = {
      jti: b64u(globalThis.crypto.getRandomValues(new Uint8Array(16))),
      htm: method.toUpperCase(),
      htu: `${url.origin}${url.pathname}`,
      iat: Math.floor(Date.now() / 1000),
      ...(accessToken !== undefined ? { ath: b64u(await subtle().digest('SHA-256', Buffer.from(accessToken, 'ascii'))) } : {}),
      ...(nonce !== undefined ? { nonce } : {}),
    };
    const input = `${b64u(JSON.stringify(header))}.${b64u(JSON.stringify(payload))}`;
    const signature = await subtle().sign({ name: 'ECDSA', hash: 'SHA-256' }, this.pair.privateKey, Buffer.from(input, 'ascii'));
    return `${input}.${b64u(signature)}`;
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return `DpopKey { thumbprint: ${JSON.stringify(this.thumbprint)} }`;
  }

  toJSON(): Record<string, string> {
    return { thumbprint: this.thumbprint };
  }
}

/** Whether `file` carries a DPoP key, in hand or in the keychain, without reading it. */
export function holdsDpopKey(file: TokenFile | undefined): boolean {
  return holdsString(file, DPOP_KEY_FIELD);
}

/** The nonce a `WWW-Authenticate: DPoP error="use_dpop_nonce"` answer asks for, with its `DPoP-Nonce`. */
function askedNonce(response: Response): string | undefined {
  const challenge = response.headers.get('www-authenticate') ?? '';
  const nonce = response.headers.get('dpop-nonce');
  return response.status === 401 && /(^|,)\s*dpop\b[^,]*error="?use_dpop_nonce/i.test(challenge) && nonce ? nonce : undefined;
}

/** Whether a token response says its tokens are DPoP-bound (`token_type` "DPoP", in any case). */
function isDpopBound(response: Record<string, unknown>): boolean {
  return typeof response['token_type'] === 'string' && response['token_type'].toLowerCase() === 'dpop';
}

/** A token response's `token_type`, quoted for a message. */
function tokenType(response: Record<string, unknown>): string {
  return JSON.stringify(printable(typeof response['token_type'] === 'string' ? response['token_type'] : '(none)', 40));
}

function withKey(response: Record<string, unknown>, key: DpopKey): Record<string, unknown> {
  response[DPOP_KEY_FIELD] = key.saved;
  return response;
}

/**
 * One session's DPoP: `DPoP` with a fresh proof per request for tokens bound
 * to a key (and `Bearer` for a bearer flow's saved session that is not).
 * Keeps the session's keys (loaded once), openid-client's DPoP handle per
 * key (which keeps the token endpoint's nonce), and the API's nonce per origin.
 */
class DpopSession implements BoundSession {
  readonly #flow: FlowDescriptor;
  readonly #profile: string;
  readonly #log: SessionLog;
  readonly #keys = new Map<string, Promise<DpopKey>>();
  readonly #handles = new WeakMap<DpopKey, OidcClient.DPoPHandle>();
  readonly #nonces = new Map<string, string>();

  constructor(flow: FlowDescriptor, profile: string, log: SessionLog) {
    this.#flow = flow;
    this.#profile = profile;
    this.#log = log;
  }

  /** Whether this session's logins ask for DPoP-bound tokens. */
  get enabled(): boolean {
    return this.#flow.tokenBinding === NAME;
  }

  /** A new key for a login of a DPoP flow; undefined for a bearer flow. */
  async forLogin(): Promise<DpopKey | undefined> {
    if (!this.enabled) return undefined;
    const key = await DpopKey.generate();
    this.#remember(key);
    return key;
  }

  #remember(key: DpopKey): void {
    this.#log.secret(key.saved);
    this.#log.secret((JSON.parse(key.saved) as { d: string }).d);
    if (this.#keys.size >= 4) this.#keys.clear();
    this.#keys.set(key.saved, Promise.resolve(key));
  }

  /**
   * The key `file`'s tokens are bound to; undefined for bearer tokens. A DPoP
   * flow refuses saved tokens without a key: they are not this flow's.
   */
  async keyOf(file: TokenFile | undefined, location: string): Promise<DpopKey | undefined> {
    if (file === undefined || !holdsDpopKey(file)) {
      if (!this.enabled) return undefined;
      const what = file === undefined ? `profile "${this.#profile}" holds no tokens` : `the saved session of profile "${this.#profile}" is not bound to a DPoP key`;
      throw new LoginRequiredError(`${what}, and flow ${this.#flow.id} uses DPoP`, 'log in again with this flow');
    }
    const text = file[DPOP_KEY_FIELD];
    if (typeof text !== 'string') return DpopKey.load('', location);
    let loading = this.#keys.get(text);
    if (!loading) {
      this.#log.secret(text);
      loading = DpopKey.load(text, location);
      loading.then((key) => this.#remember(key)).catch(() => this.#keys.delete(text));
      this.#keys.set(text, loading);
    }
    return loading;
  }

  /** openid-client's options for a token request with `key`: its DPoP handle, which keeps the token endpoint's nonce. */
  requestOptions(oidc: typeof OidcClient, config: OidcClient.Configuration, key: DpopKey | undefined): { DPoP?: OidcClient.DPoPHandle } {
    if (!(key instanceof DpopKey)) return {};
    let handle = this.#handles.get(key);
    if (!handle) {
      handle = oidc.getDPoPHandle(config, key.pair);
      this.#handles.set(key, handle);
    }
    return { DPoP: handle };
  }

  /**
   * Checks the token binding of a login's token response to a request made
   * with `key` and keeps the key with it; a bearer answer to a DPoP request
   * is refused (RFC 9449, section 5), so nothing is saved.
   */
  bind(response: Record<string, unknown>, key: DpopKey | undefined, step: string): Record<string, unknown> {
    if (!(key instanceof DpopKey)) return response;
    if (isDpopBound(response)) return withKey(response, key);
    throw this.#unbound(response, `${step} failed: the server answered with token_type ${tokenType(response)}, not "DPoP", so its tokens are not bound to this session's key; nothing was saved`, {
      hint: `enable DPoP (RFC 9449) for this client at the authorization server, or log in with a flow other than ${this.#flow.id}, which asks for DPoP`,
    });
  }

  /**
   * Checks the token binding of a refresh answer to a request made with
   * `key`, which spent the refresh token `spent`. A bound answer keeps the
   * key. An unbound (`Bearer`) answer is refused: its access token is never
   * used nor saved, since a DPoP session that quietly went on with bearer
   * tokens would lose the protection it was made for (RFC 9449, section 5).
   * But a server that answers has usually rotated the refresh token
   * already, and spending the old one again would make such a server
   * revoke the grant; so a new refresh token in the answer is handed back
   * as `replacement`, for the session to keep in place of the spent one.
   */
  bindRefresh(response: Record<string, unknown>, key: DpopKey | undefined, step: string, spent: string): RefreshBinding {
    if (!(key instanceof DpopKey)) return { response };
    if (isDpopBound(response)) return { response: withKey(response, key) };
    const issued = response['refresh_token'];
    const replacement = typeof issued === 'string' && issued !== '' && issued !== spent ? issued : undefined;
    if (replacement !== undefined) this.#log.secret(replacement);
    const kept = replacement !== undefined ? 'the new refresh token it issued was kept in place of the spent one, so the session goes on' : 'the refresh token was not replaced and is kept, so the session goes on';
    const refused = this.#unbound(response, `${step} failed: the server answered with token_type ${tokenType(response)}, not "DPoP", so its access token is not bound to this session's key and was not used; ${kept}`, {
      hint: "check the DPoP configuration of this client at the authorization server (it must bind the tokens it issues to the key of the request's DPoP proof, RFC 9449) and that no proxy drops the DPoP header; the next refresh tries again with the kept refresh token",
    });
    return { refused, replacement };
  }

  #unbound(response: Record<string, unknown>, message: string, options: { hint: string }): TokenRequestError {
    // The unbound token is never used, and never shown either.
    const access = response['access_token'];
    if (typeof access === 'string' && access !== '') this.#log.secret(access);
    return new TokenRequestError(ERR_TOKEN_REQUEST, message, undefined, undefined, options);
  }

  /**
   * The headers that present `token` on a `method` request to `url`:
   * `Authorization: Bearer`, or `Authorization: DPoP` and a `DPoP` proof
   * (with the API's last nonce for that origin) when `file` is DPoP-bound.
   */
  headers(file: TokenFile | undefined, location: string, token: string, method: string | undefined, url: string | URL | undefined): Promise<Record<string, string>> {
    // A bearer session's calls stay on the hot path: no key to look up, nothing to await.
    if (!this.enabled && !holdsDpopKey(file)) return Promise.resolve({ authorization: `Bearer ${token}` });
    return this.#proofHeaders(file, location, token, method, url);
  }

  async #proofHeaders(file: TokenFile | undefined, location: string, token: string, method: string | undefined, url: string | URL | undefined): Promise<Record<string, string>> {
    const key = await this.keyOf(file, location);
    if (key === undefined) return { authorization: `Bearer ${token}` };
    if (method === undefined || url === undefined) {
      throw new ConfigError(
        `profile "${this.#profile}" presents its tokens with DPoP, whose proof names the request: call getRequestHeaders(method, url), such as getRequestHeaders('GET', 'https://api.example.com/data/v1/searches')`,
      );
    }
    let target: URL;
    try {
      target = new URL(url);
    } catch {
      throw new ConfigError(`getRequestHeaders(method, url): url ${JSON.stringify(printable(String(url), 200))} is not an absolute URL; pass the full URL of the request`);
    }
    return { authorization: `DPoP ${token}`, dpop: await key.proof(method, target, token, this.#nonces.get(target.origin)) };
  }

  /**
   * Notes the API's answer to a request to `url`: keeps its `DPoP-Nonce`,
   * and says whether it asked for one (`use_dpop_nonce`), in which case the
   * request may be sent once more with a new proof.
   */
  answered(response: Response, url: URL): boolean {
    const asked = askedNonce(response);
    const given = asked ?? response.headers.get('dpop-nonce') ?? undefined;
    if (given !== undefined && given.length <= 1024) this.#nonces.set(url.origin, given);
    return asked !== undefined && asked.length <= 1024;
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return `DpopSession { enabled: ${this.enabled} }`;
  }
}

export const dpop: TokenBinding = {
  see: 'https://www.rfc-editor.org/rfc/rfc9449 DPoP (RFC 9449)',
  grants: ['authorization_code', 'device_code', 'client_credentials'],
  savedFields: [DPOP_KEY_FIELD],
  holds: holdsDpopKey,
  check: (file, location) => {
    // In hand only: a key in the keychain is read when used, and checked then.
    const found = Object.getOwnPropertyDescriptor(file, DPOP_KEY_FIELD);
    const text: unknown = found === undefined || found.get !== undefined ? undefined : found.value;
    if (text === undefined) return;
    if (typeof text !== 'string' || !isDpopKeyText(text)) {
      throw new StateError(ERR_STATE_CORRUPT, location, `field "${DPOP_KEY_FIELD}" in ${location} is not a P-256 private key in JWK form; the file was left as it is. Log in again to make a new key`);
    }
  },
  listing: {
    label: 'DPoP-bound',
    docs: `Its tokens are bound to a key the session holds (DPoP, RFC 9449, proofs signed with ${ALGORITHM}; see "DPoP: tokens bound to a key" below)`,
    pythonCli: "Planet's Python CLI cannot use a DPoP session: it sends bearer tokens only, and the server refuses a DPoP-bound token without its proof",
  },
  session: (flow, profile, log) => new DpopSession(flow, profile, log),
};
