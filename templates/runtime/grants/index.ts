// The grant modules, one per grant the registry lists. Adding a grant means
// a module beside these, its entry here and in registry.ts, and a flow YAML.
import type { GrantType } from '../registry.js';
import { authorizationCode } from './authorization-code.js';
import { clientCredentials } from './client-credentials.js';
import { deviceCode } from './device-code.js';
import type { Grant } from './types.js';

export const GRANT_MODULES: { readonly [grant in GrantType]: Grant } = {
  authorization_code: authorizationCode,
  device_code: deviceCode,
  client_credentials: clientCredentials,
};

export type { DeviceLoginInfo, Grant, GrantContext, LoginResult, TokenResponse, UserLoginOptions } from './types.js';
