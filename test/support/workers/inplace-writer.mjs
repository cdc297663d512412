// Rewrites a token file in place in a loop, the way Planet's Python CLI
// saves it (open with truncation, then write), until killed. Each round
// writes the JSON in two pieces and then rests 2 ms, as a buffered writer
// would, so readers can land on an empty or half-written file.
import { closeSync, openSync, writeSync } from 'node:fs';

const [path] = process.argv.slice(2);
const rest = new Int32Array(new SharedArrayBuffer(4));
process.stdout.write('ready\n');
for (let seq = 0; ; seq++) {
  const text = `${JSON.stringify({ access_token: 'written-in-place', seq, padding: 'x'.repeat(4096) }, null, 2)}\n`;
  const fd = openSync(path, 'w', 0o600);
  writeSync(fd, text.slice(0, text.length / 2));
  writeSync(fd, text.slice(text.length / 2));
  closeSync(fd);
  Atomics.wait(rest, 0, 0, 2);
}
