// Emits every TypeScript declaration the spec decides: SDK settings and the
// flow table, scope constants, the storage provider interface, the option
// interfaces, the Auth class with one factory per flow, and the index. Built
// as structures in an in-memory ts-morph project, one batch per file.
import {
  IndentationText,
  NewLineKind,
  Project,
  QuoteKind,
  StructureKind,
  VariableDeclarationKind,
  type ClassDeclarationStructure,
  type InterfaceDeclarationStructure,
  type MethodDeclarationStructure,
  type OptionalKind,
  type StatementStructures,
} from 'ts-morph';
import type { FlowIR, OptionIR, SpecIR } from '../ir.js';
import { CREDENTIAL_OPTIONS, ENVIRONMENT, GRANTS } from '../registry.js';
import { compiledHeader, jsdocText, stringLiteral } from '../text.js';

function newProject(): Project {
  return new Project({
    useInMemoryFileSystem: true,
    manipulationSettings: {
      indentationText: IndentationText.TwoSpaces,
      quoteKind: QuoteKind.Single,
      newLineKind: NewLineKind.LineFeed,
      useTrailingCommas: true,
    },
  });
}

function render(project: Project, path: string, sources: readonly string[], statements: (string | StatementStructures)[]): string {
  const file = project.createSourceFile(path, { statements }, { overwrite: true });
  return compiledHeader(sources) + '\n' + file.getFullText();
}

/** Names the emitted code declares or imports whatever the spec says; the validator keeps spec names off them. */
export const AUTH_CORE_CLASS = 'AuthCore';
export const AUTH_STATIC_METHODS = ['fromProfile', 'fromUserDefaultSession'] as const;
export const GENERATED_EXPORTS = ['SDK_SETTINGS', 'CLI_SPEC'] as const;

/** Option types declared in runtime/hooks.ts, imported by the options file when a flow uses them. */
const HOOK_TYPES = new Set<OptionIR['type']>(['FetchFunction', 'Logger']);

function optionType(ir: SpecIR, option: OptionIR): string {
  switch (option.type) {
    case 'string':
      return 'string';
    case 'string[]':
      return 'readonly string[]';
    case 'boolean':
      return 'boolean';
    case 'number':
      return 'number';
    case 'FetchFunction':
    case 'Logger':
      return option.type;
    case 'ObjectStorageProvider':
      return ir.sdk.storageProvider.interface;
  }
}

/**
 * The API reference's group of a declaration: Auth, Session, Storage, Events
 * or Errors (the runtime's declarations carry the same tags; TypeDoc reads
 * them on declarations, not on re-exports).
 */
export function group(name: 'Auth' | 'Session' | 'Storage' | 'Events' | 'Errors'): string {
  return `@group ${name}`;
}

/** A default as TypeScript source: the literal the descriptor holds and the docs show. */
export function defaultLiteral(value: NonNullable<OptionIR['default']>): string {
  if (typeof value === 'string') return stringLiteral(value);
  if (typeof value === 'boolean' || typeof value === 'number') return String(value);
  return literalArray(value);
}

function optionDoc(option: OptionIR): string {
  let doc = jsdocText(option.doc);
  if (option.default !== undefined) doc += `\n\n@defaultValue ${jsdocText(defaultLiteral(option.default))}`;
  return doc;
}

/** The runtime's view of an option: whether it is required or secret, and its default. */
function optionDescriptor(o: OptionIR): string {
  const parts = [`name: ${stringLiteral(o.name)}`, `required: ${o.required}`, `secret: ${o.secret}`];
  if (o.default !== undefined) parts.push(`default: ${defaultLiteral(o.default)}`);
  return `{ ${parts.join(', ')} }`;
}

function literalArray(values: readonly string[]): string {
  return `[${values.map(stringLiteral).join(', ')}]`;
}

