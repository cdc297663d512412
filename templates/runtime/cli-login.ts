// `login <flow>`: one command per flow of the spec, its options, requirements
// and example written from the flow's own declaration.
import { AuthCore, type DeviceLoginInfo } from './auth-core.js';
import type { CommandSpec, OptionSpec } from './cli-args.js';
import { CliError, EXIT_OK, EXIT_USAGE, removeIfOnlyLock, type CliContext, type CliSpec, type LoginCommand, type Runner } from './cli-context.js';
import { printable, promptHidden } from './cli-output.js';
import { statusJson } from './cli-session.js';
import { ProfileError } from './errors.js';
import { existsSync } from 'node:fs';
import { SECRET_STORAGE_SETTING } from './keychain.js';
import { normalizeProfileName, profileFolder, readProfileOptions, refuseLoginInto, type ClientOptions } from './profile.js';
import { clientSecretOf } from './client-options.js';
import { scopesToRequest } from './registry.js';
import { openBrowser } from './browser.js';
import type { FlowDescriptor } from './settings.js';

const DEFAULT_CALLBACK = 'http://127.0.0.1:0/callback';

const storageHelp =
  `Where the refresh token and client secret are kept: "keychain" (the OS keychain; Planet's Python CLI cannot read it) or "file" (the profile's files). ` +
  `Default: the profile's own, else $${SECRET_STORAGE_SETTING} (or that key in ~/.planet.json), else file.`;

function loginOptions(spec: CliSpec, login: LoginCommand, flow: FlowDescriptor): OptionSpec[] {
  const { env } = spec.settings;
  const doc = (name: keyof LoginCommand['optionDocs'], fallback: string) => login.optionDocs[name] ?? fallback;
  const has = (name: string) => flow.options.some((o) => o.name === name);
  const options: OptionSpec[] = [];
  if (has('clientId')) {
    const fromEnv = has('clientSecret') ? `, else $${env.clientId}` : '';
    options.push({ name: 'client-id', value: 'ID', help: `${doc('clientId', 'Client ID.')} Default: the profile's${fromEnv}.` });
  }
  if (has('clientSecret')) {
    options.push(
      {
        name: 'client-secret',
        value: 'SECRET',
        conflicts: ['client-secret-stdin'],
        help: `${doc('clientSecret', 'Client secret.')} Prefer --client-secret-stdin, $${env.clientSecret} or the prompt: a command line is visible to other users.`,
      },
      { name: 'client-secret-stdin', conflicts: ['client-secret'], help: 'Read the client secret from standard input (a pipe or a file), up to its end; one trailing line break is dropped.' },
    );
  }
  if (has('callbackUrl')) options.push({ name: 'callback-url', value: 'URL', help: `${doc('callbackUrl', 'Loopback callback URL.')} Default: the profile's, else ${DEFAULT_CALLBACK}.` });
  if (has('requestedScopes')) {
    options.push({ name: 'scope', value: 'SCOPE', multiple: true, help: `Scope to request. Default: the profile's, else ${scopesToRequest(flow.grant, spec.settings.defaultScopes).join(' ')}.` });
  }
  if (flow.grant === 'authorization_code') {
    options.push(
      { name: 'open-browser', help: 'Open the login page in the browser (the default)', conflicts: ['no-open-browser'] },
      { name: 'no-open-browser', help: 'Print the login URL instead of opening a browser', conflicts: ['open-browser'] },
    );
  }
  if (flow.grant === 'device_code') {
    options.push(
      { name: 'show-qr-code', help: 'Also draw the login URL as a QR code, for a phone' },
      // Accepted as the Python CLI accepts them: this machine may open the verification page too.
      { name: 'open-browser', help: 'Also open the verification page in a browser on this machine', conflicts: ['no-open-browser'] },
      { name: 'no-open-browser', help: 'Only print the verification page (the default)', conflicts: ['open-browser'] },
    );
  }
  options.push({ name: 'storage', value: 'MODE', help: storageHelp });
  return options;
}

