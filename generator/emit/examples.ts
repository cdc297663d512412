// Emits the example programs, one per flow and storage mode, from
// templates/examples. The view model carries every decision, so the template
// only lays out text.
import type { ExampleIR, FlowIR, SpecIR, StorageIR } from '../ir.js';
import { GRANTS, scopesToRequest, TOKEN_ENDPOINT_AUTH_METHODS } from '../registry.js';
import { lineCommentText, slashHeader, stringLiteral } from '../text.js';
import { TemplateSet } from './handlebars.js';
import { readProviders, type ProviderCode } from './providers.js';

export interface ExampleView {
  readonly header: string;
  readonly title: string;
  readonly storageSentence: string;
  readonly imports: readonly string[];
  /** `const storageProvider = <construction>;` for storage modes that bring a provider. */
  readonly provider: { construction: string; closes: boolean } | false;
  readonly authClass: string;
  readonly sessionClass: string;
  readonly factory: string;
  readonly optionLines: readonly string[];
  readonly modePartial: string;
  /** The statements that log in, from the grant module. */
  readonly loginLines: readonly string[];
  readonly loginComment: string;
  readonly ensureArguments: string;
}

const STORAGE_SENTENCE: Record<StorageIR['backend'], string> = {
  memory: 'Nothing is saved: every run starts without a session.',
  disk: 'The session is saved on disk, where the CLI sees it too.',
  keychain: 'The session is saved on disk, where the CLI sees it too, with its secrets in the OS keychain.',
  provider: 'The session is saved in storage the application provides; the CLI does not see it.',
};

function loginComment(example: ExampleIR, flow: FlowIR, storage: StorageIR): string {
  const { who, ensureComment } = GRANTS[flow.grant].example;
  switch (example.login) {
    case 'always':
      return storage.backend === 'memory' ? `Nothing is saved, so ${who.toLowerCase()} logs in every time the program runs.` : `${who} logs in every time the program runs.`;
    case 'ifNotInitialized':
      return `${who} logs in only when no session was saved by an earlier run.`;
    case 'ensureInitialized':
      return ensureComment;
    case 'justInTime':
      return `${who} logs in on the first API call, and again whenever the access token expires.`;
  }
}

/** The names (`PLANET`...) of the scopes `flow` requests by default, as the runtime decides them. */
export function defaultScopeNames(ir: SpecIR, flow: FlowIR): string[] {
  const requested = new Set(
    scopesToRequest(
      flow.grant,
      ir.sdk.defaultScopes.map((name) => ir.sdk.scopes.find((s) => s.name === name)!.value),
    ),
  );
  return ir.sdk.defaultScopes.filter((name) => requested.has(ir.sdk.scopes.find((s) => s.name === name)!.value));
}

function optionLines(ir: SpecIR, example: ExampleIR, flow: FlowIR, storage: StorageIR): string[] {
  const envs = ir.sdk.examplesEnvironment;
  const scopesClass = ir.sdk.classes.scopes;
  const scopes = defaultScopeNames(ir, flow);
  const lines: string[] = [];
  // What the flow's client authentication module says an example passes for its options.
  const fromMethod = TOKEN_ENDPOINT_AUTH_METHODS[flow.tokenEndpointAuthMethod].exampleValues;
  for (const option of flow.options) {
    const value = fromMethod[option.name];
    if (value !== undefined) {
      lines.push(`${option.name}: process.env.${envs[value.env]!.name} ?? ${stringLiteral(value.fallback)},`);
      continue;
    }
    switch (option.name) {
      case 'clientId': {
        const { env, fallback } = GRANTS[flow.grant].example.clientId;
        lines.push(`clientId: process.env.${envs[env]!.name} ?? ${stringLiteral(fallback)},`);
        break;
      }
      case 'callbackUrl':
        lines.push(`callbackUrl: process.env.${envs.callbackUrl.name} ?? 'http://127.0.0.1:8080/callback',`);
        break;
      case 'requestedScopes':
        lines.push(`requestedScopes: [${scopes.map((n) => `${scopesClass}.${n}`).join(', ')}],`);
        break;
      case 'saveStateToStorage':
        if (storage.backend === 'memory') lines.push('saveStateToStorage: false,');
        break;
      case 'profileName':
        if (example.profileName !== undefined && storage.backend !== 'memory') lines.push(`profileName: ${stringLiteral(example.profileName)},`);
        break;
      case 'storageProvider':
        if (storage.backend === 'provider') lines.push('storageProvider,');
        break;
      case 'secretStorage':
        if (storage.backend === 'keychain') lines.push("secretStorage: 'keychain',");
        break;
    }
  }
  return lines;
}

/** How an example makes its provider: from a folder under the storage root, or from a server URL. */
function providerConstruction(ir: SpecIR, storage: StorageIR, code: ProviderCode): string {
  const envs = ir.sdk.examplesEnvironment;
  if (storage.providerUrl) {
    return `new ${code.className}(process.env.${envs[storage.providerUrl.env]!.name} ?? ${stringLiteral(storage.providerUrl.default)})`;
  }
  return `new ${code.className}(join(process.env.${envs.demoStorageRoot.name} ?? homedir(), ${stringLiteral(storage.providerRoot!)}))`;
}

function exampleView(ir: SpecIR, example: ExampleIR, providers: ReadonlyMap<string, ProviderCode>): ExampleView {
  const flow = ir.flows.find((f) => f.id === example.flow)!;
  const storage = ir.storages.find((s) => s.id === example.storage)!;
  const { classes } = ir.sdk;
  const names = [classes.auth, classes.scopes, classes.session];
  const imports: string[] = [];
  const code = providers.get(storage.id);
  if (code && storage.providerRoot !== undefined) {
    imports.push(`import { homedir } from 'node:os';`);
    imports.push(`import { join } from 'node:path';`);
  }
  names.sort((a, b) => a.replace(/^type /, '').localeCompare(b.replace(/^type /, '')));
  imports.push(`import { ${names.join(', ')} } from ${stringLiteral(ir.sdk.packageName)};`);
  if (code) imports.push(`import { ${code.className} } from ${stringLiteral(`./${code.path.replace(/\.ts$/, '.js')}`)};`);
  return {
    header: slashHeader([example.source, flow.source, storage.source]).trimEnd(),
    title: lineCommentText(example.title),
    storageSentence: STORAGE_SENTENCE[storage.backend],
    imports,
    provider: code ? { construction: providerConstruction(ir, storage, code), closes: code.closes } : false,
    authClass: classes.auth,
    sessionClass: classes.session,
    factory: flow.factory,
    optionLines: optionLines(ir, example, flow, storage),
    modePartial: `mode-${example.login}`,
    loginLines: GRANTS[flow.grant].example.login,
    loginComment: loginComment(example, flow, storage),
    ensureArguments: GRANTS[flow.grant].example.ensureArguments,
  };
}

/**
 * Example programs keyed by file name (`<storage>__<flow>.ts`), and the
 * provider code they import (`providers/<storage>.ts`), read from `specDir`.
 */
export function emitExamples(ir: SpecIR, templatesDir: string, specDir: string): Map<string, string> {
  const template = new TemplateSet(templatesDir).compile('example.ts.hbs');
  const providers = readProviders(ir, specDir);
  const out = new Map<string, string>();
  for (const example of ir.examples) out.set(`${example.id}.ts`, template(exampleView(ir, example, providers)));
  for (const code of providers.values()) out.set(code.path, code.text);
  return out;
}
