// A short-lived program that asks for a profile's access token at a given
// moment, as many processes sharing one profile would. Prints a hash of the
// token (never the token) or the error code.
import { createHash } from 'node:crypto';
import { Auth } from '@planet-auth/sdk';

const [profile, startAt] = process.argv.slice(2);
const auth = Auth.fromProfile(profile);
const wait = Number(startAt) - Date.now();
if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
try {
  const token = await auth.getAccessToken();
  process.stdout.write(`${JSON.stringify({ ok: true, token: createHash('sha256').update(token).digest('hex').slice(0, 16) })}\n`);
} catch (error) {
  process.stdout.write(`${JSON.stringify({ ok: false, code: error.code, message: error.message })}\n`);
  process.exitCode = 1;
}