function loginExample(spec: CliSpec, login: LoginCommand, flow: FlowDescriptor): string {
  const parts = [`${spec.name} login ${login.command}`];
  const required = new Set(flow.options.filter((o) => o.required).map((o) => o.name));
  if (required.has('clientId')) parts.push('--client-id my-client');
  if (required.has('callbackUrl')) parts.push('--callback-url http://127.0.0.1:8080/callback');
  if (flow.grant === 'device_code') parts.push('--show-qr-code');
  parts.push('--profile work');
  const secret = required.has('clientSecret') ? `${spec.settings.env.clientSecret}=... ` : '';
  return secret + parts.join(' ');
}

export function loginCommands(spec: CliSpec): CommandSpec<Runner>[] {
  return spec.logins.map((login) => {
    const flow = spec.settings.flows.find((f) => f.id === login.flowId)!;
    return {
      path: ['login', login.command],
      summary: login.summary,
      description: ['Needs:', ...login.requirements.map((r) => `  - ${r}`), '', 'The session is saved under --profile (default: the client ID) and becomes the default profile when none is set.'],
      args: [],
      options: loginOptions(spec, login, flow),
      examples: [loginExample(spec, login, flow)],
      run: (cli, call) => runLogin(cli, login, flow, call.options),
    };
  });
}

function existingOptions(cli: CliContext, profile: string): ClientOptions | undefined {
  try {
    return readProfileOptions(cli.settings, profile).options;
  } catch (error) {
    if (error instanceof ProfileError) return undefined;
    throw error;
  }
}

async function runLogin(cli: CliContext, login: LoginCommand, flow: FlowDescriptor, v: Readonly<Record<string, unknown>>): Promise<number> {
  const { settings, io, out } = cli;
  const named = cli.profileName(v['profile']);
  const existing = named !== undefined ? existingOptions(cli, named) : undefined;
  const needsSecret = flow.options.some((o) => o.name === 'clientSecret');
  const env = (name: string) => (io.env[name] === '' ? undefined : io.env[name]);
  const usage = (message: string, hint: string) => new CliError('ERR_USAGE', message, hint, EXIT_USAGE);

  const clientId = (v['client-id'] as string | undefined) ?? existing?.clientId ?? (needsSecret ? env(settings.env.clientId) : undefined);
  if (!clientId) throw usage('missing client ID', `pass --client-id${needsSecret ? ` or set ${settings.env.clientId}` : ''}; see ${cli.command(`help login ${login.command}`)}`);
  let clientSecret: string | undefined;
  if (needsSecret) {
    if (v['client-secret-stdin'] === true) {
      if (io.stdin.isTTY)
        throw usage(
          '--client-secret-stdin reads a pipe or a file, and standard input is a terminal',
          `pipe it in, such as ${cli.command(`login ${login.command} --client-secret-stdin < secret.txt`)}, or leave the option out to be asked for it`,
        );
      clientSecret = await readSecret(io.stdin);
      if (!clientSecret) throw usage('--client-secret-stdin read no secret: standard input was empty', `pipe it in, such as ${cli.command(`login ${login.command} --client-secret-stdin < secret.txt`)}`);
    }
    clientSecret ??= (v['client-secret'] as string | undefined) ?? env(settings.env.clientSecret) ?? (existing ? clientSecretOf(existing) : undefined);
    if (!clientSecret && io.stdin.isTTY) clientSecret = await promptHidden(io, 'Client secret: ');
    if (!clientSecret) throw usage('missing client secret', `set ${settings.env.clientSecret} (or pass --client-secret); see ${cli.command(`help login ${login.command}`)}`);
  }
  const scopes = (v['scope'] as readonly string[] | undefined) ?? existing?.requestedScopes;
  const options: ClientOptions = {
    clientId,
    ...(clientSecret ? { clientSecret } : {}),
    ...(flow.grant === 'authorization_code' ? { callbackUrl: (v['callback-url'] as string | undefined) ?? existing?.callbackUrl ?? DEFAULT_CALLBACK } : {}),
    ...(scopes && scopes.length > 0 ? { requestedScopes: scopes } : {}),
    ...(named !== undefined ? { profileName: named } : {}),
    ...(v['storage'] !== undefined ? { secretStorage: v['storage'] as string } : {}),
    ...(existing?.issuer ? { issuer: existing.issuer } : {}),
    ...(existing?.audience ? { audience: existing.audience } : {}),
    // A built-in profile's client settings live in the SDK: logging in there writes no auth_client.json.
    ...(existing?.persistClientConfig === false && existing.clientId === clientId ? { persistClientConfig: false } : {}),
  };
  refuseLoginInto(settings, named ?? normalizeProfileName(clientId), clientId);
  const auth = new AuthCore(settings, flow.id, options);
  cli.current = auth;
  const folder = profileFolder(settings, auth.profileName);
  const newProfile = !existsSync(folder);
  try {
    await loginWith(cli, auth, flow, v);
  } catch (error) {
    // A first login that failed leaves no folder behind (the lock it took would look like a broken profile).
    if (newProfile) removeIfOnlyLock(folder);
    throw error;
  }
  const madeDefault = cli.savedDefault() === undefined;
  if (madeDefault) await cli.writeDefaults({ ...cli.readDefaults(), [settings.env.profile]: auth.profileName });
  const status = await auth.sessionStatus();
  out.data({ ...statusJson(status), default_profile: madeDefault });
  out.result(`Logged in: profile ${out.strong(status.profile)} (${login.command}).`);
  if (madeDefault && !out.json) out.info(`"${status.profile}" is now the default profile.`);
  return EXIT_OK;
}

