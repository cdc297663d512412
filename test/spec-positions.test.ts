// Every spec problem names the node it is about: hostile spec files, each
// with the offending node marked «name» in the fixture text, must be refused
// with exactly the problems expected, each at the marked line:column and
// with the JSON path of that node. Load and validation run in this process;
// no code is emitted or type-checked, since none of these specs gets so far.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { formatDiagnostic, SpecError, type Diagnostic } from '../generator/diagnostics.js';
import { loadSpec } from '../generator/load.js';
import { checkLoaded, projectInputs } from '../generator/pipeline.js';
import { ROOT, specCopy } from './support/spec-fixture.js';

type Edit = (text: string) => string;

/** `text` with `pattern` replaced; the fixture fails loudly when the real spec no longer has it. */
function swap(pattern: string | RegExp, replacement: string): Edit {
  return (text) => {
    if (!(typeof pattern === 'string' ? text.includes(pattern) : pattern.test(text))) throw new Error(`fixture edit found no ${String(pattern)}`);
    return text.replace(pattern, replacement);
  };
}

interface Expected {
  /** The marker «at» in the edited text, where the problem must point. */
  readonly at: string;
  /** The JSON path, exactly, or a pattern where an index depends on the real spec. */
  readonly path: string | RegExp;
  readonly message: RegExp;
}

/**
 * Applies `edits` to a copy of the spec, takes the «markers» out (noting the
 * file, line and column of each), then `after` (such as a change of line
 * endings) on the marked files, and returns the problems and the markers.
 */
function refused(edits: Record<string, Edit>, after: Edit = (t) => t): { problems: readonly Diagnostic[]; marks: Map<string, { file: string; line: number; col: number }> } {
  const marks = new Map<string, { file: string; line: number; col: number }>();
  const stripped: Record<string, string> = {};
  for (const [file, edit] of Object.entries(edits)) {
    let text = edit(readFileSync(join(ROOT, 'spec', file), 'utf8'));
    for (let m = /«([a-z0-9]+)»/.exec(text); m; m = /«([a-z0-9]+)»/.exec(text)) {
      const lines = text.slice(0, m.index).split(/\r\n|\r|\n/);
      marks.set(m[1]!, { file: `spec/${file}`, line: lines.length, col: lines.at(-1)!.length + 1 });
      text = text.slice(0, m.index) + text.slice(m.index + m[0].length);
    }
    stripped[file] = after(text);
  }
  const dir = specCopy(stripped);
  try {
    checkLoaded(loadSpec(dir, 'spec'), projectInputs(ROOT, dir, 'spec'));
  } catch (error) {
    if (error instanceof SpecError) return { problems: error.diagnostics, marks };
    throw error;
  }
  throw new Error('the spec was accepted');
}

function expectAt(edits: Record<string, Edit>, expected: readonly Expected[], after?: Edit): void {
  const { problems, marks } = refused(edits, after);
  const printed = [...new Set(problems.map(formatDiagnostic))];
  expect(printed).toHaveLength(expected.length);
  for (const e of expected) {
    const mark = marks.get(e.at);
    if (!mark) throw new Error(`no marker «${e.at}» in the fixture`);
    const samePath = (path: string) => (typeof e.path === 'string' ? path === e.path : e.path.test(path));
    const found = problems.filter((d) => d.file === mark.file && d.line === mark.line && d.col === mark.col && samePath(d.jsonPath) && e.message.test(d.message));
    // On failure, the problems as printed show where each one points instead.
    expect({ at: e.at, found: found.length, printed }).toEqual({ at: e.at, found: 1, printed });
  }
}

const m2m = 'flows/m2m.yaml';
const cliLogin = 'cliLogin:\n  command: service-account\n  summary: Log in as a service account with its client ID and secret.\n';
const clientId = '  - name: clientId\n    required: true\n    doc: Client ID of the service account.\n';
const clientSecret = '  - name: clientSecret\n    required: true\n    doc: Client secret of the service account. Never logged or shown.\n';

