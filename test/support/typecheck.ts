// Type-checks generated files held in memory as `tsc` would check them on
// disk, with the generator's own in-memory checker: declarations from
// node_modules are parsed once per checker and reused.
import { EmittedTypeChecker } from '../../generator/typecheck.js';

export class MemoryTypeChecker {
  private readonly checker: EmittedTypeChecker;

  constructor(root: string) {
    this.checker = new EmittedTypeChecker(root);
  }

  /** Every diagnostic of `files` (src, runtime and examples), as `path:line:col message`. */
  check(files: ReadonlyMap<string, string>, packageName: string): string[] {
    return this.checker.check(files, packageName).map((d) => `${d.file}:${d.line}:${d.col} ${d.message}`);
  }
}