async function loginWith(cli: CliContext, auth: AuthCore, flow: FlowDescriptor, v: Readonly<Record<string, unknown>>): Promise<void> {
  const { out } = cli;

  if (flow.grant === 'authorization_code') {
    const waiting = () => out.progress((spin) => `${spin} Waiting for the login in the browser...`);
    let stop = (): void => undefined;
    let finished = false;
    try {
      await auth.userLogin({
        allowOpenBrowser: v['no-open-browser'] !== true,
        // The URL first, then the spinner below it: nothing redraws over the URL.
        onAuthorizationUrl: (url, opening) => {
          out.info(`${opening ? 'Opening a browser to log in. If none opens, open this URL in a browser' : 'Open this URL in a browser to log in'}:\n\n  ${url}\n`);
          stop = waiting();
          void opening?.then((opened) => {
            if (opened || finished) return;
            stop();
            out.info('No browser could be opened here: open the URL above in a browser on this machine.');
            stop = waiting();
          });
        },
      });
    } finally {
      finished = true;
      stop();
    }
  } else if (flow.grant === 'device_code') {
    const info = await auth.deviceUserLoginInitiate();
    await showDeviceLogin(cli, info, v['show-qr-code'] === true);
    if (v['open-browser'] === true && !(await openBrowser(info.verificationUriComplete ?? info.verificationUri))) out.info('No browser could be opened here: open the page above on any device.');
    const deadline = Date.now() + info.expiresIn * 1000;
    const stop = out.progress((spin) => {
      const left = Math.max(0, Math.round((deadline - Date.now()) / 1000));
      return `${spin} Waiting for the login to complete... ${Math.floor(left / 60)}:${String(left % 60).padStart(2, '0')} left`;
    });
    try {
      await auth.deviceUserLoginComplete(info);
    } finally {
      stop();
    }
  } else {
    await auth.userLogin();
  }
}

/** All of `input` as text, without one trailing line break (what `echo` and most files end with). */
async function readSecret(input: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of input) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
  return Buffer.concat(chunks)
    .toString('utf8')
    .replace(/\r?\n$/, '');
}

async function showDeviceLogin(cli: CliContext, info: DeviceLoginInfo, qr: boolean): Promise<void> {
  const out = cli.out;
  const code = out.strong(printable(info.userCode));
  if (info.verificationUriComplete) out.info(`To log in, open ${printable(info.verificationUriComplete)}\nand check that it shows the code ${code}.`);
  else out.info(`To log in, open ${printable(info.verificationUri)}\nand enter the code ${code}.`);
  if (qr) {
    const target = info.verificationUriComplete ?? info.verificationUri;
    const { default: qrcode } = await import('qrcode-terminal');
    const rendered = await new Promise<string>((resolve) => qrcode.generate(target, { small: true }, resolve));
    out.info(rendered);
  }
}
