// The interface every token binding module implements: one module per way a
// session presents its tokens to the API and the token endpoint (plain
// bearer tokens, or tokens bound to a key the session holds, RFC 9449). A
// module declares everything about its binding, so the registry, the
// validator, the keychain, `profile list`, the docs and the session engine
// read it from here.
import type * as OidcClient from 'openid-client';
import type { SessionLog } from '../log.js';
import type { GrantType } from '../registry-public.js';
import type { FlowDescriptor } from '../settings.js';
import type { TokenFile } from '../token.js';

/** A key a binding made for a login, or loaded from a saved session; `binding` names its module. */
export interface BindingKey {
  readonly binding: string;
}

/** What a refresh answer comes to: its tokens, or a refusal, with the refresh token the server issued in place of the spent one. */
export type RefreshBinding = { readonly response: Record<string, unknown> } | { readonly refused: Error; readonly replacement: string | undefined };

/** One session's use of a binding: its keys, and what it remembers between requests (such as nonces). */
export interface BoundSession {
  /** A new key for a login; undefined when the binding needs none. */
  forLogin(): Promise<BindingKey | undefined>;
  /** The key `file`'s tokens are bound to; undefined when they are bound to none. Throws when the flow needs one the file does not hold. */
  keyOf(file: TokenFile | undefined, location: string): Promise<BindingKey | undefined>;
  /** openid-client's options for a token request made with `key`. */
  requestOptions(oidc: typeof OidcClient, config: OidcClient.Configuration, key: BindingKey | undefined): { DPoP?: OidcClient.DPoPHandle };
  /** A login's token response, its binding checked and the key kept with it; throws when the server did not bind the tokens as asked. */
  bind(response: Record<string, unknown>, key: BindingKey | undefined, step: string): Record<string, unknown>;
  /** A refresh answer to a request made with `key`, which spent `spent`: its tokens, or a refusal with what to keep. */
  bindRefresh(response: Record<string, unknown>, key: BindingKey | undefined, step: string, spent: string): RefreshBinding;
  /** The headers that present `token` on a `method` request to `url`. */
  headers(file: TokenFile | undefined, location: string, token: string, method: string | undefined, url: string | URL | undefined): Promise<Record<string, string>>;
  /** Notes the API's answer to a request to `url`; true when the request should go once more (the API asked for a nonce). */
  answered(response: Response, url: URL): boolean;
}

export interface TokenBinding {
  /** Where the binding is specified, for doc comments. */
  readonly see: string;
  /** The grants whose token requests can carry it. */
  readonly grants: readonly GrantType[];
  /** The token file fields it keeps with the tokens; each a secret, kept like the refresh token (in the keychain, sealed in shared storage). */
  readonly savedFields: readonly string[];
  /** Whether `file` holds tokens bound this way, without reading a secret kept in the keychain. */
  holds(file: TokenFile | undefined): boolean;
  /** Refuses a saved token file whose fields of this binding cannot be used (a `StateError`; the file is left as it is), before anything acts on it. */
  check(file: TokenFile, location: string): void;
  /**
   * What the docs and `profile list` say of a session bound this way, and
   * why Planet's Python CLI cannot use it; undefined for a binding any
   * bearer client can use.
   */
  readonly listing?: { readonly label: string; readonly docs: string; readonly pythonCli: string };
  /** Its part of one session of `flow` (whose `tokenBinding` may be another, when a saved session is bound this way). */
  session(flow: FlowDescriptor, profile: string, log: SessionLog): BoundSession;
}
