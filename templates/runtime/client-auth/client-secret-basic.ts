// client_secret_basic: the client ID and secret travel in an HTTP Basic Authorization header (RFC 6749, section 2.3.1).
import { secretMethod } from './secret.js';

export const clientSecretBasic = secretMethod('https://www.rfc-editor.org/rfc/rfc6749#section-2.3.1 client password (RFC 6749, section 2.3.1)', (oidc, secret) => oidc.ClientSecretBasic(secret));
