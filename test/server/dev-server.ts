// npm run dev-server: the embedded authorization server and demo API on
// fixed ports, for running the examples or an application by hand.
import { SDK_SETTINGS } from '../../generated/src/settings.js';
import { startAuthServer } from './auth-server.js';

const port = Number(process.env['DEV_SERVER_PORT'] ?? 8765);
// The built-in profiles' own clients are known here too, so the default profile works against this server.
const builtinClients = (SDK_SETTINGS.builtinProfiles ?? []).flatMap((b) => (b.clientId !== undefined ? [b.clientId] : []));
const server = await startAuthServer({ port, apiPort: port + 1, extraUserClientIds: builtinClients, deviceInterval: 1 });
console.log(`Authorization server ${server.issuer}, demo API ${server.apiBaseUrl}. Point the SDK and the examples here with:\n`);
for (const [name, value] of Object.entries(server.env())) console.log(`export ${name}=${value}`);
console.log('\nLogins accept any user name and password. Ctrl-C stops the server.');
const stop = () => void server.close().then(() => process.exit(0));
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
