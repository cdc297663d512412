// `profile list|show|set|remove|copy`: the profiles kept under ~/.planet.
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { AuthCore } from './auth-core.js';
import type { CommandSpec } from './cli-args.js';
import { CliError, EXIT_FAILURE, EXIT_NOT_LOGGED_IN, EXIT_OK, EXIT_USAGE, type Call, type CliContext, type CliSpec, type Runner } from './cli-context.js';
import { confirm, printable } from './cli-output.js';
import { endSession } from './cli-session.js';
import { CLIENT_FILE, homeDir, listProfiles, parseClientConfig, profileFolder, profileKey, readJsonFileSync, readProfileOptions } from './profile.js';
import { KEYCHAIN_REFERENCE } from './keychain.js';
import { TOKEN_BINDINGS } from './registry.js';
import { SessionFileStore, forgetProfileSecrets, secretStorageOption } from './secret-store.js';

function notFound(cli: CliContext, profile: string): CliError {
  return new CliError('ERR_PROFILE', `profile "${profile}" does not exist`, `see ${cli.command('profile list')}`, EXIT_NOT_LOGGED_IN);
}

function named(cli: CliContext, call: Call, arg: string): string {
  return cli.profileName(call.args[arg])!;
}

async function list(cli: CliContext): Promise<number> {
  const current = cli.currentDefault();
  const rows = listProfiles(cli.settings).map((p) => ({
    profile: p.name,
    usable: p.usable,
    ...(p.reason !== undefined ? { reason: p.reason } : {}),
    builtin: p.builtin,
    client_type: p.clientType ?? null,
    logged_in: p.hasSession,
    secrets: p.secrets,
    token_binding: p.tokenBinding ?? null,
    // Kept beside token_binding, which says the same for every binding: scripts read it since DPoP came.
    dpop: p.tokenBinding === 'dpop',
    default: p.name === current,
  }));
  const listing = (binding: keyof typeof TOKEN_BINDINGS | null) => (binding === null ? undefined : TOKEN_BINDINGS[binding].listing);
  cli.out.data(rows);
  if (rows.length === 0) cli.out.result(`No profiles in ~/${cli.settings.disk.root}/; log in with ${cli.command('login')}.`);
  for (const r of rows) {
    // Secrets in files are the default (and what the Python CLI reads): only the keychain is marked; --json says it for every profile.
    const state = r.usable
      ? `${(r.client_type ?? '').padEnd(32)} ${r.secrets === 'keychain' || listing(r.token_binding) ? `${(r.logged_in ? 'logged in' : 'logged out').padEnd(10)}  ${[r.secrets === 'keychain' ? 'secrets in OS keychain' : '', listing(r.token_binding)?.label ?? ''].filter(Boolean).join(', ')}` : r.logged_in ? 'logged in' : 'logged out'}`
      : `cannot be used: ${printable(r.reason ?? 'unknown')}`;
    cli.out.result(`${r.default ? '*' : ' '} ${printable(r.profile).padEnd(24)} ${state}`);
  }
  for (const shown of new Set(rows.map((r) => listing(r.token_binding)))) if (shown) cli.out.info(`${shown.label} profiles: ${shown.pythonCli}.`);
  if (rows.some((r) => r.secrets === 'keychain')) cli.out.info("Profiles with secrets in the OS keychain cannot be used by Planet's Python CLI; keep secrets in files for a profile both CLIs use.");
  return EXIT_OK;
}

