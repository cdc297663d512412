// client_secret_post: the client ID and secret travel in the request body (RFC 6749, section 2.3.1).
import { secretMethod } from './secret.js';

export const clientSecretPost = secretMethod('https://www.rfc-editor.org/rfc/rfc6749#section-2.3.1 client password (RFC 6749, section 2.3.1)', (oidc, secret) => oidc.ClientSecretPost(secret));
