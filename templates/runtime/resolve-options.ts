// The options a factory was given, made whole: the spec's defaults applied,
// its `required` and the registry's types enforced, before a session exists.
import { holdsClientSecret, keepDeferredSecret, type ClientOptions } from './client-options.js';
import { ConfigError } from './errors.js';
import { requiredOptionsOf } from './client-auth/types.js';
import { GRANTS, OPTIONS, TOKEN_ENDPOINT_AUTH_METHODS, type OptionName } from './registry.js';
import type { FlowDescriptor } from './settings.js';

const OPTION_HINTS: Partial<Record<OptionName, string>> = {
  clientId: 'pass the client ID issued when the application was registered',
  clientSecret: "pass the service account's secret, for example from an environment variable",
  privateKey: "pass where the service account's private key is: a PEM or JWK file's path, or env:NAME",
  callbackUrl: 'pass the loopback URL registered for the client, such as http://127.0.0.1:8080/callback',
};

function isMissing(value: unknown): boolean {
  return value === undefined || value === null || (typeof value === 'string' && value.trim() === '');
}

function hasType(value: unknown, type: (typeof OPTIONS)[OptionName]['type']): boolean {
  switch (type) {
    case 'string':
      return typeof value === 'string';
    case 'string[]':
      return Array.isArray(value) && value.every((v) => typeof v === 'string');
    case 'boolean':
      return typeof value === 'boolean';
    case 'number':
      return typeof value === 'number' && Number.isFinite(value);
    case 'FetchFunction':
    case 'Logger':
      return typeof value === 'function';
    case 'ObjectStorageProvider':
      return typeof value === 'object' && value !== null;
  }
}

/**
 * The options a factory was given, with the spec's defaults applied and its
 * `required` and the registry's types enforced.
 */
export function resolveOptions(flow: FlowDescriptor, given: ClientOptions): ClientOptions {
  if (given === null || typeof given !== 'object') throw new ConfigError(`${flow.factory}() takes an options object`);
  const out: Record<string, unknown> = { ...given };
  for (const option of flow.options) {
    if (out[option.name] === undefined && option.default !== undefined) out[option.name] = option.default;
  }
  const required = new Set(flow.options.filter((o) => o.required).map((o) => o.name as string));
  // What the grant and the auth method need, whatever the spec said: the same registry the validator reads.
  for (const name of GRANTS[flow.grant].requiredOptions) required.add(name);
  for (const name of requiredOptionsOf(TOKEN_ENDPOINT_AUTH_METHODS[flow.tokenEndpointAuthMethod])) required.add(name);
  for (const name of required) {
    // A profile's secret in the OS keychain counts as given: it is read when a token request needs it.
    if (name === 'clientSecret' && holdsClientSecret(given)) continue;
    if (isMissing(out[name])) {
      const hint = OPTION_HINTS[name as OptionName] ?? `pass "${name}"`;
      throw new ConfigError(`${name} is required for ${flow.factory}(): ${hint}`);
    }
  }
  for (const [name, value] of Object.entries(out)) {
    const capability = (OPTIONS as Record<string, (typeof OPTIONS)[OptionName] | undefined>)[name];
    if (capability === undefined || value === undefined) continue;
    // A profile read from disk may pin "no audience" with null.
    if (name === 'audience' && value === null) continue;
    if (!hasType(value, capability.type)) {
      throw new ConfigError(`option ${name} of ${flow.factory}() must be ${capability.type === 'string[]' ? 'a list of strings' : `a ${capability.type}`}`);
    }
    // The registry's range, which the generator also holds the spec's defaults to.
    const range = 'range' in capability ? capability.range : undefined;
    if (range !== undefined && typeof value === 'number' && !(value > range.above && value <= range.max)) {
      throw new ConfigError(`option ${name} of ${flow.factory}() is ${value}, out of range: pass a number more than ${range.above} and at most ${range.max}`);
    }
  }
  return keepDeferredSecret(given, out as unknown as ClientOptions);
}
