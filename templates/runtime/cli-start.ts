// What the planet-auth command runs first. `print-access-token` with at most
// `--profile` is answered from here, with the session engine and the
// profile rules alone: no command table, no help, no login code, no stdin or
// stdout streams. Every other command line, and anything this path is not
// sure of (a profile it cannot read, a missing secret), goes to the whole CLI
// in cli.ts, which is loaded only then.
import { existsSync, writeSync } from 'node:fs';
import { AuthCore } from './auth-core.js';
import type { CliSpec } from './cli-context.js';
import type { CliIo } from './cli-output.js';
import { defaultSessionOptions, profileFolder, readProfileOptions } from './profile.js';
import { holdsClientSecret } from './client-options.js';
import { clientAuthMethod, requiredOptionsOf } from './client-auth/index.js';

/** The profile `argv` names when it is `print-access-token [--profile NAME]` and nothing else; null for the default profile. */
export function plainPrintTokenProfile(argv: readonly string[]): string | null | undefined {
  if (argv[0] !== 'print-access-token') return undefined;
  if (argv.length === 1) return null;
  if (argv.length === 2 && argv[1]!.startsWith('--profile=')) return argv[1]!.slice('--profile='.length) || undefined;
  if (argv.length === 3 && argv[1] === '--profile' && argv[2] !== '' && !argv[2]!.startsWith('-')) return argv[2];
  return undefined;
}

/** The session `print-access-token` acts on, or undefined when the whole CLI should decide (and explain). */
function sessionFor(spec: CliSpec, profile: string | null): AuthCore | undefined {
  try {
    const { flowId, options } = profile === null ? defaultSessionOptions(spec.settings) : readProfileOptions(spec.settings, profile);
    const flow = spec.settings.flows.find((f) => f.id === flowId);
    if (!flow || requiredOptionsOf(clientAuthMethod(flow.tokenEndpointAuthMethod)).some((name) => !(name === 'clientSecret' ? holdsClientSecret(options) : (options as unknown as Record<string, unknown>)[name])))
      return undefined;
    return new AuthCore(spec.settings, flowId, options);
  } catch {
    return undefined;
  }
}

/** Writes to file descriptor 1 directly; what a blocked or closed pipe refuses goes through process.stdout. */
function writeStdout(text: string): void {
  const bytes = Buffer.from(text);
  let offset = 0;
  try {
    while (offset < bytes.length) offset += writeSync(1, bytes, offset);
  } catch {
    process.stdout.write(bytes.subarray(offset));
  }
}

/** Standard streams, made when a command first uses them (making stdin alone costs a few milliseconds). */
export function processIo(): CliIo {
  return {
    get stdout() {
      return process.stdout;
    },
    get stderr() {
      return process.stderr;
    },
    get stdin() {
      return process.stdin;
    },
    env: process.env,
  };
}

/** Entry point used by the generated bin. */
export async function start(spec: CliSpec): Promise<void> {
  const argv = process.argv.slice(2);
  const profile = plainPrintTokenProfile(argv);
  const auth = profile === undefined ? undefined : sessionFor(spec, profile);
  if (auth) {
    // A service account's automatic login makes the profile's folder; one that fails leaves none behind.
    const folder = profileFolder(spec.settings, auth.profileName);
    const newFolder = existsSync(folder) ? undefined : folder;
    let token: string;
    try {
      token = await auth.getAccessToken();
    } catch (error) {
      // Reported as the whole CLI reports it, without trying again.
      const { Cli } = await import('./cli.js');
      process.exitCode = new Cli(spec, processIo()).fail(argv, error, auth, newFolder);
      return;
    }
    writeStdout(`${token}\n`);
    return;
  }
  const { Cli } = await import('./cli.js');
  process.exitCode = await new Cli(spec, processIo()).run(argv);
}
