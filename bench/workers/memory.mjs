// Logs in as a service account (in memory) and makes N API calls; prints peak RSS in MiB.
import { Auth, Session } from '@planet-auth/sdk';

const [clientId, clientSecret, calls] = process.argv.slice(2);
const session = new Session(Auth.fromOAuthM2M({ clientId, clientSecret, saveStateToStorage: false }));
let ok = 0;
for (let i = 0; i < Number(calls); i++) {
  const response = await session.fetch('/data/v1/searches');
  await response.arrayBuffer();
  if (response.status === 200) ok++;
}
process.stdout.write(`${JSON.stringify({ ok, peakRssMiB: process.resourceUsage().maxRSS / 1024 })}\n`);
