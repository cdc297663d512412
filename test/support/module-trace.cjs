// Preloaded with `node --require`: on exit, writes to MODULE_TRACE_FILE (one
// a line) every file the process loaded, CommonJS and ES modules, and every
// public Node module it loaded (`node:http`...). ES module loads are recorded
// by a loader hook, from the loader's own thread, before the module runs.
const { appendFileSync } = require('node:fs');
const { builtinModules, register } = require('node:module');
const { pathToFileURL } = require('node:url');

const out = process.env.MODULE_TRACE_FILE;
if (out) {
  const hooks = `
    import { appendFileSync } from 'node:fs';
    let file;
    export async function initialize(data) { file = data.file; }
    export async function load(url, context, next) { if (url.startsWith('file:')) appendFileSync(file, url + '\\n'); return next(url, context); }
  `;
  register(`data:text/javascript,${encodeURIComponent(hooks)}`, pathToFileURL(__filename), { data: { file: out } });
  const publicModules = new Set(builtinModules);
  process.on('exit', () => {
    const files = Object.keys(require.cache)
      .filter((f) => f !== __filename)
      .map((f) => pathToFileURL(f).href);
    const builtins = process.moduleLoadList
      .filter((m) => m.startsWith('NativeModule '))
      .map((m) => m.slice('NativeModule '.length))
      .filter((m) => publicModules.has(m))
      .map((m) => `node:${m}`);
    appendFileSync(out, [...files, ...builtins].map((line) => `${line}\n`).join(''));
  });
}