async function show(cli: CliContext, call: Call): Promise<number> {
  const profile = cli.profileName(call.args['NAME']) ?? cli.profileName(call.options['profile']) ?? cli.currentDefault();
  const path = join(profileFolder(cli.settings, profile), CLIENT_FILE);
  const data = readJsonFileSync(path);
  let shown: Record<string, unknown>;
  if (data !== undefined) {
    const config = parseClientConfig(path, data);
    const { [KEYCHAIN_REFERENCE]: reference, ...fields } = config;
    const inKeychain = reference !== undefined ? { secrets: `in the OS keychain (service ${JSON.stringify((reference as { service?: unknown }).service)})` } : {};
    shown = { profile, ...fields, ...(config.client_secret ? { client_secret: '(hidden)' } : {}), ...inKeychain };
  } else {
    if (!cli.profileExists(profile)) throw notFound(cli, profile);
    const { flowId, options } = readProfileOptions(cli.settings, profile);
    shown = { profile, flow: flowId, client_id: options.clientId, auth_server: options.issuer ?? null, scopes: options.requestedScopes ?? [] };
  }
  cli.out.data(shown);
  for (const [k, value] of Object.entries(shown)) cli.out.result(`${k.padEnd(20)} ${printable(Array.isArray(value) ? value.join(' ') : String(value))}`);
  return EXIT_OK;
}

async function set(cli: CliContext, call: Call): Promise<number> {
  const profile = named(cli, call, 'NAME');
  if (!cli.profileExists(profile)) throw notFound(cli, profile);
  await cli.writeDefaults({ ...cli.readDefaults(), [cli.settings.env.profile]: profile });
  cli.out.data({ default_profile: profile });
  cli.out.result(`Default profile: ${profile}.`);
  return EXIT_OK;
}

async function remove(cli: CliContext, call: Call): Promise<number> {
  const { out, io, spec } = cli;
  const profile = named(cli, call, 'NAME');
  const folder = profileFolder(cli.settings, profile);
  if (!existsSync(folder)) throw notFound(cli, profile);
  if (call.options['yes'] !== true) {
    if (!io.stdin.isTTY) {
      throw new CliError('ERR_USAGE', `removing profile "${profile}" needs a confirmation, and there is no terminal to ask on`, `run ${cli.command(`profile remove ${profile} --yes`)}`, EXIT_USAGE);
    }
    if (!(await confirm(io, `Remove profile "${profile}" (~/${cli.settings.disk.root}/${profile}: client settings and session)? [y/N] `))) {
      throw new CliError('ERR_CANCELLED', `profile "${profile}" was not removed`, `run ${cli.command(`profile remove ${profile}`)} and answer "y"`, EXIT_FAILURE);
    }
  }
  let revoked = false;
  let notRevoked: string | undefined;
  try {
    const { flowId, options } = readProfileOptions(cli.settings, profile);
    const auth = new AuthCore(cli.settings, flowId, options);
    if ((await auth.sessionStatus()).loggedIn) {
      const result = await endSession(auth, true);
      revoked = result.revoked;
      notRevoked = result.warning;
    }
  } catch (error) {
    // A profile that cannot be read does not stop the removal the user asked for.
    notRevoked = (error as Error).message;
  }
  // Before the files go: they name the keychain entries to remove.
  await forgetProfileSecrets(cli.settings, profile);
  rmSync(folder, { recursive: true, force: true });
  const wasDefault = cli.savedDefault() === profile;
  if (wasDefault) {
    const { [cli.settings.env.profile]: _dropped, ...rest } = cli.readDefaults();
    await cli.writeDefaults(rest);
  }
  out.data({ removed: profile, revoked, ...(notRevoked ? { not_revoked: notRevoked } : {}), was_default: wasDefault });
  if (notRevoked) out.info(`${spec.name}: warning: the session was not revoked at the server: ${printable(notRevoked)}`);
  out.result(`Removed profile ${profile}${revoked ? ' (session revoked)' : ''}.`);
  if (wasDefault) out.result(`It was the default profile; choose another with ${cli.command('profile set NAME')}.`);
  return EXIT_OK;
}

