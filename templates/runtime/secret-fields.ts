// The fields of the objects the SDK stores that hold secrets, in one list:
// the keychain mode moves them out of the files, and application storage
// (the Redis provider's encryption) seals them. A token binding's fields
// (a DPoP key) come from its module.
import { boundFields } from './token-binding/index.js';

/**
 * Fields of the objects the SDK stores (`token.json`, `auth_client.json`)
 * that hold secrets: refresh tokens, client secrets and the keys tokens are
 * bound to. Storage that encrypts secrets at rest encrypts these.
 *
 * @group Storage
 */
export const SECRET_FIELDS: readonly string[] = Object.freeze(['refresh_token', 'client_secret', 'private_key', ...boundFields()]);
