// Rewrites a token file in place back to back, the way a loop of Python CLI
// commands saves it (open with truncation, then the JSON), and slow to finish
// each write: the first half, a pause of up to 30 ms (a busy interpreter),
// the rest, then at most 10 ms until the next rewrite. Until killed.
import { closeSync, openSync, writeSync } from 'node:fs';

const [path] = process.argv.slice(2);
const rest = new Int32Array(new SharedArrayBuffer(4));
process.stdout.write('ready\n');
for (let seq = 0; ; seq++) {
  const text = `${JSON.stringify({ access_token: 'written-in-place', token_type: 'Bearer', seq, padding: 'x'.repeat(2048) }, null, 2)}\n`;
  const fd = openSync(path, 'w', 0o600);
  writeSync(fd, text.slice(0, text.length / 2));
  Atomics.wait(rest, 0, 0, Math.random() * 30);
  writeSync(fd, text.slice(text.length / 2));
  closeSync(fd);
  Atomics.wait(rest, 0, 0, Math.random() * 10);
}
