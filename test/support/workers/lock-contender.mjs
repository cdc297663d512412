// One of several processes that want a profile's lock at the same moment.
// While it holds the lock it leaves a marker file named after its pid in a
// shared folder and counts the markers of others: any other marker means two
// processes held the lock at once. Prints {overlaps} as JSON.
import { readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { withFolderLock } from '../../../generated/dist/runtime/lock.js';

const [folder, markers, startAt] = process.argv.slice(2);
const wait = Number(startAt) - Date.now();
if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
try {
  const overlaps = await withFolderLock(folder, async (turn) => {
    const mine = join(markers, String(process.pid));
    writeFileSync(mine, '');
    let seen = readdirSync(markers).length - 1;
    await new Promise((resolve) => setTimeout(resolve, 20));
    seen = Math.max(seen, readdirSync(markers).length - 1);
    await turn.assertHeld();
    rmSync(mine);
    return seen;
  });
  process.stdout.write(`${JSON.stringify({ ok: true, overlaps })}\n`);
} catch (error) {
  process.stdout.write(`${JSON.stringify({ ok: false, code: error.code, message: error.message })}\n`);
  process.exitCode = 1;
}
