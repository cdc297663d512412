// One Handlebars environment for prose and example bodies: no HTML escaping
// (the output is code and Markdown), strict lookups so a missing view-model
// field fails generation instead of printing nothing. A compiled template is
// kept while its text and the partials' texts stay the same, so a
// long-running generator compiles each one once.
import { readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import Handlebars from 'handlebars';
import { contentHash } from '../cache.js';

export type Template = (view: object) => string;

/** The last compiled template of each folder and name, with the hash of the texts it was compiled from. */
const compiled = new Map<string, { hash: string; template: Template }>();

export class TemplateSet {
  private readonly partials: (readonly [string, string])[];

  constructor(private readonly dir: string) {
    const partials = join(dir, 'partials');
    let names: string[] = [];
    try {
      names = readdirSync(partials)
        .filter((n) => n.endsWith('.hbs'))
        .sort();
    } catch {
      names = [];
    }
    this.partials = names.map((name) => [basename(name, '.hbs'), readFileSync(join(partials, name), 'utf8')] as const);
  }

  compile(name: string): Template {
    const source = readFileSync(join(this.dir, name), 'utf8');
    const hash = contentHash(source, ...this.partials.flat());
    const key = `${this.dir}\u0000${name}`;
    const kept = compiled.get(key);
    if (kept?.hash === hash) return kept.template;
    const hb = Handlebars.create();
    for (const [partial, text] of this.partials) hb.registerPartial(partial, text);
    const render = hb.compile(source, { noEscape: true, strict: true, preventIndent: false });
    const template: Template = (view) => render(view);
    compiled.set(key, { hash, template });
    return template;
  }
}
