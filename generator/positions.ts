// Where a JSON path of a spec file is written: the node it names, found
// through aliases (the anchored text is what to edit) and `<<` merge keys,
// and the JSON path of a source offset, for problems the YAML parser finds.
import { isAlias, isCollection, isMap, isPair, isScalar, isSeq, type Document, type LineCounter, type Node, type Pair, type YAMLMap } from 'yaml';

/** Where a spec file's nodes come from: its parsed document and its line counter. */
export interface PositionedDocument {
  readonly doc: Document.Parsed;
  readonly lineCounter: LineCounter;
}

/** The node an alias stands for (through chains of aliases), or the node itself. */
function resolved(doc: Document, node: unknown): unknown {
  let current = node;
  for (let hops = 0; isAlias(current) && hops < 100; hops++) current = current.resolve(doc);
  return isAlias(current) ? undefined : current;
}

/** A `<<` key that merges maps in (YAML 1.1, or the merge option): the parser marks its key's value as a symbol. */
const isMergeKey = (pair: Pair) => isScalar(pair.key) && typeof pair.key.value === 'symbol';

/** The pair of `map` whose key reads as `key`: its own first, then the maps its merge keys bring in, earlier ones first. */
function pairOf(doc: Document, map: YAMLMap, key: string, depth = 0): Pair | undefined {
  const own = map.items.find((p) => isPair(p) && !isMergeKey(p) && isScalar(p.key) && String(p.key.value) === key);
  if (own || depth > 10) return own;
  for (const merge of map.items.filter(isMergeKey)) {
    const source = resolved(doc, merge.value);
    const sources = isSeq(source) ? source.items.map((item) => resolved(doc, item)) : [source];
    for (const from of sources) {
      const found = isMap(from) ? pairOf(doc, from, key, depth + 1) : undefined;
      if (found) return found;
    }
  }
  return undefined;
}

/**
 * The node at `path` (and, for a map entry, its key node) as far as the path
 * leads; aliases and merge keys are followed to the text they repeat.
 */
export function nodeAt(doc: Document, path: readonly (string | number)[], atUse = false): { node: Node; key?: Node; depth: number } | undefined {
  let node = resolved(doc, doc.contents);
  if (!node || typeof node !== 'object' || !('range' in node)) return undefined;
  let found: { node: Node; key?: Node; depth: number } = { node: node as Node, depth: 0 };
  for (const [i, segment] of path.entries()) {
    let next: unknown;
    let key: Node | undefined;
    if (isMap(node)) {
      const pair = pairOf(doc, node, String(segment));
      next = pair?.value;
      key = pair && isScalar(pair.key) ? pair.key : undefined;
    } else if (isSeq(node) && typeof segment === 'number') next = node.items[segment];
    // A value repeated through an alias is at its use when the repetition itself is the problem (a duplicate).
    if (atUse && isAlias(next) && next.range) return { node: next, key, depth: i + 1 };
    const target = resolved(doc, next);
    if (!target || typeof target !== 'object' || !('range' in target) || !(target as Node).range) {
      // A key with an empty value (`key:`) still has a position: its key.
      if (key?.range) found = { node: key, key, depth: i + 1 };
      return found;
    }
    node = target;
    found = { node: target as Node, key, depth: i + 1 };
  }
  return found;
}

/**
 * Position of the node at `path` (or of the key `keyOf` in the map there);
 * falls back to the nearest ancestor that exists. With `atUse`, a path
 * through an alias stops at the alias, where the value is repeated.
 */
export function positionOf(loaded: PositionedDocument, path: readonly (string | number)[], keyOf?: string, atUse = false): { line: number; col: number } {
  const { doc, lineCounter } = loaded;
  const at = nodeAt(doc, path, atUse);
  if (!at) return { line: 1, col: 1 };
  if (keyOf !== undefined && at.depth === path.length && isMap(at.node)) {
    const pair = pairOf(doc, at.node, keyOf);
    if (pair && isScalar(pair.key) && pair.key.range) return lineCounter.linePos(pair.key.range[0]);
  }
  return lineCounter.linePos(at.node.range![0]);
}

/**
 * The JSON path of the deepest node whose source holds `offset`; with
 * `keys`, a map key there adds its name (the problem is in that key).
 */
export function pathAtOffset(doc: Document, offset: number, keys = true): (string | number)[] {
  let best: (string | number)[] = [];
  // Ranges end before their last offset; an empty node holds the offset it stands at.
  const holds = (range: readonly [number, number, number] | null | undefined) => !!range && range[0] <= offset && (offset < range[1] || (range[0] === range[1] && offset === range[0]));
  visitNodes(doc.contents, [], (node, path) => {
    if (holds(node.range) && path.length >= best.length) best = path;
    if (keys && isMap(node)) {
      for (const pair of node.items) {
        if (isScalar(pair.key) && holds(pair.key.range) && path.length + 1 >= best.length) best = [...path, String(pair.key.value)];
      }
    }
  });
  return best;
}

/** Calls `visit` with every node and its JSON path, keys excepted; aliases are visited as themselves. */
export function visitNodes(node: unknown, path: (string | number)[], visit: (node: Node, path: (string | number)[]) => void): void {
  if (!node || typeof node !== 'object') return;
  if (isMap(node)) {
    visit(node, path);
    for (const pair of node.items) {
      if (!isPair(pair)) continue;
      const key = isScalar(pair.key) ? String(pair.key.value) : '?';
      visitNodes(pair.value, [...path, key], visit);
    }
  } else if (isSeq(node)) {
    visit(node, path);
    node.items.forEach((item, index) => visitNodes(item, [...path, index], visit));
  } else if (isScalar(node) || isAlias(node) || isCollection(node)) {
    visit(node, path);
  }
}