function settingsFile(ir: SpecIR, project: Project): string {
  const { sdk } = ir;
  const env = (key: keyof typeof sdk.environment) => stringLiteral(sdk.environment[key].name);
  const flows = ir.flows
    .map(
      (f) =>
        `{ id: ${stringLiteral(f.id)}, factory: ${stringLiteral(f.factory)}, grant: ${stringLiteral(f.grant)}, ` +
        `clientType: ${stringLiteral(f.clientType)}, tokenEndpointAuthMethod: ${stringLiteral(f.tokenEndpointAuthMethod)},` +
        (f.tokenBinding !== 'bearer' ? ` tokenBinding: ${stringLiteral(f.tokenBinding)},` : '') +
        (f.issuer !== undefined ? ` issuer: ${stringLiteral(f.issuer)},` : '') +
        `\n      options: [\n` +
        f.options.map((o) => `        ${optionDescriptor(o)},\n`).join('') +
        '      ] }',
    )
    .join(',\n    ');
  const builtins = sdk.builtinProfiles
    .map(
      (b) =>
        `{ name: ${stringLiteral(b.name)}, flowId: ${stringLiteral(b.flow)},${b.clientId !== undefined ? ` clientId: ${stringLiteral(b.clientId)},` : ''} ` +
        `issuer: ${stringLiteral(b.issuer)}, audiences: ${literalArray(b.audiences)}, scopes: ${literalArray(b.scopes)} },\n`,
    )
    .join('    ');
  const scopeValue = new Map(sdk.scopes.map((s) => [s.name, s.value]));
  const initializer = `{
  packageName: ${stringLiteral(sdk.packageName)},
  issuer: ${stringLiteral(sdk.authServer.issuer)},
  audience: ${stringLiteral(sdk.authServer.audience)},
  audienceParameter: ${stringLiteral(sdk.authServer.audienceParameter)},
  apiBaseUrl: ${stringLiteral(sdk.authServer.apiBaseUrl)},
  defaultScopes: ${literalArray(sdk.defaultScopes.map((n) => scopeValue.get(n)!))},
  env: {
${(Object.keys(ENVIRONMENT) as (keyof typeof ENVIRONMENT)[]).map((key) => `    ${key}: ${env(key)},\n`).join('')}  },
  disk: {
    root: ${stringLiteral(sdk.disk.root)},
    defaultsFile: ${stringLiteral(sdk.disk.defaultsFile)},
    defaultProfile: ${stringLiteral(sdk.disk.defaultProfile)},
  },
  flows: [
    ${flows},
  ],
  builtinProfiles: [
    ${builtins}  ],
}`;
  return render(
    project,
    'settings.ts',
    [sdk.source, ...ir.flows.map((f) => f.source)],
    [
      `import type { SdkSettings } from './runtime/settings.js';`,
      {
        kind: StructureKind.VariableStatement,
        isExported: true,
        declarationKind: VariableDeclarationKind.Const,
        docs: [`Built-in defaults and the flows this SDK was generated with. Environment variables named in \`env\` override the defaults.\n\n${group('Auth')}`],
        declarations: [{ name: 'SDK_SETTINGS', type: 'SdkSettings', initializer }],
      },
    ],
  );
}

function scopesFile(ir: SpecIR, project: Project): string {
  const { sdk } = ir;
  const members = sdk.scopes.map((s) => `  /** ${jsdocText(s.doc)} */\n  ${s.name}: ${stringLiteral(s.value)},`).join('\n');
  return render(
    project,
    'scopes.ts',
    [sdk.source],
    [
      {
        kind: StructureKind.VariableStatement,
        isExported: true,
        declarationKind: VariableDeclarationKind.Const,
        docs: [`OAuth2 scopes understood by the API.\n\n${group('Auth')}`],
        declarations: [{ name: sdk.classes.scopes, initializer: `{\n${members}\n} as const` }],
      },
      {
        kind: StructureKind.TypeAlias,
        isExported: true,
        name: `${sdk.classes.scopes}Value`,
        docs: [`One of the scope strings above.\n\n${group('Auth')}`],
        type: `(typeof ${sdk.classes.scopes})[keyof typeof ${sdk.classes.scopes}]`,
      },
    ],
  );
}

function storageProviderFile(ir: SpecIR, project: Project): string {
  const sp = ir.sdk.storageProvider;
  const iface: InterfaceDeclarationStructure = {
    kind: StructureKind.Interface,
    name: sp.interface,
    isExported: true,
    docs: [`${jsdocText(sp.doc)}\n\n${group('Storage')}`],
    methods: sp.methods.map((m) => ({
      name: m.name,
      docs: [jsdocText(m.doc)],
      hasQuestionToken: m.optional,
      parameters: m.params.map((p) => ({ name: p.name, type: p.type, hasQuestionToken: p.optional })),
      // `this`: the provider interface itself (a view of the same storage).
      returnType: m.sync ? (m.returns === 'this' ? sp.interface : m.returns) : `Promise<${m.returns}>`,
    })),
  };
  return render(project, 'storage-provider.ts', [ir.sdk.source], [iface]);
}

