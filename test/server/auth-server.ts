// The embedded authorization server for tests, the demo and local
// development: panva's oidc-provider on 127.0.0.1, plus a demo API that
// accepts only valid bearer tokens. It counts every request by route and
// grant type, so tests can assert what the server saw.
import { generateKeyPair, exportJWK, exportPKCS8, createRemoteJWKSet, jwtVerify } from 'jose';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { checkDpopProof, type DpopCheck } from './dpop-check.js';
import Provider, { errors as providerErrors, type ClientMetadata, type Configuration, type KoaContextWithOIDC } from 'oidc-provider';

export const USER_CLIENT_ID = 'demo-user-app';
export const M2M_CLIENT_ID = 'demo-service-account';
export const M2M_BASIC_CLIENT_ID = 'demo-service-account-basic';
/** A service account that authenticates with private_key_jwt (RFC 7523); its key pair is made when the server starts. */
export const M2M_KEY_CLIENT_ID = 'demo-service-account-key';
export const M2M_KEY_ID = 'demo-service-account-key-1';
/** A test secret; never a real one. */
export const M2M_CLIENT_SECRET = 'demo-service-secret-4f1c7e2a9b';
export const API_SCOPE = 'planet';

/** Every token any embedded server in this process issued, so test output can be checked for leaks. */
const issuedTokens = new Set<string>();
/** Pieces of every service account private key made in this process (a JWK's "d", a PEM's first line of key data). */
const privateKeyMaterial = new Set<string>();

export function issuedSecrets(): { readonly tokens: ReadonlySet<string>; readonly clientSecret: string; readonly privateKeys: ReadonlySet<string> } {
  return { tokens: issuedTokens, clientSecret: M2M_CLIENT_SECRET, privateKeys: privateKeyMaterial };
}

/** A private_key_jwt client's key: the private half as a PEM file and a JWK, for tests to sign with. */
export interface ServiceAccountKey {
  readonly clientId: string;
  readonly kid: string;
  /** A PEM (PKCS #8) file, mode 0600, removed when the server closes. */
  readonly pemFile: string;
  readonly pem: string;
  /** The private JWK, with its kid. */
  readonly jwk: Readonly<Record<string, unknown>>;
}

/** A new RSA key pair for a private_key_jwt client: the private half written to `folder`, the public half for the client's jwks. */
export async function makeServiceAccountKey(folder: string, name = 'service-account-key'): Promise<{ key: ServiceAccountKey; publicJwk: Record<string, unknown> }> {
  const { privateKey, publicKey } = await generateKeyPair('RS256', { extractable: true });
  const pem = await exportPKCS8(privateKey);
  const jwk = { ...(await exportJWK(privateKey)), kid: M2M_KEY_ID, alg: 'RS256' };
  privateKeyMaterial.add(String(jwk.d));
  privateKeyMaterial.add(pem.split('\n')[1]!);
  const pemFile = join(folder, `${name}.pem`);
  writeFileSync(pemFile, pem, { mode: 0o600 });
  const publicJwk = { ...(await exportJWK(publicKey)), kid: M2M_KEY_ID, alg: 'RS256', use: 'sig' };
  return { key: { clientId: M2M_KEY_CLIENT_ID, kid: M2M_KEY_ID, pemFile, pem, jwk }, publicJwk };
}

export interface ServerOptions {
  /** Port of the authorization server; 0 picks a free one. */
  readonly port?: number;
  /** Port of the demo API; 0 picks a free one. */
  readonly apiPort?: number;
  /** Access token lifetime in seconds. */
  readonly accessTokenTtl?: number;
  /** Refresh token lifetime in seconds. */
  readonly refreshTokenTtl?: number;
  /**
   * Seconds between device polls, announced to clients (the RFC's default
   * is 5). 0.1 unless given, so a device login in a test waits for the
   * scripted user rather than for the clock; the dev server and the demo
   * announce 1 s.
   */
  readonly deviceInterval?: number;
  /** Device code lifetime in seconds. */
  readonly deviceCodeTtl?: number;
  /** More public user clients, configured like USER_CLIENT_ID (such as a built-in profile's client). */
  readonly extraUserClientIds?: readonly string[];
}

export interface Fault {
  readonly status: number;
  readonly body?: string;
  readonly contentType?: string;
  readonly headers?: Readonly<Record<string, string>>;
  /** Never answer: the request hangs until the client gives up. */
  readonly hang?: boolean;
}

