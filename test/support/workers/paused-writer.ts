// A worker of a service account kept in Redis that stops itself (SIGSTOP)
// right after the answer to its token request arrived, before it saves the
// new token, as a paused VM would. Sent SIGCONT it goes on: prints a hash of
// its token (never the token), asks three more times, and exits.
// Arguments: the Redis URL and the profile name.
import { createHash } from 'node:crypto';
import { writeSync } from 'node:fs';
import { Auth } from '../../../generated/src/index.js';
import { RedisStorageProvider } from '../../../generated/examples/providers/redis_shared.js';
import { M2M_CLIENT_ID, M2M_CLIENT_SECRET } from '../../server/auth-server.js';

const [url, profile] = process.argv.slice(2) as [string, string];
let paused = false;
const send = globalThis.fetch;
const pausing: typeof fetch = async (input, init) => {
  const response = await send(input, init);
  if (!paused && init?.method === 'POST') {
    paused = true;
    writeSync(1, 'answered\n');
    process.kill(process.pid, 'SIGSTOP');
  }
  return response;
};
const storageProvider = new RedisStorageProvider(url, { commandTimeoutMs: 2000 });
const auth = Auth.fromOAuthM2M({ clientId: M2M_CLIENT_ID, clientSecret: M2M_CLIENT_SECRET, profileName: profile, storageProvider, fetch: pausing });
const hash = (token: string) => createHash('sha256').update(token).digest('hex').slice(0, 16);
const outcomes: string[] = [];
for (let i = 0; i < 4; i++) {
  try {
    outcomes.push(hash(await auth.getAccessToken()));
  } catch (error) {
    outcomes.push(`error ${(error as { code?: string }).code}`);
  }
}
writeSync(1, `${JSON.stringify(outcomes)}\n`);
await storageProvider.close();
