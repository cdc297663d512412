// The grant modules, as the registry lists them (GRANTS in registry.ts).
// Adding a grant means a module beside these, its line in GRANTS, and a flow YAML.
import { GRANTS, type GrantType } from '../registry.js';
import type { Grant } from './types.js';

export const GRANT_MODULES: { readonly [grant in GrantType]: Grant } = GRANTS;

export type { CliLoginSession, CliLoginTerminal, DeviceLoginInfo, Grant, GrantCli, GrantContext, GrantExample, LoginResult, TokenResponse, UserLoginOptions } from './types.js';