export interface RunningServer {
  readonly issuer: string;
  readonly apiBaseUrl: string;
  /** The audience requested for API tokens (the API's resource indicator). */
  readonly audience: string;
  /** Requests seen, keyed like `token:refresh_token`, `authorization`, `device_authorization`, `discovery`, `api`. */
  counts(): Record<string, number>;
  count(key: string): number;
  /** Requests an SDK or CLI made to the authorization server (not the API, and not the API's own JWKS fetches). */
  authServerRequests(): number;
  /** Token requests answered with an error (such as a reused refresh token), since the last reset. */
  tokenErrors(): number;
  resetCounts(): void;
  /** Answers the next token requests with these faults, in order, instead of handling them. */
  injectTokenFaults(faults: readonly Fault[]): void;
  /** Answers the next token requests (device polls, in the tests that use it) with an OAuth error such as `slow_down`. */
  injectDevicePollErrors(errors: readonly string[]): void;
  /** Holds the next `count` token requests unanswered: `arrived` once all are held, `release` lets them through. */
  holdTokenRequests(count: number): { readonly arrived: Promise<void>; release(): void };
  setAccessTokenTtl(seconds: number): void;
  /** Gives the demo API a new DPoP nonce: the next DPoP call is answered `use_dpop_nonce` and must come again with it. */
  rotateApiDpopNonce(): void;
  /**
   * Whether refresh tokens saved from now on stay bound to the DPoP key of
   * the request that got them (oidc-provider's way for public clients, and
   * the default). With false the server binds only access tokens, like some
   * servers do: a refresh token is then not sender-constrained, so it is
   * rotated on every use, and a refresh sent without a proof is answered
   * with a new refresh token and an unbound `Bearer` access token.
   */
  bindRefreshTokensToDpopKey(bound: boolean): void;
  /** Environment variables that point the SDK, the CLI and the examples at this server. */
  env(): Record<string, string>;
  /** The private_key_jwt service account's key (client M2M_KEY_CLIENT_ID). */
  readonly serviceAccountKey: ServiceAccountKey;
  close(): Promise<void>;
}

function listen(server: Server, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port, host: '127.0.0.1', backlog: 4096 }, () => resolve((server.address() as AddressInfo).port));
  });
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

function page(title: string, body: string): string {
  return `<!doctype html><html><head><meta charset="utf-8"><title>${title}</title></head><body><h1>${title}</h1>${body}</body></html>`;
}

const SEARCHES = [
  { id: 'c6f4a1f0', name: 'Coastal change, weekly', item_types: ['PSScene'], search_type: 'saved' },
  { id: '9b2e77d3', name: 'Crop fields, monthly', item_types: ['PSScene', 'SkySatCollect'], search_type: 'saved' },
];