async function copy(cli: CliContext, call: Call): Promise<number> {
  const source = named(cli, call, 'SOURCE');
  const target = named(cli, call, 'TARGET');
  if (source === target) throw new CliError('ERR_USAGE', 'SOURCE and TARGET are the same profile', `name a new profile, as in ${cli.command(`profile copy ${source} ${source}-copy`)}`, EXIT_USAGE);
  const targetFolder = profileFolder(cli.settings, target);
  if (existsSync(targetFolder)) {
    throw new CliError('ERR_PROFILE', `profile "${target}" already exists; it was left as it is`, `pick another name, or run ${cli.command(`profile remove ${target}`)} first`, EXIT_FAILURE);
  }
  const sourcePath = join(profileFolder(cli.settings, source), CLIENT_FILE);
  const wanted = secretStorageOption(call.options['storage']);
  // Read through the keychain-aware store, so a secret kept in the keychain is copied too.
  const sourceKey = profileKey(cli.settings, source, CLIENT_FILE);
  const store = new SessionFileStore(homeDir(), cli.settings, wanted);
  let config = readJsonFileSync(sourcePath) === undefined ? undefined : await store.loadObj(sourceKey);
  if (config !== undefined) parseClientConfig(sourcePath, config);
  else {
    const builtin = (cli.settings.builtinProfiles ?? []).find((b) => b.name === source);
    if (!builtin || builtin.clientId === undefined) throw notFound(cli, source);
    const flow = cli.settings.flows.find((f) => f.id === builtin.flowId)!;
    config = { client_type: flow.clientType, client_id: builtin.clientId, auth_server: builtin.issuer, scopes: [...builtin.scopes], audiences: [...builtin.audiences] };
  }
  const targetStore = new SessionFileStore(homeDir(), cli.settings, wanted ?? store.modeFor(sourceKey));
  await targetStore.saveObj(profileKey(cli.settings, target, CLIENT_FILE), config);
  cli.out.data({ copied: source, to: target, secrets: targetStore.modeFor(profileKey(cli.settings, target, CLIENT_FILE)) });
  cli.out.result(`Copied the client settings of profile ${source} to ${target} (no session); log in with ${cli.command(`login ... --profile ${target}`)}.`);
  return EXIT_OK;
}

export function profileCommands(spec: CliSpec): CommandSpec<Runner>[] {
  const n = spec.name;
  const root = `~/${spec.settings.disk.root}`;
  return [
    {
      path: ['profile', 'list'],
      summary: `List the profiles in ${root}/ (* marks the default; secrets in the OS keychain are marked; unusable ones say why)`,
      args: [],
      options: [],
      examples: [`${n} profile list`, `${n} profile list --json`],
      run: list,
    },
    {
      path: ['profile', 'show'],
      summary: "Show a profile's client settings (secrets hidden)",
      args: [{ name: 'NAME', required: false, completes: 'profile' }],
      options: [],
      examples: [`${n} profile show work`],
      run: show,
    },
    {
      path: ['profile', 'set'],
      summary: `Make a profile the default (written to ~/${spec.settings.disk.defaultsFile})`,
      args: [{ name: 'NAME', required: true, completes: 'profile' }],
      options: [],
      examples: [`${n} profile set work`],
      run: set,
    },
    {
      path: ['profile', 'remove'],
      summary: 'Revoke the session of a profile and remove the profile',
      description: ['Asks first, unless --yes; without a terminal, --yes is required.'],
      args: [{ name: 'NAME', required: true, completes: 'profile' }],
      options: [{ name: 'yes', short: 'y', help: 'Do not ask for confirmation' }],
      examples: [`${n} profile remove old-work`, `${n} profile remove ci --yes`],
      run: remove,
    },
    {
      path: ['profile', 'copy'],
      summary: "Copy a profile's client settings (not its session) to a new profile",
      args: [
        { name: 'SOURCE', required: true, completes: 'profile' },
        { name: 'TARGET', required: true },
      ],
      options: [
        {
          name: 'storage',
          value: 'MODE',
          help: `Where the new profile keeps its client secret: "keychain" (the OS keychain) or "file". Default: where SOURCE keeps it`,
        },
      ],
      examples: [`${n} profile copy work work-staging`, `${n} profile copy work work-keychain --storage keychain`],
      run: copy,
    },
  ];
}
