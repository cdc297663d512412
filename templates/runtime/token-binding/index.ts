// What the session engine asks of the token binding modules that
// registry.ts lists (TOKEN_BINDINGS): one session's proofs, whichever
// binding its flow asks for and its saved tokens have.
import type * as OidcClient from 'openid-client';
import type { SessionLog } from '../log.js';
import { TOKEN_BINDINGS, type TokenBindingName } from '../registry.js';
import type { FlowDescriptor } from '../settings.js';
import type { TokenFile } from '../token.js';
import type { BindingKey, BoundSession, RefreshBinding, TokenBinding } from './types.js';

// Read when called, not when loaded: this module and the registry's may load in either order.
const bindings = (): [TokenBindingName, TokenBinding][] => Object.entries(TOKEN_BINDINGS) as [TokenBindingName, TokenBinding][];

/** The binding a flow's logins ask for (bearer unless its spec names another). */
export function flowBinding(flow: FlowDescriptor): TokenBindingName {
  return flow.tokenBinding ?? 'bearer';
}

/** The binding `file`'s tokens have, read from the fields it keeps (without reading a secret in the keychain); undefined for none. */
export function fileBinding(file: TokenFile | undefined): TokenBindingName | undefined {
  return bindings().find(([, binding]) => binding.holds(file))?.[0];
}

/** Every token file field a binding keeps with the tokens (each a secret). */
export function boundFields(): string[] {
  return [...new Set(bindings().flatMap(([, binding]) => binding.savedFields))];
}

/** `file`, once every binding has checked its own fields in it: a field one cannot use is a `StateError`, and the file is left as it is. */
export function checkBoundFields(location: string, file: TokenFile): TokenFile {
  for (const [, binding] of bindings()) binding.check(file, location);
  return file;
}

/**
 * How one session presents its tokens: the binding its flow asks for, for
 * logins; for saved tokens, the binding they have (a bearer flow's profile
 * may hold a session another binding made), each binding's part made once.
 */
export class SessionProofs implements BoundSession {
  readonly #flow: FlowDescriptor;
  readonly #profile: string;
  readonly #log: SessionLog;
  readonly #sessions = new Map<TokenBindingName, BoundSession>();

  constructor(flow: FlowDescriptor, profile: string, log: SessionLog) {
    this.#flow = flow;
    this.#profile = profile;
    this.#log = log;
  }

  #of(name: TokenBindingName): BoundSession {
    let session = this.#sessions.get(name);
    if (!session) {
      session = TOKEN_BINDINGS[name].session(this.#flow, this.#profile, this.#log);
      this.#sessions.set(name, session);
    }
    return session;
  }

  /** The part of the binding `key` belongs to, else of the flow's. */
  #byKey(key: BindingKey | undefined): BoundSession {
    return this.#of(key !== undefined && Object.hasOwn(TOKEN_BINDINGS, key.binding) ? (key.binding as TokenBindingName) : flowBinding(this.#flow));
  }

  /** The part of the binding `file` has, else of the flow's. */
  #byFile(file: TokenFile | undefined): BoundSession {
    return this.#of(fileBinding(file) ?? flowBinding(this.#flow));
  }

  forLogin(): Promise<BindingKey | undefined> {
    return this.#of(flowBinding(this.#flow)).forLogin();
  }

  keyOf(file: TokenFile | undefined, location: string): Promise<BindingKey | undefined> {
    return this.#byFile(file).keyOf(file, location);
  }

  requestOptions(oidc: typeof OidcClient, config: OidcClient.Configuration, key: BindingKey | undefined): { DPoP?: OidcClient.DPoPHandle } {
    return this.#byKey(key).requestOptions(oidc, config, key);
  }

  bind(response: Record<string, unknown>, key: BindingKey | undefined, step: string): Record<string, unknown> {
    return this.#byKey(key).bind(response, key, step);
  }

  bindRefresh(response: Record<string, unknown>, key: BindingKey | undefined, step: string, spent: string): RefreshBinding {
    return this.#byKey(key).bindRefresh(response, key, step, spent);
  }

  headers(file: TokenFile | undefined, location: string, token: string, method: string | undefined, url: string | URL | undefined): Promise<Record<string, string>> {
    return this.#byFile(file).headers(file, location, token, method, url);
  }

  answered(response: Response, url: URL): boolean {
    let again = false;
    for (const session of this.#sessions.values()) if (session.answered(response, url)) again = true;
    return again;
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return `SessionProofs { binding: ${JSON.stringify(flowBinding(this.#flow))} }`;
  }
}

export type { BindingKey, BoundSession, RefreshBinding, TokenBinding } from './types.js';
