// Bearer tokens (RFC 6750): whoever holds the access token may use it. No
// key, no proof: `Authorization: Bearer <token>` on every API call.
import type { BoundSession, TokenBinding } from './types.js';

const bearerSession: BoundSession = {
  forLogin: () => Promise.resolve(undefined),
  keyOf: () => Promise.resolve(undefined),
  requestOptions: () => ({}),
  bind: (response) => response,
  bindRefresh: (response) => ({ response }),
  headers: (_file, _location, token) => Promise.resolve({ authorization: `Bearer ${token}` }),
  answered: () => false,
};

export const bearer: TokenBinding = {
  see: 'https://www.rfc-editor.org/rfc/rfc6750 bearer tokens (RFC 6750)',
  grants: ['authorization_code', 'device_code', 'client_credentials'],
  savedFields: [],
  holds: () => false,
  check: () => undefined,
  session: () => bearerSession,
};
