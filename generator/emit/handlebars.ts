// One Handlebars environment for prose and example bodies: no HTML escaping
// (the output is code and Markdown), strict lookups so a missing view-model
// field fails generation instead of printing nothing.
import { readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import Handlebars from 'handlebars';

export type Template = (view: object) => string;

export class TemplateSet {
  private readonly hb = Handlebars.create();

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
    for (const name of names) this.hb.registerPartial(basename(name, '.hbs'), readFileSync(join(partials, name), 'utf8'));
  }

  compile(name: string): Template {
    const source = readFileSync(join(this.dir, name), 'utf8');
    const template = this.hb.compile(source, { noEscape: true, strict: true, preventIndent: false });
    return (view) => template(view);
  }
}
