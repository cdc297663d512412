// Emits the docs page from templates/docs. Each example is embedded from the
// generated program itself, so the page and the code cannot drift apart.
import type { OptionIR, SpecIR } from '../ir.js';
import { markdownHeader } from '../text.js';
import { TemplateSet } from './handlebars.js';
import { providerPath } from './providers.js';

export const DOCS_PAGE = 'application-managed-sessions.md';

function fenceFor(code: string): string {
  const longest = Math.max(2, ...[...code.matchAll(/`+/g)].map((m) => m[0].length));
  return '`'.repeat(longest + 1);
}

function cell(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ').replace(/\|/g, '\\|').trim();
}

function optionTypeText(ir: SpecIR, option: OptionIR): string {
  return option.type === 'ObjectStorageProvider' ? ir.sdk.storageProvider.interface : option.type;
}

export function emitDocs(ir: SpecIR, templatesDir: string, examples: ReadonlyMap<string, string>): Map<string, string> {
  const template = new TemplateSet(templatesDir).compile(`${DOCS_PAGE}.hbs`);
  const storageById = new Map(ir.storages.map((s) => [s.id, s]));
  const sources = [ir.sdk.source, ...ir.flows.map((f) => f.source), ...ir.storages.map((s) => s.source), ...ir.examples.map((e) => e.source)];
  const view = {
    header: markdownHeader(sources).trimEnd(),
    authClass: ir.sdk.classes.auth,
    diskRoot: ir.sdk.disk.root,
    issuer: ir.sdk.authServer.issuer,
    apiBaseUrl: ir.sdk.authServer.apiBaseUrl,
    providerInterface: ir.sdk.storageProvider.interface,
    groups: ir.sdk.docGroups
      .map((group) => ({
        title: group.title,
        intro: group.intro,
        flows: ir.flows
          .filter((f) => f.docGroup === group.id)
          .map((flow) => ({
            title: flow.title,
            summary: flow.summary,
            requirements: flow.requirements,
            factory: flow.factory,
            options: flow.options.map((o) => ({ name: o.name, type: optionTypeText(ir, o), required: o.required ? 'yes' : 'no', doc: cell(o.doc) })),
            examples: ir.examples
              .filter((e) => e.flow === flow.id)
              .map((example) => {
                const storage = storageById.get(example.storage)!;
                const fileName = `${example.id}.ts`;
                const code = examples.get(fileName)!;
                return { storageTitle: storage.title, storageSummary: storage.summary, title: example.title.replace(/"/g, "'"), fileName, code, fence: fenceFor(code) };
              }),
          })),
      }))
      .filter((g) => g.flows.length > 0),
    // Storage modes that bring provider code: what each guarantees, and the code itself.
    providerModes: ir.storages
      .filter((s) => s.providerSource !== undefined)
      .map((storage) => {
        const path = providerPath(storage);
        const code = examples.get(path)!;
        return { title: storage.title, summary: storage.summary, details: storage.details ?? false, path, code, fence: fenceFor(code) };
      }),
    providerMethods: ir.sdk.storageProvider.methods.map((m) => ({
      signature: `${m.name}(${m.params.map((p) => p.name).join(', ')})`,
      doc: cell(m.doc),
    })),
    environment: [...Object.values(ir.sdk.environment), ...Object.values(ir.sdk.examplesEnvironment)].map((e) => ({ name: e.name, doc: cell(e.doc) })),
  };
  return new Map([[DOCS_PAGE, template(view)]]);
}