describe('a problem inside the spec points at its node, by line:column and JSON path', () => {
  test('a bad value inside a list item', () => {
    expectAt({ [m2m]: swap(clientSecret, clientSecret.replace('required: true', 'required: «t»"yes"')) }, [{ at: 't', path: '/options/1/required', message: /^must be boolean$/ }]);
  });

  test('a bad value in a nested object', () => {
    expectAt({ [m2m]: swap('  command: service-account', '  command: «c»7') }, [{ at: 'c', path: '/cliLogin/command', message: /^must be string$/ }]);
  });

  test('an unknown key in an option of a flow, and a meaning problem in another', () => {
    expectAt({ [m2m]: swap(clientId + clientSecret, clientId + clientSecret.replace('    doc:', '    «k»colour: red\n    doc:')) }, [{ at: 'k', path: '/options/1/colour', message: /^unknown key "colour"$/ }]);
    expectAt({ [m2m]: swap(clientId, clientId.replace('    doc:', '    default: «d»abc\n    doc:')) }, [{ at: 'd', path: '/options/0/default', message: /is required, so a default would never apply/ }]);
  });

  test('an example and a storage mode', () => {
    expectAt(
      {
        'examples.yaml': swap(/(profileName: my-app-authcode\n {4}login: )ensureInitialized/, '$1«l»sometimes'),
        'storage/app_custom_storage.yaml': swap('backend: provider\n', 'backend: provider\n«x»extra: [1, 2]\n'),
      },
      [
        { at: 'l', path: '/examples/1/login', message: /^must be one of "always"/ },
        { at: 'x', path: '/extra', message: /^unknown key "extra"$/ },
      ],
    );
    expectAt(
      {
        'examples.yaml': swap(/profileName: my-app-devicecode\n {4}login: ifNotInitialized/, 'profileName: «p»"../x"\n    login: ifNotInitialized'),
        'storage/app_custom_storage.yaml': swap('providerRoot: .planet-demo', 'providerRoot: «r»".."'),
        'sdk.yaml': swap(/(name: requestTimeoutSeconds\n\s+)default: 30/, '$1default: «n»-1'),
      },
      [
        { at: 'p', path: '/examples/4/profileName', message: /^profile name "..\/x" must be lowercase/ },
        { at: 'r', path: '/providerRoot', message: /^providerRoot ".." must be one file or folder name/ },
        { at: 'n', path: /^\/commonOptions\/\d+\/default$/, message: /^requestTimeoutSeconds default -1 is out of range/ },
      ],
    );
  });

  test('an order another flow has is reported at the second flow, naming the first one and its file', () => {
    expectAt({ 'flows/m2m_private_key_jwt.yaml': swap(/^order: 4$/m, 'order: «o»3') }, [
      { at: 'o', path: '/order', message: /^flow order 3 is already flow "oauth_m2m"'s, in spec\/flows\/m2m\.yaml:2:8; give each flow an order of its own/ },
    ]);
  });

  test('flow-style maps and lists', () => {
    expectAt(
      {
        [m2m]: (t) =>
          swap(
            cliLogin,
            'cliLogin: { command: service-account, summary: "Log in.", «e»extra: 1 }\n',
          )(t)
            .replace(clientId, '  - { name: clientId, required: «r»"yes", doc: x }\n')
            .replace(/requirements:\n( {2}- .*\n)+/, 'requirements: [fine, «n»7, «m»{ a: b }]\n'),
      },
      [
        { at: 'e', path: '/cliLogin/extra', message: /^unknown key "extra"$/ },
        { at: 'r', path: '/options/0/required', message: /^must be boolean$/ },
        { at: 'n', path: '/requirements/1', message: /^must be string$/ },
        { at: 'm', path: '/requirements/2', message: /^must be string$/ },
      ],
    );
    expectAt({ [m2m]: swap(cliLogin, 'cliLogin: { command: a, summary: b, «d»command: c }\n') }, [{ at: 'd', path: '/cliLogin/command', message: /^duplicate key "command"$/ }]);
  });

  test('a bad value written once under an anchor and repeated by an alias is reported, for each use, where it is written', () => {
    const anchored = clientId.replace('  - name: clientId\n    required: true', '  - &option\n    name: clientId\n    required: «t»maybe');
    expectAt({ [m2m]: swap(clientId + clientSecret, `${anchored}  - *option\n`) }, [
      { at: 't', path: '/options/0/required', message: /^must be boolean$/ },
      { at: 't', path: '/options/1/required', message: /^must be boolean$/ },
    ]);
  });

  test('a value repeated by an alias where it must be unique is reported at the alias', () => {
    expectAt({ [m2m]: swap(clientId + clientSecret, `${clientId.replace('  - name', '  «o»- &option\n    name')}  - «a»*option\n`) }, [
      { at: 'a', path: '/options/1/name', message: /^duplicate option "clientId"$/ },
      { at: 'o', path: '/options', message: /needs a "clientSecret" option/ },
    ]);
  });

  test('a bad value brought in by a YAML 1.1 merge key is reported where it is written', () => {
    expectAt({ [m2m]: (t) => `%YAML 1.1\n---\n${swap(cliLogin, '«b»base: &base\n  command: «c»7\ncliLogin:\n  <<: *base\n  summary: Log in.\n')(t)}` }, [
      { at: 'b', path: '/base', message: /^unknown key "base"$/ },
      { at: 'c', path: '/cliLogin/command', message: /^must be string$/ },
    ]);
  });

  test('an alias to no anchor in a list item', () => {
    expectAt({ [m2m]: swap('  - The application can reach the authorization server.', '  - «a»*nowhere') }, [{ at: 'a', path: '/requirements/0', message: /^alias \*nowhere names no anchor/ }]);
  });

  test('a second YAML document is refused at its separator, for the whole file', () => {
    expectAt({ [m2m]: (t) => `${t}«d»---\nid: another\n` }, [{ at: 'd', path: '/', message: /^a spec file holds one YAML document; remove this "---"/ }]);
  });

  test('an unclosed quote is reported where the quoted text opens, not where the file ends', () => {
    expectAt({ [m2m]: swap('    doc: Client ID of the service account.', '    doc: «q»"Client ID of the service account.') }, [{ at: 'q', path: '/options/0/doc', message: /^this quoted text is never closed/ }]);
  });

  test('a line indented one space too far is reported in the value it breaks, not under a made-up key', () => {
    expectAt({ [m2m]: swap('  command: service-account\n  summary:', '  command: «v»service-account\n   summary:') }, [
      { at: 'v', path: '/cliLogin/command', message: /^nested mappings are not allowed/ },
      { at: 'v', path: '/cliLogin/command', message: /^implicit keys need to be on a single line/ },
    ]);
  });

  test('text problems in a key and in a list item name that key and that item', () => {
    expectAt({ [m2m]: swap('  command: service-account', '  «k»"comm\\u0001and": service-account') }, [{ at: 'k', path: '/cliLogin/comm\\u0001and', message: /control character U\+0001/ }]);
    expectAt({ [m2m]: swap('  - The application can reach the authorization server.', '  - «t»"The application \\u200b can reach it."') }, [{ at: 't', path: '/requirements/0', message: /invisible character U\+200B/ }]);
  });

  test('keys that YAML reads as numbers or booleans are found by the name they get', () => {
    expectAt({ [m2m]: swap(cliLogin, `${cliLogin}  «q»"12": x\n  «b»true: y\n`) }, [
      { at: 'q', path: '/cliLogin/12', message: /^unknown key "12"$/ },
      { at: 'b', path: '/cliLogin/true', message: /^unknown key "true"$/ },
    ]);
  });

  test.each([
    ['CR-only', (t: string) => t.replace(/\n/g, '\r')],
    ['CRLF', (t: string) => t.replace(/\n/g, '\r\n')],
  ])('%s line endings give the same positions', (_, endings) => {
    expectAt({ [m2m]: swap('  command: service-account', '  command: «c»7') }, [{ at: 'c', path: '/cliLogin/command', message: /^must be string$/ }], endings);
  });
});
