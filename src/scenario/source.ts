// Reads YAML or JSON into plain values while remembering where each value came from, so that every later
// error can point at file:line:col. Integers are read as bigint so 64-bit values stay exact.
import { isAlias, isMap, isPair, isScalar, isSeq, LineCounter, type Node, parseDocument } from 'yaml';
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

export function readSource(file: string, text: string): SourceDoc {
  if (text.length > SOURCE_LIMITS.maxBytes) {
    throw new ScenarioError({
      code: 'GMEM1014',
      message: `file is ${text.length} bytes; the limit is ${SOURCE_LIMITS.maxBytes}`,
      loc: { file, line: 1, col: 1 },
    });
  }
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, intAsBigInt: true, uniqueKeys: true, prettyErrors: false });
  const at = (offset: number): SourceLocation => {
    const p = lc.linePos(offset);
    return { file, line: p.line, col: p.col };
  };
  if (doc.errors.length > 0) {
    throw new ScenarioError(
      doc.errors.map((e): Diagnostic => ({ code: 'GMEM1001', message: e.message.split('\n')[0], loc: at(e.pos[0]) })),
    );
  }
  const positions = new Map<string, SourceLocation>();
  let nodes = 0;
  const walk = (node: unknown, path: string, depth: number): unknown => {
    if (++nodes > SOURCE_LIMITS.maxNodes || depth > SOURCE_LIMITS.maxDepth) {
      const off = (node as Node | null)?.range?.[0] ?? 0;
      throw new ScenarioError({
        code: 'GMEM1014',
        message:
          depth > SOURCE_LIMITS.maxDepth
            ? `nesting deeper than ${SOURCE_LIMITS.maxDepth} levels`
            : `more than ${SOURCE_LIMITS.maxNodes} values (alias expansion included)`,
        loc: at(off),
      });
    }
    if (isAlias(node)) return walk(node.resolve(doc), path, depth + 1);
    const n = node as Node | null;
    if (n?.range) positions.set(path, at(n.range[0]));
    if (isMap(n)) {
      const out: Record<string, unknown> = {};
      for (const item of n.items) {
        if (!isPair(item)) continue;
        const keyNode = item.key as Node | null;
        const key = isScalar(keyNode) ? String(keyNode.value) : String(keyNode);
        const sub = path ? `${path}.${key}` : key;
        if (keyNode?.range) positions.set(`${sub}#key`, at(keyNode.range[0]));
        out[key] = walk(item.value, sub, depth + 1);
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
