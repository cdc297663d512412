// private_key_jwt: the client signs a short-lived JWT with its private key
// and sends it as a client assertion (RFC 7523, section 2.2; OpenID Connect
// Core, section 9). The server holds only the public key. The session reads
// the key from a PEM or JWK file, or from an environment variable, when it
// first talks to the server, and keeps it as a non-extractable CryptoKey; a
// saved profile keeps where the key is, never the key.
// node:crypto is loaded when a key is first read: a process that only reads a saved token never loads it.
import type { JsonWebKey, KeyObject, webcrypto } from 'node:crypto';

type Crypto = typeof import('node:crypto');
import { readFileSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { ConfigError } from '../errors.js';
import type { ClientAuthMethod, ClientCredentials } from './types.js';
import { CLIENT_AUTH_METHODS } from '../registry-public.js';

/** The prefix of a `privateKey` value that names an environment variable instead of a file. */
export const ENV_REFERENCE = 'env:';

const FIELD_FILE = 'client_privkey_file';
const FIELD_ENV = 'client_privkey_env';
const FIELD_KID = 'client_privkey_kid';

const FIX = "pass --private-key (or the privateKey option) with the path of the service account's PEM or JWK private key file, or env:NAME for a variable that holds one";
const SUPPORTED = 'an RSA (RS256), EC P-256, P-384 or P-521 (ES256, ES384, ES512) or Ed25519 private key';

type SigningAlgorithm = webcrypto.RsaHashedImportParams | webcrypto.EcKeyImportParams | webcrypto.Algorithm;

/** The WebCrypto algorithm a key signs with, or undefined for a key type this SDK does not sign with. */
function signingAlgorithm(key: KeyObject): SigningAlgorithm | undefined {
  const details = key.asymmetricKeyDetails ?? {};
  switch (key.asymmetricKeyType) {
    case 'rsa':
      return { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' };
    case 'ec': {
      const curve = { prime256v1: 'P-256', secp384r1: 'P-384', secp521r1: 'P-521' }[details.namedCurve ?? ''];
      return curve === undefined ? undefined : { name: 'ECDSA', namedCurve: curve };
    }
    case 'ed25519':
      return { name: 'Ed25519' };
    default:
      return undefined;
  }
}

/** A file path made absolute (so a profile works from any folder); an `env:` reference as it is. */
function normalizeReference(reference: string): string {
  return reference.startsWith(ENV_REFERENCE) || isAbsolute(reference) ? reference : resolve(reference);
}

/** The key's text and where it came from, for messages. */
function readReference(reference: string): { text: string; where: string } {
  if (reference.startsWith(ENV_REFERENCE)) {
    const name = reference.slice(ENV_REFERENCE.length);
    const where = `environment variable ${name} (option privateKey)`;
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new ConfigError(`privateKey ${JSON.stringify(reference.slice(0, 80))} names no valid environment variable`, { hint: FIX });
    const text = process.env[name];
    if (text === undefined || text.trim() === '') throw new ConfigError(`the private key's ${where} is not set`, { hint: `set ${name} to the service account's PEM or JWK private key, or ${FIX}` });
    return { text, where };
  }
  const path = normalizeReference(reference);
  const where = `file ${path} (option privateKey)`;
  try {
    return { text: readFileSync(path, 'utf8'), where };
  } catch (error) {
    const code = (error as { code?: string }).code;
    const problem = code === 'ENOENT' ? 'does not exist' : code === 'EISDIR' ? 'is a folder' : code === 'EACCES' ? 'cannot be read (permission denied)' : `cannot be read (${code ?? 'unknown error'})`;
    throw new ConfigError(`the private key ${where} ${problem}`, { hint: FIX });
  }
}

/** The private key in `text` (PEM or JWK), with the JWK's `kid`; a one-line error naming what to do for anything else. */
function parseKey({ createPrivateKey, createPublicKey }: Crypto, text: string, where: string): { key: KeyObject; kid: string | undefined } {
  const trimmed = text.trim();
  if (trimmed.startsWith('{')) {
    let jwk: JsonWebKey & { kid?: unknown };
    try {
      jwk = JSON.parse(trimmed) as JsonWebKey & { kid?: unknown };
    } catch {
      throw new ConfigError(`the private key in ${where} is not valid JSON, so not a JWK`, { hint: FIX });
    }
    if (jwk === null || typeof jwk !== 'object' || Array.isArray(jwk) || 'keys' in jwk) {
      throw new ConfigError(`the private key in ${where} is not one JWK (a JWK Set is not taken)`, { hint: 'put the one private JWK the service account signs with in the file' });
    }
    if (jwk.d === undefined) throw new ConfigError(`the key in ${where} is a public key; the client signs with the private key`, { hint: `use the private JWK (with "d") and register its public half at the server` });
    try {
      return { key: createPrivateKey({ key: jwk, format: 'jwk' }), kid: typeof jwk.kid === 'string' && jwk.kid !== '' ? jwk.kid : undefined };
    } catch {
      throw new ConfigError(`the JWK in ${where} is not a usable private key`, { hint: `use ${SUPPORTED}` });
    }
  }
  if (!trimmed.startsWith('-----BEGIN ')) throw new ConfigError(`the key in ${where} is neither PEM nor JWK`, { hint: FIX });
  if (/^-----BEGIN (PUBLIC KEY|RSA PUBLIC KEY|CERTIFICATE)-----/.test(trimmed)) {
    throw new ConfigError(`the key in ${where} is a public key or certificate; the client signs with the private key`, { hint: 'use the private key PEM and register its public half at the server' });
  }
  if (trimmed.startsWith('-----BEGIN ENCRYPTED PRIVATE KEY-----')) {
    throw new ConfigError(`the private key in ${where} is encrypted with a passphrase, which the SDK does not take`, { hint: 'decrypt it to a file only you can read (openssl pkey -in key.pem -out plain.pem)' });
  }
  try {
    return { key: createPrivateKey(trimmed), kid: undefined };
  } catch {
    const isPublic = (() => {
      try {
        createPublicKey(trimmed);
        return true;
      } catch {
        return false;
      }
    })();
    throw new ConfigError(isPublic ? `the key in ${where} is a public key; the client signs with the private key` : `the PEM in ${where} is not a private key this SDK can read`, { hint: `use ${SUPPORTED}` });
  }
}

/**
 * The service account's signing key from `credentials.privateKey`: read,
 * checked and imported as a non-extractable CryptoKey, with its `kid`
 * (the option's, else the JWK's).
 */
export async function loadSigningKey(credentials: ClientCredentials): Promise<{ key: webcrypto.CryptoKey; kid?: string }> {
  if (credentials.privateKey === undefined || credentials.privateKey.trim() === '') throw new ConfigError('option privateKey is missing: private_key_jwt signs with a private key', { hint: FIX });
  const { text, where } = readReference(credentials.privateKey);
  const crypto = await import('node:crypto');
  const { key, kid } = parseKey(crypto, text, where);
  const algorithm = signingAlgorithm(key);
  if (algorithm === undefined) {
    const curve = key.asymmetricKeyDetails?.namedCurve;
    throw new ConfigError(`the private key in ${where} is ${key.asymmetricKeyType ?? 'of an unknown type'}${curve ? ` (${curve})` : ''}, which private_key_jwt here does not sign with`, { hint: `use ${SUPPORTED}` });
  }
  const der = key.export({ format: 'der', type: 'pkcs8' });
  const cryptoKey = await crypto.webcrypto.subtle.importKey('pkcs8', der, algorithm, false, ['sign']);
  der.fill(0);
  const keyId = credentials.privateKeyId ?? kid;
  return keyId !== undefined ? { key: cryptoKey, kid: keyId } : { key: cryptoKey };
}

function stringField(config: Readonly<Record<string, unknown>>, field: string): string | undefined {
  const value = config[field];
  return typeof value === 'string' && value !== '' ? value : undefined;
}

export const privateKeyJwt: ClientAuthMethod<(typeof CLIENT_AUTH_METHODS)['private_key_jwt']> = {
  holds: 'privateKey',
  options: CLIENT_AUTH_METHODS.private_key_jwt,
  see: 'https://www.rfc-editor.org/rfc/rfc7523#section-2.2 JWT client authentication (RFC 7523, section 2.2)',
  savedFields: [FIELD_FILE, FIELD_ENV, FIELD_KID],
  profileFields: (options) => {
    const fields: Record<string, string> = {};
    if (options.privateKey) {
      const reference = normalizeReference(options.privateKey);
      if (reference.startsWith(ENV_REFERENCE)) fields[FIELD_ENV] = reference.slice(ENV_REFERENCE.length);
      else fields[FIELD_FILE] = reference;
    }
    if (options.privateKeyId) fields[FIELD_KID] = options.privateKeyId;
    return fields;
  },
  fromProfile: (config) => {
    const file = stringField(config, FIELD_FILE);
    const env = stringField(config, FIELD_ENV);
    return { privateKey: file ?? (env !== undefined ? `${ENV_REFERENCE}${env}` : undefined), privateKeyId: stringField(config, FIELD_KID) };
  },
  cliOptions: (_secretEnv, doc) => [
    {
      name: 'private-key',
      value: 'FILE',
      help: `${doc('privateKey', "Where the service account's private key is: a PEM or JWK file, or env:NAME for an environment variable holding one; the profile keeps this reference, never the key.")} Default: the profile's.`,
    },
    { name: 'key-id', value: 'KID', help: `${doc('privateKeyId', "The key's kid.")} Default: the JWK's kid, else the profile's, else none.` },
  ],
  selectedBy: (values) => values['private-key'] !== undefined,
  cliCredentials: async (c) => {
    const privateKey = (c.values['private-key'] as string | undefined) ?? c.existing?.privateKey;
    if (!privateKey) throw c.usage('missing private key', `pass --private-key FILE (a PEM or JWK private key file); see ${c.command(`help login ${c.login}`)}`);
    const privateKeyId = (c.values['key-id'] as string | undefined) ?? (c.values['private-key'] === undefined ? c.existing?.privateKeyId : undefined);
    return { privateKey: normalizeReference(privateKey), ...(privateKeyId ? { privateKeyId } : {}) };
  },
  loginHintPrefix: () => '',
  cliExample: '--private-key service-account-key.pem',
  exampleValues: {
    clientId: { env: 'm2mKeyClientId', fallback: 'your-service-account-client-id' },
    privateKey: { env: 'm2mPrivateKey', fallback: 'service-account-key.pem' },
  },
  refusedHint: 'check the client ID, that the private key is the one whose public key the server holds for it (and its kid), and the token endpoint auth method the server expects',
  clientAuth: async (oidc, credentials) => oidc.PrivateKeyJwt(await loadSigningKey(credentials)),
};
