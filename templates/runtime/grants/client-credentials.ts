// The client credentials grant (RFC 6749, section 4.4): a service account
// logs in with its client ID and its secret or private key, no person
// involved, whenever the session has no usable token.
import { NOTHING_SAVED, type Grant } from './types.js';

export const clientCredentials: Grant = {
  // Its credential (a secret or a private key) is what its auth method requires.
  requiredOptions: ['clientId'],
  publicClients: false,
  see: 'https://www.rfc-editor.org/rfc/rfc6749#section-4.4 client credentials grant (RFC 6749, section 4.4)',
  unattended: true,
  profile: NOTHING_SAVED,
  cli: {
    options: () => [],
    exampleArgs: [],
    sessionOptions: () => ({}),
    login: async (_terminal, session) => {
      await session.userLogin();
    },
  },
  example: {
    who: 'The service account',
    login: ['await auth.userLogin();'],
    ensureComment: 'Reuse the saved session, refresh it if it expired, or log in when there is none.',
    ensureArguments: '',
    clientId: { env: 'm2mClientId', fallback: 'your-service-account-client-id' },
  },
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
