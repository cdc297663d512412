// The client credentials grant (RFC 6749, section 4.4): a service account
// logs in with its client ID and secret, no person involved, whenever the
// session has no usable token.
import type { Grant } from './types.js';

export const clientCredentials: Grant = {
  unattended: true,
  async login(context) {
    context.log.debug('client credentials login', { scopes: context.scopes.join(' ') });
    try {
      const response = await context.oidc.clientCredentialsGrant(context.config, context.parameters({ scope: context.scopes.join(' ') }), context.requestOptions);
      return { response: response as unknown as Record<string, unknown> };
    } catch (error) {
      throw context.protocolError(error, 'the client credentials login');
    }
  },
};
