// What the rest of the runtime asks of the client authentication modules
// that registry.ts lists (TOKEN_ENDPOINT_AUTH_METHODS): one method by name,
// and what a saved profile keeps for any of them.
import { TOKEN_ENDPOINT_AUTH_METHODS, type TokenEndpointAuthMethod } from '../registry.js';
import type { ClientAuthMethod, ClientCredentials } from './types.js';

export function clientAuthMethod(name: TokenEndpointAuthMethod): ClientAuthMethod {
  return TOKEN_ENDPOINT_AUTH_METHODS[name];
}

const methods: readonly ClientAuthMethod[] = Object.values(TOKEN_ENDPOINT_AUTH_METHODS);

/** Every `auth_client.json` field a method keeps a credential (or a reference to one) in. */
export const CREDENTIAL_FIELDS: readonly string[] = [...new Set(methods.flatMap((m) => m.savedFields))];

/** Every option a method reads, so a flow of one method can be told it declared another's. */
export const CREDENTIAL_OPTIONS: readonly string[] = [...new Set(methods.flatMap((m) => Object.keys(m.options)))];

/** Only the credential options of `options` (whatever else a session's options hold stays out of the client's identity). */
export function credentialsOf(options: ClientCredentials): ClientCredentials {
  const picked: Record<string, unknown> = {};
  for (const name of CREDENTIAL_OPTIONS) if ((options as Record<string, unknown>)[name] !== undefined) picked[name] = (options as Record<string, unknown>)[name];
  return picked;
}

/** The credential options an `auth_client.json` keeps, whichever method wrote them. */
export function credentialsFromProfile(config: Readonly<Record<string, unknown>>): ClientCredentials {
  const found: Record<string, string> = {};
  for (const method of methods) {
    for (const [name, value] of Object.entries(method.fromProfile(config))) if (typeof value === 'string') found[name] = value;
  }
  return found;
}

export { requiredOptionsOf } from './types.js';
export type { ClientAuthMethod, ClientCredentialKind, ClientCredentials, CliCredentialContext, ExampleValue } from './types.js';
