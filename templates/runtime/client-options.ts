// The options a session is made from: what the factories take, plus what a
// saved profile pins down.
import type { ObjectStore } from './store.js';

/** Options of a session, as the factories take them, plus what a saved profile pins down. */
export interface ClientOptions {
  readonly clientId: string;
  readonly clientSecret?: string;
  readonly callbackUrl?: string;
  readonly requestedScopes?: readonly string[];
  readonly saveStateToStorage?: boolean;
  readonly profileName?: string;
  readonly storageProvider?: ObjectStore;
  /** Issuer saved with a profile; otherwise the SDK's (or the environment's). */
  readonly issuer?: string;
  /** Audience saved with a profile; otherwise the SDK's (or the environment's). */
  readonly audience?: string;
  /** Seconds before a request to the authorization server is given up (default 30). */
  readonly requestTimeoutSeconds?: number;
  /**
   * Whether a login writes `auth_client.json` (default true). False for
   * built-in profiles and ad hoc service accounts, whose client settings
   * live in the SDK or the environment.
   */
  readonly persistClientConfig?: boolean;
}