export async function startAuthServer(options: ServerOptions = {}): Promise<RunningServer> {
  const counts: Record<string, number> = {};
  const bump = (key: string) => {
    counts[key] = (counts[key] ?? 0) + 1;
  };
  let accessTokenTtl = options.accessTokenTtl ?? 3600;
  let tokenErrors = 0;
  const deviceInterval = options.deviceInterval ?? 0.1;
  const tokenFaults: Fault[] = [];
  const tokenHolds: (() => Promise<void>)[] = [];
  // DPoP (RFC 9449): the demo API hands out its own nonce and remembers every proof's jti, to refuse a replay.
  const dpop: DpopCheck = { nonce: randomBytes(16).toString('base64url'), seenJti: new Set() };

  // Port first, so the issuer URL is known before the provider is built.
  const authHttp = createServer();
  const port = await listen(authHttp, options.port ?? 0);
  const apiHttp = createServer();
  const apiPort = await listen(apiHttp, options.apiPort ?? 0);
  const issuer = `http://127.0.0.1:${port}`;
  const apiBaseUrl = `http://127.0.0.1:${apiPort}`;
  const audience = `${apiBaseUrl}/`;

  const keyFolder = mkdtempSync(join(tmpdir(), 'planet-auth-keys-'));
  const serviceAccount = await makeServiceAccountKey(keyFolder);
  const { privateKey } = await generateKeyPair('RS256', { extractable: true });
  const signingKey = { ...(await exportJWK(privateKey)), kid: 'demo-signing-key', alg: 'RS256', use: 'sig' };

  const configuration: Configuration = {
    clients: [
      ...[USER_CLIENT_ID, ...(options.extraUserClientIds ?? [])].map((clientId): ClientMetadata => ({
        client_id: clientId,
        application_type: 'native',
        token_endpoint_auth_method: 'none',
        grant_types: ['authorization_code', 'refresh_token', 'urn:ietf:params:oauth:grant-type:device_code'],
        response_types: ['code'],
        // Native loopback redirects: any port is accepted (RFC 8252, section 7.3).
        redirect_uris: ['http://127.0.0.1/callback', 'http://localhost/callback'],
      })),
      {
        client_id: M2M_CLIENT_ID,
        client_secret: M2M_CLIENT_SECRET,
        token_endpoint_auth_method: 'client_secret_post',
        grant_types: ['client_credentials'],
        response_types: [],
        redirect_uris: [],
      },
      {
        client_id: M2M_BASIC_CLIENT_ID,
        client_secret: M2M_CLIENT_SECRET,
        token_endpoint_auth_method: 'client_secret_basic',
        grant_types: ['client_credentials'],
        response_types: [],
        redirect_uris: [],
      },
      {
        client_id: M2M_KEY_CLIENT_ID,
        token_endpoint_auth_method: 'private_key_jwt',
        jwks: { keys: [serviceAccount.publicJwk] },
        grant_types: ['client_credentials'],
        response_types: [],
        redirect_uris: [],
      },
    ],
    jwks: { keys: [signingKey] },
    cookies: { keys: ['embedded-dev-server-cookie-key'] },
    scopes: ['openid', 'offline_access', API_SCOPE],
    extraParams: ['audience'],
    findAccount: async (_ctx, sub) => ({ accountId: sub, claims: async () => ({ sub }) }),
    issueRefreshToken: async (_ctx, client) => client.grantTypeAllowed('refresh_token'),
    features: {
      devInteractions: { enabled: true },
      deviceFlow: {
        enabled: true,
        userCodeInputSource: async (ctx, form, _out, err) => {
          ctx.body = page('Sign-in', `${err ? '<p>That code is not valid. Try again.</p>' : '<p>Enter the code shown on your device.</p>'}${form}<button type="submit" form="op.deviceInputForm">Continue</button>`);
        },
        userCodeConfirmSource: async (ctx, form, client, _info, userCode) => {
          ctx.body = page(
            'Confirm device',
            `<p>${escapeHtml(client.clientId)} shows the code <code>${escapeHtml(userCode)}</code>.</p>${form}<button autofocus type="submit" form="op.deviceConfirmForm">Continue</button>`,
          );
        },
        successSource: async (ctx) => {
          ctx.body = page('Signed in', '<p>The device is signed in. You can close this window.</p>');
        },
      },
      clientCredentials: { enabled: true },
      revocation: { enabled: true },
      // Tokens requested with a DPoP proof are bound to its key; every proof must carry the server's nonce, so a client's first request is answered use_dpop_nonce.
      dPoP: { enabled: true, nonceSecret: randomBytes(32), requireNonce: () => true },
      resourceIndicators: {
        enabled: true,
        // Planet-style clients send `audience=`; RFC 8707 clients send `resource=`. Both name the API.
        defaultResource: async (ctx, _client, oneOf) => {
          if (oneOf) return oneOf[0] ?? audience;
          const requested = ctx.oidc.params?.['audience'];
          return typeof requested === 'string' ? requested : audience;
        },
        useGrantedResource: async () => true,
        getResourceServerInfo: async (_ctx, resource) => {
          if (resource !== audience) throw new providerErrors.InvalidTarget(`unknown resource ${resource}`);
          return { scope: API_SCOPE, audience, accessTokenTTL: accessTokenTtl, accessTokenFormat: 'jwt', jwt: { sign: { alg: 'RS256' } } };
        },
      },
    },
    ttl: {
      AccessToken: () => accessTokenTtl,
      ClientCredentials: () => accessTokenTtl,
      RefreshToken: options.refreshTokenTtl ?? 14 * 24 * 3600,
      DeviceCode: options.deviceCodeTtl ?? 600,
      Interaction: 600,
      Session: 3600,
      Grant: 14 * 24 * 3600,
      AuthorizationCode: 60,
    },
    pkce: { required: () => true },
    renderError: async (ctx, out) => {
      ctx.type = 'html';
      ctx.body = `<!doctype html><html><body><h1>Error</h1><pre>${Object.entries(out)
        .map(([k, v]) => `${k}: ${String(v).replace(/[<>&]/g, '')}`)
        .join('\n')}</pre></body></html>`;
    },
  };

  // The provider warns that its in-memory store and login pages are for development; that is what this server is.
  const warn = console.warn;
  console.warn = () => undefined;
  const provider = new Provider(issuer, configuration);
  console.warn = warn;
  provider.proxy = false;
  let refreshTokensBound = true;
  // The model's adapter is one object per model, so wrapping its upsert changes what every later save stores.
  const refreshTokens = provider.RefreshToken.adapter;
  const saveRefreshToken = refreshTokens.upsert.bind(refreshTokens);
  refreshTokens.upsert = (id, payload, expiresIn) => saveRefreshToken(id, refreshTokensBound ? payload : { ...payload, jkt: undefined }, expiresIn);
  // Counting and fault injection sit in front of the provider's own routes.
  provider.use(async (ctx, next) => {
    const isToken = ctx.method === 'POST' && ctx.path === '/token';
    if (isToken && tokenHolds.length > 0) await tokenHolds.shift()!();
    if (isToken && tokenFaults.length > 0) {
      const fault = tokenFaults.shift()!;
      bump('token:fault');
      if (fault.hang) {
        await new Promise(() => undefined);
      }
      ctx.status = fault.status;
      for (const [k, v] of Object.entries(fault.headers ?? {})) ctx.set(k, v);
      ctx.type = fault.contentType ?? 'application/json';
      ctx.body = fault.body ?? JSON.stringify({ error: 'temporarily_unavailable' });
      return;
    }
    await next();
    const oidc = (ctx as unknown as KoaContextWithOIDC).oidc;
    const route = oidc?.route ?? ctx.path;
    const grant = isToken ? String((oidc?.params?.['grant_type'] as string | undefined) ?? 'unknown') : undefined;
    bump(grant ? `token:${grant}` : String(route));
    // A private_key_jwt client's signed assertion (RFC 7523), whether or not the server accepted it.
    if (typeof oidc?.body?.['client_assertion'] === 'string') bump('client_assertion');
    if (isToken && ctx.status >= 400) tokenErrors++;
    if (isToken && (ctx.body as { error?: unknown } | undefined)?.error === 'use_dpop_nonce') bump('token:use_dpop_nonce');
    if (isToken && ctx.body && typeof ctx.body === 'object') {
      for (const key of ['access_token', 'refresh_token', 'id_token']) {
        const value = (ctx.body as Record<string, unknown>)[key];
        if (typeof value === 'string') issuedTokens.add(value);
      }
    }
    // The Python CLI accepts a JWKS only as application/json, not RFC 7517's application/jwk-set+json.
    if (oidc?.route === 'jwks') ctx.type = 'application/json';
    if (oidc?.route === 'device_authorization' && ctx.status === 200 && ctx.body && typeof ctx.body === 'object') {
      (ctx.body as Record<string, unknown>)['interval'] = deviceInterval;
    }
  });
  const providerCallback = provider.callback();
  authHttp.on('request', (req: IncomingMessage, res: ServerResponse) => void providerCallback(req, res));

  const jwks = createRemoteJWKSet(new URL(`${issuer}/jwks`));
  apiHttp.on(
    'request',
    (req: IncomingMessage, res: ServerResponse) =>
      void (async () => {
        bump('api');
        const send = (status: number, body: unknown, headers: Record<string, string> = {}) => {
          res.writeHead(status, { 'content-type': 'application/json', ...headers });
          res.end(JSON.stringify(body));
        };
        const url = new URL(req.url ?? '/', apiBaseUrl);
        if (req.method !== 'GET' || url.pathname !== '/data/v1/searches') return send(404, { message: 'not found' });
        const header = req.headers.authorization ?? '';
        const match = /^(Bearer|DPoP) (.+)$/.exec(header);
        if (!match) return send(401, { message: 'missing bearer token' }, { 'www-authenticate': 'Bearer' });
        try {
          const { payload } = await jwtVerify(match[2]!, jwks, { issuer, audience, typ: 'at+jwt' });
          // A token bound to a key (cnf.jkt) is accepted only with the DPoP scheme and a valid proof of that key.
          const jkt = (payload['cnf'] as { jkt?: unknown } | undefined)?.jkt;
          if (typeof jkt === 'string' || match[1] === 'DPoP') {
            const refused =
              match[1] === 'DPoP' && typeof jkt === 'string'
                ? await checkDpopProof(dpop, { method: req.method ?? '', url: `${apiBaseUrl}${url.pathname}`, proof: req.headers['dpop'], token: match[2]!, jkt })
                : { reason: 'a DPoP-bound token needs the DPoP scheme and a proof' };
            if (refused.reason === 'use_dpop_nonce') {
              bump('api:use_dpop_nonce');
              return send(401, { message: 'a DPoP nonce is required' }, { 'www-authenticate': 'DPoP error="use_dpop_nonce", error_description="Resource server requires nonce in DPoP proof"', 'dpop-nonce': dpop.nonce });
            }
            if (refused.reason !== undefined) {
              bump('api:rejected');
              return send(401, { message: `invalid DPoP proof: ${refused.reason}` }, { 'www-authenticate': 'DPoP error="invalid_dpop_proof"' });
            }
            bump('api:dpop');
          }
          const scopes = String((payload['scope'] as string | undefined) ?? '').split(' ');
          if (!scopes.includes(API_SCOPE)) return send(403, { message: `token lacks the ${API_SCOPE} scope` }, { 'www-authenticate': 'Bearer error="insufficient_scope"' });
          bump('api:ok');
          return send(200, { _links: { _self: `${apiBaseUrl}/data/v1/searches` }, searches: SEARCHES });
        } catch {
          bump('api:rejected');
          return send(401, { message: 'invalid token' }, { 'www-authenticate': 'Bearer error="invalid_token"' });
        }
      })(),
  );

  return {
    issuer,
    apiBaseUrl,
    audience,
    counts: () => ({ ...counts }),
    count: (key) => counts[key] ?? 0,
    authServerRequests: () =>
      Object.entries(counts)
        .filter(([k]) => !k.startsWith('api') && k !== 'jwks')
        .reduce((n, [, v]) => n + v, 0),
    tokenErrors: () => tokenErrors,
    resetCounts: () => {
      tokenErrors = 0;
      for (const key of Object.keys(counts)) delete counts[key];
    },
    injectTokenFaults: (faults) => {
      tokenFaults.push(...faults);
    },
    injectDevicePollErrors: (errors) => {
      tokenFaults.push(...errors.map((error) => ({ status: 400, body: JSON.stringify({ error }) })));
    },
    holdTokenRequests: (count) => {
      let arrive!: () => void;
      let release!: () => void;
      const arrived = new Promise<void>((r) => (arrive = r));
      const released = new Promise<void>((r) => (release = r));
      let waiting = count;
      for (let i = 0; i < count; i++) {
        tokenHolds.push(() => {
          if (--waiting === 0) arrive();
          return released;
        });
      }
      return { arrived, release };
    },
    setAccessTokenTtl: (seconds) => {
      accessTokenTtl = seconds;
    },
    rotateApiDpopNonce: () => {
      dpop.nonce = randomBytes(16).toString('base64url');
    },
    bindRefreshTokensToDpopKey: (bound) => {
      refreshTokensBound = bound;
    },
    env: () => ({
      PLANET_AUTH_ISSUER: issuer,
      PLANET_API_URL: apiBaseUrl,
      PLANET_AUTH_AUDIENCE: audience,
      PLANET_EXAMPLE_CLIENT_ID: USER_CLIENT_ID,
      PLANET_EXAMPLE_CALLBACK_URL: 'http://127.0.0.1:0/callback',
      PLANET_EXAMPLE_M2M_CLIENT_ID: M2M_CLIENT_ID,
      PLANET_EXAMPLE_M2M_CLIENT_SECRET: M2M_CLIENT_SECRET,
      PLANET_EXAMPLE_M2M_KEY_CLIENT_ID: M2M_KEY_CLIENT_ID,
      PLANET_EXAMPLE_M2M_PRIVATE_KEY: serviceAccount.key.pemFile,
      // The key the Redis provider encrypts refresh tokens and client secrets with in tests and the demo.
      PLANET_AUTH_STORAGE_KEYS: 'test-1:89/TrJJXfnfNGIltzJl1bOKbhlz2cxdUXECxwq8tGYw=',
    }),
    serviceAccountKey: serviceAccount.key,
    close: async () => {
      for (const server of [authHttp, apiHttp]) {
        server.closeAllConnections();
        await new Promise<void>((resolve) => server.close(() => resolve()));
      }
      rmSync(keyFolder, { recursive: true, force: true });
    },
  };
}
