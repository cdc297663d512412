// Another process on a DPoP session saved by the test: opens the profile,
// calls the demo API through the session, refreshes, and calls again.
// Prints one JSON line: the statuses, and the thumbprint of the key the
// session's proofs were signed with (never the key or a token).
import { createHash } from 'node:crypto';

const [profile] = process.argv.slice(2);
const { Auth, Session } = await import('@planet-auth/sdk');
const auth = Auth.fromProfile(profile);
const session = new Session(auth);
const keys = new Set();
const fetchAndNote = async () => {
  const url = `${process.env['PLANET_API_URL']}/data/v1/searches`;
  const headers = await auth.getRequestHeaders('GET', url);
  const header = JSON.parse(Buffer.from(headers['dpop'].split('.')[0], 'base64url').toString('utf8'));
  keys.add(createHash('sha256').update(JSON.stringify(header.jwk)).digest('hex'));
  return (await session.fetch('/data/v1/searches')).status;
};
try {
  const before = await fetchAndNote();
  await auth.refresh();
  const after = await fetchAndNote();
  process.stdout.write(`${JSON.stringify({ before, after, keys: [...keys] })}\n`);
} catch (error) {
  process.stdout.write(`${JSON.stringify({ error: error.code ?? error.name, message: error.message })}\n`);
}