function optionsFile(ir: SpecIR, project: Project): string {
  const usesProvider = ir.flows.some((f) => f.options.some((o) => o.type === 'ObjectStorageProvider'));
  const statements: (string | StatementStructures)[] = [];
  if (usesProvider) statements.push(`import type { ${ir.sdk.storageProvider.interface} } from './storage-provider.js';`);
  const hooks = [...new Set(ir.flows.flatMap((f) => f.options.filter((o) => HOOK_TYPES.has(o.type)).map((o) => o.type)))].sort();
  if (hooks.length > 0) statements.push(`import type { ${hooks.join(', ')} } from './runtime/hooks.js';`);
  for (const flow of ir.flows) {
    statements.push({
      kind: StructureKind.Interface,
      name: flow.optionsType,
      isExported: true,
      docs: [`Options of {@link ${ir.sdk.classes.auth}.${flow.factory}}: ${jsdocText(flow.title.charAt(0).toLowerCase() + flow.title.slice(1))}.\n\n${group('Auth')}`],
      properties: flow.options.map((o) => ({
        name: o.name,
        type: optionType(ir, o),
        hasQuestionToken: !o.required,
        isReadonly: true,
        docs: [optionDoc(o)],
      })),
    });
  }
  return render(project, 'options.ts', [ir.sdk.source, ...ir.flows.map((f) => f.source)], statements);
}

function factoryMethod(ir: SpecIR, flow: FlowIR): OptionalKind<MethodDeclarationStructure> {
  return {
    name: flow.factory,
    isStatic: true,
    docs: [`${jsdocText(flow.title)}.\n\n${jsdocText(flow.summary)}\n\n@see ${GRANTS[flow.grant].see}`],
    parameters: [{ name: 'options', type: flow.optionsType }],
    returnType: ir.sdk.classes.auth,
    statements: [`return new ${ir.sdk.classes.auth}(SDK_SETTINGS, ${stringLiteral(flow.id)}, options);`],
  };
}

function authFile(ir: SpecIR, project: Project): string {
  const name = ir.sdk.classes.auth;
  const cls: ClassDeclarationStructure = {
    kind: StructureKind.Class,
    name,
    isExported: true,
    extends: AUTH_CORE_CLASS,
    docs: [
      'An OAuth2 session for a user or a service account: logs in, keeps tokens fresh, and saves the session where the options say.\n\n' +
        'Create one with a factory named after the flow, then pass it to a `Session` to call APIs.\n\n' +
        // The constructor is the factories' business; the reference shows them instead.
        `@hideconstructor\n${group('Auth')}`,
    ],
    methods: [
      ...ir.flows.map((f) => factoryMethod(ir, f)),
      {
        name: AUTH_STATIC_METHODS[0],
        isStatic: true,
        docs: ['The session saved on disk under `profileName`, as the CLI or an earlier run left it.\n\nThrows a `ProfileError` when the profile does not exist or its files cannot be read.'],
        parameters: [{ name: 'profileName', type: 'string' }],
        returnType: name,
        statements: ['const { flowId, options } = readProfileOptions(SDK_SETTINGS, profileName);', `return new ${name}(SDK_SETTINGS, flowId, options);`],
      },
      {
        name: AUTH_STATIC_METHODS[1],
        isStatic: true,
        docs: ['The session the CLI uses by default: the profile named by the environment or `~/.planet.json`, else the built-in default profile.'],
        returnType: name,
        statements: ['const { flowId, options } = defaultSessionOptions(SDK_SETTINGS);', `return new ${name}(SDK_SETTINGS, flowId, options);`],
      },
    ],
  };
  return render(
    project,
    'auth.ts',
    [ir.sdk.source, ...ir.flows.map((f) => f.source)],
    [
      `import { ${AUTH_CORE_CLASS} } from './runtime/auth-core.js';`,
      `import { defaultSessionOptions, readProfileOptions } from './runtime/profile.js';`,
      `import type { ${ir.flows.map((f) => f.optionsType).join(', ')} } from './options.js';`,
      `import { SDK_SETTINGS } from './settings.js';`,
      cls,
    ],
  );
}

