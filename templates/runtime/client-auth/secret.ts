// What the two shared-secret methods have in common: the client holds a
// secret, the CLI reads it from a pipe, an option, the environment or a
// prompt, and the profile keeps it as `client_secret` (as Planet's Python
// CLI does). They differ only in where the request carries it.
import type * as OidcClient from 'openid-client';
import type { ClientAuthMethod, ClientCredentials, CliCredentialContext, ExampleValue } from './types.js';
import { SECRET_OPTIONS } from '../registry-public.js';

function stringField(config: Readonly<Record<string, unknown>>, field: string): string | undefined {
  const value = config[field];
  return typeof value === 'string' && value !== '' ? value : undefined;
}

async function cliSecret(c: CliCredentialContext): Promise<ClientCredentials> {
  let clientSecret: string | undefined;
  if (c.values['client-secret-stdin'] === true) {
    if (c.stdinIsTTY) {
      throw c.usage(
        '--client-secret-stdin reads a pipe or a file, and standard input is a terminal',
        `pipe it in, such as ${c.command(`login ${c.login} --client-secret-stdin < secret.txt`)}, or leave the option out to be asked for it`,
      );
    }
    clientSecret = await c.readStdin();
    if (!clientSecret) throw c.usage('--client-secret-stdin read no secret: standard input was empty', `pipe it in, such as ${c.command(`login ${c.login} --client-secret-stdin < secret.txt`)}`);
  }
  clientSecret ??= (c.values['client-secret'] as string | undefined) ?? c.env(c.secretEnv) ?? c.existing?.clientSecret;
  if (!clientSecret && c.stdinIsTTY) clientSecret = await c.promptHidden('Client secret: ');
  if (!clientSecret) throw c.usage('missing client secret', `set ${c.secretEnv} (or pass --client-secret); see ${c.command(`help login ${c.login}`)}`);
  return { clientSecret };
}

/**
 * A shared-secret method (its entry in `CLIENT_AUTH_METHODS` is
 * `SECRET_OPTIONS`); `sendSecret` is openid-client's way of carrying the
 * secret, and `exampleValues` what an example passes for the client ID and
 * secret (by default the service account's example variables).
 */
export function secretMethod(
  see: string,
  sendSecret: (oidc: typeof OidcClient, secret: string) => OidcClient.ClientAuth,
  exampleValues: Readonly<Record<string, ExampleValue>> = { clientSecret: { env: 'm2mClientSecret', fallback: '' } },
): ClientAuthMethod<typeof SECRET_OPTIONS> {
  return {
    holds: 'secret',
    options: SECRET_OPTIONS,
    see,
    savedFields: ['client_secret'],
    profileFields: (options): Record<string, string> => (options.clientSecret ? { client_secret: options.clientSecret } : {}),
    fromProfile: (config) => ({ clientSecret: stringField(config, 'client_secret') }),
    cliOptions: (secretEnv, doc) => [
      {
        name: 'client-secret',
        value: 'SECRET',
        conflicts: ['client-secret-stdin'],
        help: `${doc('clientSecret', 'Client secret.')} Prefer --client-secret-stdin, $${secretEnv} or the prompt: a command line is visible to other users.`,
      },
      { name: 'client-secret-stdin', conflicts: ['client-secret'], help: 'Read the client secret from standard input (a pipe or a file), up to its end; one trailing line break is dropped.' },
    ],
    selectedBy: (values) => values['client-secret'] !== undefined || values['client-secret-stdin'] === true,
    cliCredentials: cliSecret,
    loginHintPrefix: (secretEnv) => `${secretEnv}=... `,
    cliExample: '',
    exampleValues,
    refusedHint: 'check the client ID and secret, and the token endpoint auth method the server expects',
    clientAuth: async (oidc, credentials) => sendSecret(oidc, credentials.clientSecret ?? ''),
  };
}
