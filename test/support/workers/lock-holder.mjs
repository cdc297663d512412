// Takes a profile's lock and holds it until killed, printing "locked" once it
// does. For each line "check" on stdin it checks that it still holds the
// lock and prints the outcome as JSON.
import { createInterface } from 'node:readline';
import { withFolderLock } from '../../../generated/dist/runtime/lock.js';

await withFolderLock(process.argv[2], async (turn) => {
  // A pending timer keeps the process, and so its turn, alive until it is killed.
  const alive = setInterval(() => undefined, 60_000);
  process.stdout.write('locked\n');
  for await (const line of createInterface({ input: process.stdin })) {
    if (line.trim() !== 'check') continue;
    const outcome = await turn.assertHeld().then(
      () => ({ held: true }),
      (error) => ({ held: false, code: error.code, message: error.message }),
    );
    process.stdout.write(`${JSON.stringify(outcome)}\n`);
  }
  await new Promise(() => alive);
});
