// Takes a profile's lock and keeps it until killed.
import { withFolderLock } from '../../../generated/dist/runtime/lock.js';

await withFolderLock(process.argv[2], async () => {
  process.stdout.write('locked\n');
  await new Promise(() => undefined);
});
