// A session in keychain mode written or read by a process of its own (the
// keychain is reached through the environment it was started with).
//   keychain-writer.mjs ROOT          writes two states in turn (the refresh token to the keychain, the rest to token.json) until killed
//   keychain-writer.mjs ROOT read     prints what the store reads back, file and keychain together, as JSON
//   keychain-writer.mjs ROOT settle   writes one state and exits (clears temporary files of killed writers)
//   keychain-writer.mjs ROOT delete   removes token.json and its keychain entry
import { SessionFileStore } from '../../../generated/dist/runtime/secret-store.js';

const [root, mode] = process.argv.slice(2);
const settings = { packageName: '@planet-auth/sdk', disk: { root: '.planet', defaultsFile: '.planet.json', defaultProfile: 'planet-user' } };
const store = new SessionFileStore(root, settings, 'keychain');
const key = '.planet/crash-keychain/token.json';
const stateOf = (seq) => {
  const state = seq % 2 === 0 ? 'a' : 'b';
  return { access_token: `state-${state}`, refresh_token: `refresh-${state}`, seq, padding: 'x'.repeat(8192) };
};
if (mode === 'read') {
  try {
    const data = await store.loadObj(key);
    process.stdout.write(`${JSON.stringify({ ok: true, access_token: data.access_token, refresh_token: data.refresh_token, padding: data.padding?.length })}\n`);
  } catch (error) {
    process.stdout.write(`${JSON.stringify({ ok: false, message: error.message })}\n`);
  }
} else if (mode === 'settle') {
  await store.saveObj(key, stateOf(-2));
  process.stdout.write('done\n');
} else if (mode === 'delete') {
  await store.deleteObj(key);
  process.stdout.write('done\n');
} else {
  process.stdout.write('ready\n');
  for (let seq = 0; ; seq++) await store.saveObj(key, stateOf(seq));
}
