// `login <flow>`: one command per flow of the spec, its options, requirements
// and example written from the flow's own declaration.
import { AuthCore } from './auth-core.js';
import type { CommandSpec, OptionSpec } from './cli-args.js';
import { CliError, EXIT_OK, EXIT_USAGE, removeIfOnlyLock, type CliContext, type CliSpec, type LoginCommand, type Runner } from './cli-context.js';
import { printable, promptHidden } from './cli-output.js';
import { statusJson } from './cli-session.js';
import { ProfileError } from './errors.js';
import { existsSync } from 'node:fs';
import { normalizeProfileName, profileFolder, readProfileOptions, refuseLoginInto, type ClientOptions } from './profile.js';
import { clientSecretOf } from './client-options.js';
import { GRANTS, scopesToRequest } from './registry.js';
import type { CliLoginTerminal } from './grants/index.js';
import { clientAuthMethod, type ClientCredentials } from './client-auth/index.js';
import { openBrowser } from './browser.js';
import type { FlowDescriptor } from './settings.js';

function storageHelp(spec: CliSpec): string {
  const { env, disk } = spec.settings;
  return (
    `Where the refresh token and client secret are kept: "keychain" (the OS keychain; Planet's Python CLI cannot read it) or "file" (the profile's files). ` +
    `Default: the profile's own, else $${env.secretStorage} (or that key in ~/${disk.defaultsFile}), else file.`
  );
}

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
  options.push(...GRANTS[flow.grant].cli.options(doc));
  if (has('requestedScopes')) {
    options.push({ name: 'scope', value: 'SCOPE', multiple: true, help: `Scope to request. Default: the profile's, else ${scopesToRequest(flow.grant, spec.settings.defaultScopes).join(' ')}.` });
  }
  options.push({ name: 'storage', value: 'MODE', help: storageHelp(spec) });
  return options;
}

function loginExample(spec: CliSpec, login: LoginCommand, flow: FlowDescriptor): string {
  const parts = [`${spec.name} login ${login.command}`];
  const required = new Set(flow.options.filter((o) => o.required).map((o) => o.name));
  const method = clientAuthMethod(flow.tokenEndpointAuthMethod);
  if (required.has('clientId')) parts.push('--client-id my-client');
  if (method.cliExample !== '') parts.push(method.cliExample);
  parts.push(...GRANTS[flow.grant].cli.exampleArgs);
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
    const others = variants.slice(1).map((v) => `  - Or, with ${selector(v.flow)}: ${v.login.summary.charAt(0).toLowerCase()}${v.login.summary.slice(1)}`);
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
    // A secret in the OS keychain is read only when no newer one is given.
    existing: existing && {
      ...existing,
      get clientSecret() {
        return clientSecretOf(existing);
      },
    },
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
    ...GRANTS[flow.grant].cli.sessionOptions(v, existing),
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
    await GRANTS[flow.grant].cli.login(terminalOf(cli), auth, v);
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

/** The terminal primitives a grant's CLI login uses, on this command's output. */
function terminalOf(cli: CliContext): CliLoginTerminal {
  const out = cli.out;
  return {
    info: (text) => out.info(text),
    progress: (line) => out.progress(line),
    strong: (text) => out.strong(text),
    printable,
    openBrowser,
    qrCode: async (text) => {
      const { default: qrcode } = await import('qrcode-terminal');
      return new Promise<string>((resolve) => qrcode.generate(text, { small: true }, resolve));
    },
  };
}

/** All of `input` as text, without one trailing line break (what `echo` and most files end with). */
async function readSecret(input: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of input) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
  return Buffer.concat(chunks)
    .toString('utf8')
    .replace(/\r?\n$/, '');
}
