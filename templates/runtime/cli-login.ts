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
import { scopesToRequest } from './registry.js';
import { clientAuthMethod, type ClientCredentials } from './client-auth/index.js';
import { openBrowser } from './browser.js';
import type { FlowDescriptor } from './settings.js';

const DEFAULT_CALLBACK = 'http://127.0.0.1:0/callback';

const storageHelp =
  `Where the refresh token and client secret are kept: "keychain" (the OS keychain; Planet's Python CLI cannot read it) or "file" (the profile's files). ` +
  `Default: the profile's own, else $${SECRET_STORAGE_SETTING} (or that key in ~/.planet.json), else file.`;

function loginOptions(spec: CliSpec, login: LoginCommand, flow: FlowDescriptor): OptionSpec[] {
  const { env } = spec.settings;
  const doc = (name: string, fallback: string) => login.optionDocs[name as keyof LoginCommand['optionDocs']] ?? fallback;
  const has = (name: string) => flow.options.some((o) => o.name === name);
  const method = clientAuthMethod(flow.tokenEndpointAuthMethod);
  const options: OptionSpec[] = [];
  if (has('clientId')) {
    const fromEnv = method.holds !== 'nothing' ? `, else $${env.clientId}` : '';
    options.push({ name: 'client-id', value: 'ID', help: `${doc('clientId', 'Client ID.')} Default: the profile's${fromEnv}.` });
  }
  options.push(...method.cliOptions(env.clientSecret, doc));
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
  const method = clientAuthMethod(flow.tokenEndpointAuthMethod);
  if (required.has('clientId')) parts.push('--client-id my-client');
  if (method.cliExample !== '') parts.push(method.cliExample);
  if (required.has('callbackUrl')) parts.push('--callback-url http://127.0.0.1:8080/callback');
  if (flow.grant === 'device_code') parts.push('--show-qr-code');
  parts.push('--profile work');
  return method.loginHintPrefix(spec.settings.env.clientSecret) + parts.join(' ');
}

/** Flows that share one login command (the same grant with different client authentication), as one command. */
interface LoginVariants {
  readonly login: LoginCommand;
  readonly variants: readonly { readonly login: LoginCommand; readonly flow: FlowDescriptor }[];
}

/** The option that asks a shared login command for `flow`'s client authentication, such as `--private-key`. */
function selector(flow: FlowDescriptor): string {
  const first = clientAuthMethod(flow.tokenEndpointAuthMethod).cliOptions('', (_name, fallback) => fallback)[0];
  return first !== undefined ? `--${first.name}` : `no credential option`;
}

function groupedLogins(spec: CliSpec): LoginVariants[] {
  const groups = new Map<string, { login: LoginCommand; flow: FlowDescriptor }[]>();
  for (const login of spec.logins) {
    const flow = spec.settings.flows.find((f) => f.id === login.flowId)!;
    const group = groups.get(login.command) ?? [];
    group.push({ login, flow });
    groups.set(login.command, group);
  }
  return [...groups.values()].map((variants) => ({ login: variants[0]!.login, variants }));
}

export function loginCommands(spec: CliSpec): CommandSpec<Runner>[] {
  return groupedLogins(spec).map(({ login, variants }) => {
    const options = new Map<string, OptionSpec>();
    for (const v of variants) for (const option of loginOptions(spec, v.login, v.flow)) if (!options.has(option.name)) options.set(option.name, option);
    const others = variants.slice(1).map((v) => `  - Or, with ${selector(v.flow)}: ${v.login.summary}`);
    return {
      path: ['login', login.command],
      summary: login.summary,
      description: ['Needs:', ...login.requirements.map((r) => `  - ${r}`), ...others, '', 'The session is saved under --profile (default: the client ID) and becomes the default profile when none is set.'],
      args: [],
      options: [...options.values()],
      examples: variants.map((v) => loginExample(spec, v.login, v.flow)),
      run: (cli, call) => {
        const chosen = chooseVariant(cli, variants, call.options);
        return runLogin(cli, chosen.login, chosen.flow, chosen.existing, call.options);
      },
    };
  });
}

function existingProfile(cli: CliContext, profile: string | undefined): { flowId: string; options: ClientOptions } | undefined {
  if (profile === undefined) return undefined;
  try {
    return readProfileOptions(cli.settings, profile);
  } catch (error) {
    if (error instanceof ProfileError) return undefined;
    throw error;
  }
}

/** The flow a login command means: the one whose credential options were given, else the profile's own, else the first. */
function chooseVariant(cli: CliContext, variants: LoginVariants['variants'], v: Readonly<Record<string, unknown>>): LoginVariants['variants'][number] & { existing: ClientOptions | undefined } {
  const saved = existingProfile(cli, cli.profileName(v['profile']));
  const asked = variants.filter((x) => clientAuthMethod(x.flow.tokenEndpointAuthMethod).selectedBy(v));
  if (asked.length > 1) {
    const names = asked.map((x) => selector(x.flow)).join(' or ');
    throw new CliError('ERR_USAGE', `the options ask for more than one way to authenticate the client`, `pass either ${names}, not both`, EXIT_USAGE);
  }
  const chosen = asked[0] ?? variants.find((x) => x.flow.id === saved?.flowId) ?? variants[0]!;
  // A profile logged in again with another kind of credential keeps its settings, not the other credential.
  const existing = saved === undefined || saved.flowId === chosen.flow.id ? saved?.options : { ...saved.options, clientSecret: undefined, privateKey: undefined, privateKeyId: undefined };
  return { ...chosen, existing };
}

async function runLogin(cli: CliContext, login: LoginCommand, flow: FlowDescriptor, existing: ClientOptions | undefined, v: Readonly<Record<string, unknown>>): Promise<number> {
  const { settings, io, out } = cli;
  const named = cli.profileName(v['profile']);
  const method = clientAuthMethod(flow.tokenEndpointAuthMethod);
  const env = (name: string) => (io.env[name] === '' ? undefined : io.env[name]);
  const usage = (message: string, hint: string) => new CliError('ERR_USAGE', message, hint, EXIT_USAGE);

  const clientId = (v['client-id'] as string | undefined) ?? existing?.clientId ?? (method.holds !== 'nothing' ? env(settings.env.clientId) : undefined);
  if (!clientId) throw usage('missing client ID', `pass --client-id${method.holds !== 'nothing' ? ` or set ${settings.env.clientId}` : ''}; see ${cli.command(`help login ${login.command}`)}`);
  const credentials = await method.cliCredentials({
    values: v,
    env,
    existing,
    secretEnv: settings.env.clientSecret,
    stdinIsTTY: io.stdin.isTTY === true,
    readStdin: () => readSecret(io.stdin),
    promptHidden: (question) => promptHidden(io, question),
    usage,
    command: (text) => cli.command(text),
    login: login.command,
  });
  const scopes = (v['scope'] as readonly string[] | undefined) ?? existing?.requestedScopes;
  const options: ClientOptions = {
    clientId,
    ...(Object.fromEntries(Object.entries(credentials).filter(([, value]) => value !== undefined && value !== '')) as ClientCredentials),
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
