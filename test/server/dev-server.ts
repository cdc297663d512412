// npm run dev-server: the embedded authorization server and demo API on
// fixed ports, for running the examples or an application by hand. It takes
// DEV_SERVER_PORT (default 8765) for the issuer and the port after it for
// the API; when either is taken it moves on to the next free pair and says
// so in one line.
import { createServer } from 'node:net';
import { SDK_SETTINGS } from '../../generated/src/settings.js';
import { startAuthServer, type RunningServer } from './auth-server.js';

export const DEFAULT_DEV_SERVER_PORT = 8765;
/** How many port pairs are tried before giving up. */
const ATTEMPTS = 20;

function fail(message: string): never {
  console.error(`dev-server: ${message}`);
  process.exit(1);
}

function requestedPort(): number {
  const raw = process.env['DEV_SERVER_PORT'];
  if (raw === undefined || raw === '') return DEFAULT_DEV_SERVER_PORT;
  const port = Number(raw);
  if (!Number.isInteger(port) || port < 1 || port > 65534 - 2 * ATTEMPTS) fail(`DEV_SERVER_PORT=${raw} is not a port number; use one such as ${DEFAULT_DEV_SERVER_PORT}`);
  return port;
}

/** Whether nothing listens on 127.0.0.1:`port` (tried by listening there for a moment). */
function isFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once('error', () => resolve(false));
    probe.listen(port, '127.0.0.1', () => probe.close(() => resolve(true)));
  });
}

function isAddressInUse(error: unknown): boolean {
  return (error as NodeJS.ErrnoException | undefined)?.code === 'EADDRINUSE';
}

const first = requestedPort();
// The built-in profiles' own clients are known here too, so the default profile works against this server.
const builtinClients = (SDK_SETTINGS.builtinProfiles ?? []).flatMap((b) => (b.clientId !== undefined ? [b.clientId] : []));
let server: RunningServer | undefined;
for (let port = first; server === undefined && port < first + 2 * ATTEMPTS; port += 2) {
  if (!(await isFree(port)) || !(await isFree(port + 1))) continue;
  try {
    server = await startAuthServer({ port, apiPort: port + 1, extraUserClientIds: builtinClients, deviceInterval: 1 });
  } catch (error) {
    // Taken between the probe and the start: try the next pair.
    if (!isAddressInUse(error)) throw error;
    continue;
  }
  if (port !== first) console.log(`Ports ${first} and ${first + 1} are taken; using ${port} and ${port + 1} (set DEV_SERVER_PORT to choose).`);
}
if (server === undefined) fail(`ports ${first} to ${first + 2 * ATTEMPTS - 1} are all taken; set DEV_SERVER_PORT to a free port (its next port is used for the API)`);
const running = server;
console.log(`Authorization server ${running.issuer}, demo API ${running.apiBaseUrl}. Point the SDK and the examples here with:\n`);
for (const [name, value] of Object.entries(running.env())) console.log(`export ${name}=${value}`);
console.log('\nLogins accept any user name and password. Ctrl-C stops the server.');
const stop = () => void running.close().then(() => process.exit(0));
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
