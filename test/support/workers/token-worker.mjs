// A short-lived program that asks for a profile's access token at a given
// moment, as many processes sharing one profile would. Prints a hash of the
// token (never the token) or the error code. With a third argument
// `pause-before-token-request` it prints "pausing" and stops itself with
// SIGSTOP right before its first token request leaves, as a suspended laptop
// or a paused VM would; it goes on when sent SIGCONT.
import { createHash } from 'node:crypto';
import { writeSync } from 'node:fs';

const [profile, startAt, mode] = process.argv.slice(2);
if (mode === 'pause-before-token-request') {
  const send = globalThis.fetch;
  let paused = false;
  globalThis.fetch = (input, init) => {
    const url = new URL(input instanceof Request ? input.url : String(input));
    if (!paused && (init?.method ?? 'GET').toUpperCase() === 'POST' && url.pathname.endsWith('/token')) {
      paused = true;
      writeSync(1, 'pausing\n');
      process.kill(process.pid, 'SIGSTOP');
    }
    return send(input, init);
  };
}
// Imported after the fetch above is in place, so the SDK sees it.
const { Auth } = await import('@planet-auth/sdk');
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