function indexFile(ir: SpecIR, project: Project): string {
  const { classes } = ir.sdk;
  const sessionExport = classes.session === 'Session' ? 'Session' : `Session as ${classes.session}`;
  return render(
    project,
    'index.ts',
    [ir.sdk.source, ...ir.flows.map((f) => f.source)],
    [
      // The declarations name Node's types (fetch, AbortSignal, util.inspect);
      // kept in index.d.ts so they load even where a tsconfig lists no types.
      '/// <reference types="node" preserve="true" />',
      `export { ${classes.auth} } from './auth.js';`,
      `export type { ${ir.flows.map((f) => f.optionsType).join(', ')} } from './options.js';`,
      `export { ${classes.scopes}, type ${classes.scopes}Value } from './scopes.js';`,
      `export { SDK_SETTINGS } from './settings.js';`,
      `export type { ${ir.sdk.storageProvider.interface} } from './storage-provider.js';`,
      `export { ${sessionExport} } from './runtime/session.js';`,
      `export type { DeviceLoginInfo, DeviceLoginCompleteOptions, EnsureInitializedOptions, UserLoginOptions } from './runtime/auth-core.js';`,
      // Every type a public signature names, so users can name it too.
      `export type { AuthCore, LogoutOptions, LogoutResult, SessionStatus, SignalOptions, TokenEvent, TokenListenerOptions } from './runtime/auth-core.js';`,
      `export type { FetchFunction, Logger, LogRecord } from './runtime/hooks.js';`,
      `export { SECRET_FIELDS } from './runtime/secret-fields.js';`,
      `export * from './runtime/errors.js';`,
    ],
  );
}

/** Spec prose as one terminal line: no line breaks, no Markdown backticks. */
function terminalLine(text: string): string {
  return text.replace(/`/g, '').replace(/\s+/g, ' ').trim();
}

/** The factory options that `login` takes as command-line options; their docs become the help text. */
const CLI_OPTIONS: ReadonlySet<string> = new Set(['clientId', 'callbackUrl', 'requestedScopes', ...CREDENTIAL_OPTIONS]);

function cliFile(ir: SpecIR, project: Project): string {
  const logins = ir.flows
    .map((f) => {
      const docs = f.options
        .filter((o) => CLI_OPTIONS.has(o.name))
        .map((o) => `${o.name}: ${stringLiteral(terminalLine(o.doc))}`)
        .join(', ');
      return (
        `{\n      command: ${stringLiteral(f.cliLogin.command)}, flowId: ${stringLiteral(f.id)},\n      summary: ${stringLiteral(f.cliLogin.summary)},\n` +
        `      requirements: ${literalArray(f.requirements.map(terminalLine))},\n      optionDocs: { ${docs} },\n    }`
      );
    })
    .join(',\n    ');
  const environment = Object.values(ir.sdk.environment)
    .map((v) => `{ name: ${stringLiteral(v.name)}, doc: ${stringLiteral(terminalLine(v.doc))} }`)
    .join(',\n    ');
  return render(
    project,
    'cli.ts',
    [ir.sdk.source, ...ir.flows.map((f) => f.source)],
    [
      `import type { CliSpec } from './runtime/cli.js';`,
      `import { SDK_SETTINGS } from './settings.js';`,
      {
        kind: StructureKind.VariableStatement,
        isExported: true,
        declarationKind: VariableDeclarationKind.Const,
        docs: ['The command line: its name, one `login` command per flow (with what the flow needs), and the environment it reads.'],
        declarations: [
          {
            name: 'CLI_SPEC',
            type: 'CliSpec',
            initializer: `{\n  name: ${stringLiteral(ir.sdk.cliName)},\n  version: ${stringLiteral(ir.sdk.packageVersion)},\n  settings: SDK_SETTINGS,\n  logins: [\n    ${logins},\n  ],\n  environment: [\n    ${environment},\n  ],\n}`,
          },
        ],
      },
    ],
  );
}

/** The `src/` files of the generated package, keyed by path relative to `src/`. */
export function emitTypeScript(ir: SpecIR): Map<string, string> {
  const project = newProject();
  return new Map([
    ['auth.ts', authFile(ir, project)],
    ['cli.ts', cliFile(ir, project)],
    ['index.ts', indexFile(ir, project)],
    ['options.ts', optionsFile(ir, project)],
    ['scopes.ts', scopesFile(ir, project)],
    ['settings.ts', settingsFile(ir, project)],
    ['storage-provider.ts', storageProviderFile(ir, project)],
  ]);
}
