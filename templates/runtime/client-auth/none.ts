// none: a public client, such as a native application, holds no credential;
// it sends only its client ID (RFC 6749, section 2.1; with PKCE, RFC 7636).
import type { ClientAuthMethod } from './types.js';
import { CLIENT_AUTH_METHODS } from '../registry-public.js';

export const none: ClientAuthMethod<(typeof CLIENT_AUTH_METHODS)['none']> = {
  holds: 'nothing',
  options: CLIENT_AUTH_METHODS.none,
  see: 'https://www.rfc-editor.org/rfc/rfc6749#section-2.1 public clients (RFC 6749, section 2.1)',
  savedFields: [],
  profileFields: () => ({}),
  fromProfile: () => ({}),
  cliOptions: () => [],
  selectedBy: () => false,
  cliCredentials: async () => ({}),
  loginHintPrefix: () => '',
  cliExample: '',
  exampleValues: {},
  refusedHint: 'check the client ID, and that the server registered it as a public client',
  clientAuth: async (oidc) => oidc.None(),
};
