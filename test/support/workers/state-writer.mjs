// Writes session state in a loop, alternating two states, until killed.
import { FileStore } from '../../../generated/dist/runtime/store.js';

const store = new FileStore(process.argv[2]);
process.stdout.write('ready\n');
for (let seq = 0; ; seq++) {
  await store.saveObj('.planet/crash/token.json', { access_token: seq % 2 === 0 ? 'state-a' : 'state-b', seq, padding: 'x'.repeat(8192) });
}
