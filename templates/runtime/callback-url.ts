// Checks a loopback callback URL (RFC 8252, section 7.3) without loading the
// listener, so reading a saved profile never loads node:http.
import { ConfigError } from './errors.js';

export function parseCallbackUrl(callbackUrl: string): URL {
  let url: URL;
  try {
    url = new URL(callbackUrl);
  } catch {
    throw new ConfigError(`callbackUrl ${JSON.stringify(callbackUrl)} is not a URL; use a loopback URL such as http://127.0.0.1:8080/callback`);
  }
  if (url.protocol !== 'http:' || !['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname)) {
    throw new ConfigError(`callbackUrl ${callbackUrl} must be an http URL on 127.0.0.1 or localhost, such as http://127.0.0.1:8080/callback`);
  }
  return url;
}
