// The options a session is made from: what the factories take, plus what a
// saved profile pins down.
import type { CredentialOptionTable, OptionsOf, SESSION_OPTIONS } from './registry-public.js';

/**
 * A session's credential options, as its factory or its saved profile gives
 * them: those `CLIENT_AUTH_METHODS` (registry-public.ts) declares for the
 * client authentication methods (a secret, a private key's reference).
 */
export type ClientCredentials = OptionsOf<CredentialOptionTable>;

/**
 * Options of a session, as the factories take them, plus what a saved
 * profile pins down: the registry's options (`SESSION_OPTIONS` and the
 * credential options), with their declared types.
 */
export type ClientOptions = Omit<OptionsOf<typeof SESSION_OPTIONS>, 'clientId' | 'audience'> &
  ClientCredentials & {
    readonly clientId: string;
    /**
     * Audience requested for access tokens; wins over the environment and the
     * built-in one. `null` (a profile saved without one) requests none unless
     * the environment names one.
     */
    readonly audience?: string | null | undefined;
    /**
     * Whether a login writes `auth_client.json` (default true). False for
     * built-in profiles and ad hoc service accounts, whose client settings
     * live in the SDK or the environment.
     */
    readonly persistClientConfig?: boolean;
  };

/** Client secrets read only when first used: a profile's secret in the OS keychain, so status and listing need no keychain. */
const deferredSecrets = new WeakMap<ClientOptions, () => string>();

/** `options` whose client secret `read` gives on first use (read once). */
export function withDeferredSecret(options: ClientOptions, read: () => string): ClientOptions {
  let secret: string | undefined;
  const copy = { ...options };
  deferredSecrets.set(copy, () => (secret ??= read()));
  return copy;
}

/** `to` with the deferred client secret of `from`, if it has one. */
export function keepDeferredSecret<T extends ClientOptions>(from: ClientOptions, to: T): T {
  const read = deferredSecrets.get(from);
  if (read !== undefined) deferredSecrets.set(to, read);
  return to;
}

/** Whether `options` hold a client secret, given or deferred, without reading a deferred one. */
export function holdsClientSecret(options: ClientOptions): boolean {
  return Boolean(options.clientSecret) || deferredSecrets.has(options);
}

/** The client secret of `options`, reading a deferred one now. */
export function clientSecretOf(options: ClientOptions): string | undefined {
  return options.clientSecret ?? deferredSecrets.get(options)?.();
}
