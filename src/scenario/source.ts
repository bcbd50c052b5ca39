// Reads YAML or JSON into plain values while remembering where each value came from, so that every later
// error can point at file:line:col. Integers are read as bigint so 64-bit values stay exact.
import {
  type Alias,
  Composer,
  type CST,
  type Document,
  isAlias,
  isCollection,
  isMap,
  isPair,
  isScalar,
  isSeq,
  LineCounter,
  type Node,
  Parser,
  visit,
  YAMLParseError,
} from 'yaml';
import type { Diagnostic, SourceLocation } from '../diagnostics/errors.js';
import { ScenarioError } from '../diagnostics/errors.js';

export interface SourceDoc {
  readonly file: string;
  /** the YAML as read, so the scenario can be loaded again elsewhere (a worker thread) */
  readonly text: string;
  readonly value: unknown;
  /** "steps.3.mode" -> where its value starts; "steps.3.mode#key" -> where the key starts */
  readonly positions: ReadonlyMap<string, SourceLocation>;
}

/** Bounds that keep hostile input (alias bombs, deep nesting, huge files) cheap to reject. */
export const SOURCE_LIMITS = { maxBytes: 4 * 1024 * 1024, maxNodes: 200_000, maxDepth: 64 } as const;

const tooDeep = `nesting deeper than ${SOURCE_LIMITS.maxDepth} levels`;
const tooManyNodes = `more than ${SOURCE_LIMITS.maxNodes} values (alias expansion included)`;

export function readSource(file: string, text: string): SourceDoc {
  if (text.length > SOURCE_LIMITS.maxBytes) {
    throw new ScenarioError({
      code: 'GMEM1014',
      message: `file is ${text.length} bytes; the limit is ${SOURCE_LIMITS.maxBytes}`,
      loc: { file, line: 1, col: 1 },
    });
  }
  const lc = new LineCounter();
  const at = (offset: number): SourceLocation => {
    const p = lc.linePos(offset);
    return { file, line: p.line, col: p.col };
  };
  // One CST parse, checked before composing: the yaml composer recurses once per nesting level (a few thousand
  // unclosed `[` overflowed the stack, and once V8 ran out of stack inside a regexp compilation the process
  // aborted), and composing a document far over the node limit is slow.
  const tokens = [...new Parser(lc.addNewLine).parse(text)];
  const over = cstOverLimits(tokens);
  if (over) throw new ScenarioError({ code: 'GMEM1014', message: over.message, loc: at(over.offset) });
  // uniqueKeys is checked below in linear time (yaml's own check is quadratic in the number of keys)
  let doc: Document.Parsed | undefined;
  for (const d of new Composer({ intAsBigInt: true, uniqueKeys: false }).compose(tokens, true, text.length)) {
    if (!doc) doc = d;
    else {
      doc.errors.push(
        new YAMLParseError([d.range[0], d.range[1]], 'MULTIPLE_DOCS', 'Source contains multiple documents'),
      );
      break;
    }
  }
  if (!doc) throw new ScenarioError({ code: 'GMEM1002', message: 'empty document', loc: at(0) });
  if (doc.errors.length > 0) {
    throw new ScenarioError(
      doc.errors.map((e): Diagnostic => ({ code: 'GMEM1001', message: e.message.split('\n')[0], loc: at(e.pos[0]) })),
    );
  }
  // Alias.resolve() without a context scans the whole document each time (quadratic for many aliases): resolve
  // every alias in one pass, with the same rule (the last anchor of that name before the alias).
  const targets = new Map<Alias, Node>();
  const anchors = new Map<string, Node>();
  visit(doc, {
    Node(_key, node) {
      if (isAlias(node)) {
        const t = anchors.get(node.source);
        if (t) targets.set(node, t);
      } else if ((isScalar(node) || isCollection(node)) && node.anchor) anchors.set(node.anchor, node);
    },
  });
  const positions = new Map<string, SourceLocation>();
  let nodes = 0;
  const walk = (node: unknown, path: string, depth: number): unknown => {
    if (++nodes > SOURCE_LIMITS.maxNodes || depth > SOURCE_LIMITS.maxDepth) {
      const off = (node as Node | null)?.range?.[0] ?? 0;
      throw new ScenarioError({
        code: 'GMEM1014',
        message: depth > SOURCE_LIMITS.maxDepth ? tooDeep : tooManyNodes,
        loc: at(off),
      });
    }
    if (isAlias(node)) return walk(targets.get(node) ?? null, path, depth + 1);
    const n = node as Node | null;
    if (n?.range) positions.set(path, at(n.range[0]));
    if (isMap(n)) {
      const out: Record<string, unknown> = {};
      for (const item of n.items) {
        if (!isPair(item)) continue;
        const keyNode = item.key as Node | null;
        const key = isScalar(keyNode) ? String(keyNode.value) : String(keyNode);
        const sub = path ? `${path}.${key}` : key;
        if (Object.hasOwn(out, key)) {
          // keys 1 and "1" collide here too: both become the property "1"
          throw new ScenarioError({
            code: 'GMEM1001',
            message: 'Map keys must be unique',
            loc: at(keyNode?.range?.[0] ?? 0),
          });
        }
        if (keyNode?.range) positions.set(`${sub}#key`, at(keyNode.range[0]));
        // an own property even for "__proto__", which plain assignment would turn into the object's prototype
        Object.defineProperty(out, key, {
          value: walk(item.value, sub, depth + 1),
          enumerable: true,
          writable: true,
          configurable: true,
        });
        if (!positions.has(sub) && keyNode?.range) positions.set(sub, at(keyNode.range[0]));
      }
      return out;
    }
    if (isSeq(n)) return n.items.map((it, i) => walk(it, path ? `${path}.${i}` : String(i), depth + 1));
    if (isScalar(n)) return n.value;
    return n ?? null;
  };
  const value = walk(doc.contents, '', 0);
  return { file, text, value, positions };
}

/** The first place the CST exceeds SOURCE_LIMITS (before alias expansion), found without recursion. */
function cstOverLimits(tokens: readonly CST.Token[]): { offset: number; message: string } | undefined {
  // [token, depth, counted]: map keys are not values, as in readSource's walk
  const stack: Array<[CST.Token | null | undefined, number, boolean]> = tokens.map((t) => [t, 0, true]);
  let nodes = 0;
  while (stack.length > 0) {
    const [t, depth, counted] = stack.pop()!;
    if (!t) continue;
    if (t.type === 'document') {
      stack.push([t.value, depth, true]);
      continue;
    }
    if (counted && ++nodes > SOURCE_LIMITS.maxNodes) return { offset: t.offset, message: tooManyNodes };
    if (t.type === 'block-map' || t.type === 'block-seq' || t.type === 'flow-collection') {
      if (depth + 1 > SOURCE_LIMITS.maxDepth) return { offset: t.offset, message: tooDeep };
      for (const item of t.items) {
        if (item.key) stack.push([item.key, depth + 1, false]);
        if (item.value) stack.push([item.value, depth + 1, true]);
      }
    }
  }
  return undefined;
}

/** The location of `path`, or of its nearest ancestor that has one. */
export function locate(doc: SourceDoc, path: ReadonlyArray<string | number>, key = false): SourceLocation {
  const parts = path.map(String);
  if (key && parts.length > 0) {
    const k = doc.positions.get(`${parts.join('.')}#key`);
    if (k) return k;
  }
  for (let n = parts.length; n >= 0; n--) {
    const p = doc.positions.get(parts.slice(0, n).join('.'));
    if (p) return p;
  }
  return { file: doc.file, line: 1, col: 1 };
}
