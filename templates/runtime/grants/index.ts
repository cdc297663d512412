// The grant modules, as the registry lists them (GRANTS in registry.ts).
// Adding a grant means a module beside these, its line in GRANTS, and a flow YAML.
import { GRANTS, type GrantType } from '../registry.js';
import type { ClientOptions } from '../client-options.js';
import type { Grant } from './types.js';

export const GRANT_MODULES: { readonly [grant in GrantType]: Grant } = GRANTS;

const grants: readonly Grant[] = Object.values(GRANTS);

/** Every `auth_client.json` field a grant keeps something of its own in (the callback URL). */
export const GRANT_PROFILE_FIELDS: readonly string[] = [...new Set(grants.flatMap((g) => g.profile.savedFields))];

/** The session options the grants' fields of an `auth_client.json` give back, whichever grant wrote them. */
export function grantOptionsFromProfile(config: Readonly<Record<string, unknown>>): Partial<ClientOptions> {
  return Object.assign({}, ...grants.map((g) => g.profile.fromProfile(config))) as Partial<ClientOptions>;
}

export type { GrantProfile } from './types.js';
export type { CliLoginSession, CliLoginTerminal, DeviceLoginInfo, Grant, GrantCli, GrantContext, GrantExample, LoginResult, TokenResponse, UserLoginOptions } from './types.js';
