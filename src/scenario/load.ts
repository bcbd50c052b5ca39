// Loads a scenario file: YAML/JSON with positions, the zod schema per op, then a static pass that checks labels
// and macro names. Every problem becomes a Diagnostic with file:line:col; all of them are reported at once.
import type { z } from 'zod';
import type { Diagnostic, SourceLocation } from '../diagnostics/errors.js';
import { ScenarioError } from '../diagnostics/errors.js';
import type { KernelOptions } from '../kernel/options.js';
import type { ArgSpec } from '../ops/args.js';
import { ArgError, resolveArg, resolveNumber } from '../ops/resolve.js';
import { OP_NAMES, OPS, type OpDef } from '../ops/table.js';
import { cachedStepSchema, expectSchema, LABEL_RE, optionsSchema } from './schema.js';
import { locate, readSource, type SourceDoc } from './source.js';

export type Expect = z.infer<typeof expectSchema>;

export interface StepSpec {
  /** 0-based index within its list */
  readonly index: number;
  readonly op: OpDef;
  readonly raw: Readonly<Record<string, unknown>>;
  readonly as?: string;
  readonly expect?: Expect;
  readonly path: ReadonlyArray<string | number>;
  readonly loc: SourceLocation;
}

export interface Scenario {
  readonly file: string;
  readonly name: string;
  readonly description: string;
  readonly options: Partial<KernelOptions>;
  readonly steps: readonly StepSpec[];
  readonly threads: ReadonlyMap<string, readonly StepSpec[]>;
  readonly after: readonly StepSpec[];
  readonly outcomes: ReadonlyArray<Readonly<Record<string, unknown>>>;
  readonly source: SourceDoc;
}

const TOP_KEYS = ['name', 'description', 'options', 'steps', 'threads', 'after', 'outcomes'];
const STEP_KEYS = new Set(['op', 'as', 'expect']);
const MAX_DIAGNOSTICS = 50;

class Collector {
  readonly list: Diagnostic[] = [];
  constructor(readonly doc: SourceDoc) {}
  add(
    code: Diagnostic['code'],
    message: string,
    path: ReadonlyArray<string | number>,
    opts: { key?: boolean; hint?: string | (() => string | undefined) } = {},
  ): void {
    if (this.list.length >= MAX_DIAGNOSTICS) return;
    // hints may be computed lazily: past the cap, thousands of bad steps cost no "did you mean" searches
    const hint = typeof opts.hint === 'function' ? opts.hint() : opts.hint;
    this.list.push({ code, message, loc: locate(this.doc, path, opts.key), path: path.join('.'), hint });
  }
}

/** Levenshtein distance, for "did you mean" hints; two rows, so a long word costs no more memory than a short one. */
function distance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  let cur = new Array<number>(b.length + 1).fill(0);
  for (let i = 1; i <= a.length; i++) {
    cur[0] = i;
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    [prev, cur] = [cur, prev];
  }
  return prev[b.length];
}

export function suggest(word: string, choices: readonly string[]): string | undefined {
  const limit = Math.max(2, Math.floor(word.length / 3));
  let best: string | undefined;
  let bestD = Number.POSITIVE_INFINITY;
  for (const c of choices) {
    // the distance is at least the length difference: a choice that cannot be within the limit is skipped, so a
    // megabyte-long unknown name is not compared character by character with every choice
    if (Math.abs(word.length - c.length) > limit) continue;
    const dd = distance(word.toLowerCase(), c.toLowerCase());
    if (dd < bestD) {
      best = c;
      bestD = dd;
    }
  }
  return best !== undefined && bestD <= limit ? `did you mean "${best}"?` : undefined;
}

/** User text quoted in a message, cut short: names come from keys, which can be megabytes long. */
function quote(s: string): string {
  return JSON.stringify(s.length > 80 ? `${s.slice(0, 80)}...` : s);
}

function describeKind(spec: ArgSpec): string {
  switch (spec.kind.k) {
    case 'u64':
    case 'int':
      return 'a number, a hex string, or a label expression (LABEL, LABEL+N, LABEL-N)';
    case 'fd':
      return 'an fd: a label or a plain number such as -1';
    case 'flags':
      return `${spec.kind.g.name}: a number, a macro name, or a list of macro names`;
    case 'enum':
      return `${spec.kind.g.name}: a number or a macro name`;
    case 'string':
      return spec.kind.values ? `one of ${spec.kind.values.join(', ')}` : 'a string';
    case 'guest':
      return 'a list of {read: GPA, size?} or {write: GPA, value, size?}';
  }
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Validates one step list; labels visible to it come in `known` and grow as steps define them. */
function loadSteps(c: Collector, raw: unknown, path: Array<string | number>, known: Set<string>): StepSpec[] {
  if (!Array.isArray(raw)) {
    c.add('GMEM1005', 'expected a list of steps', path);
    return [];
  }
  const out: StepSpec[] = [];
  raw.forEach((stepRaw, index) => {
    const p = [...path, index];
    if (!isRecord(stepRaw)) {
      c.add('GMEM1005', 'a step is a mapping with an `op` field', p);
      return;
    }
    const opName = stepRaw.op;
    if (typeof opName !== 'string') {
      c.add('GMEM1004', 'the step has no `op`', p);
      return;
    }
    const def = OPS.get(opName);
    if (!def) {
      c.add('GMEM1006', `unknown op ${quote(opName)}`, [...p, 'op'], {
        hint: () => suggest(opName, OP_NAMES) ?? `ops: ${OP_NAMES.join(', ')}`,
      });
      return;
    }
    const parsed = cachedStepSchema(def).safeParse(stepRaw);
    if (!parsed.success) {
      for (const issue of parsed.error.issues) reportIssue(c, def, p, issue, stepRaw);
      return;
    }
    let ok = true;
    // static pass: labels and macro names resolve (label values are not known yet, so 0 stands in)
    const placeholder = new Map([...known].map((l) => [l, 0n] as const));
    for (const [name, spec] of Object.entries(def.args)) {
      if (stepRaw[name] === undefined) continue;
      try {
        resolveArg(spec.kind, stepRaw[name], placeholder);
      } catch (e) {
        if (!(e instanceof ArgError)) throw e;
        ok = false;
        c.add(e.problem.code, `${def.name}.${name}: ${e.problem.message}`, [...p, name], { hint: e.problem.hint });
      }
    }
    for (const group of def.oneOf ?? []) {
      const given = group.filter((g) => stepRaw[g] !== undefined);
      if (given.length !== 1) {
        ok = false;
        c.add('GMEM1016', `${def.name} takes exactly one of ${group.join(' or ')}`, p);
      }
    }
    const expect = stepRaw.expect as Expect | undefined;
    if (expect) ok = checkExpectLabels(c, expect, [...p, 'expect'], placeholder) && ok;
    const as = stepRaw.as as string | undefined;
    if (as !== undefined) {
      if (known.has(as)) {
        c.add('GMEM1011', `label "${as}" is already defined`, [...p, 'as']);
        ok = false;
      }
      known.add(as);
    }
    if (ok) out.push({ index, op: def, raw: stepRaw, as, expect, path: p, loc: locate(c.doc, p) });
  });
  return out;
}

function checkExpectLabels(c: Collector, e: Expect, p: Array<string | number>, labels: Map<string, bigint>): boolean {
  let ok = true;
  const check = (v: unknown, sub: Array<string | number>) => {
    if (v === undefined || v === null) return;
    try {
      resolveNumber(v as string, labels);
    } catch (err) {
      if (!(err instanceof ArgError)) throw err;
      ok = false;
      c.add(err.problem.code, `expect: ${err.problem.message}`, [...p, ...sub], { hint: err.problem.hint });
    }
  };
  check(e.ret, ['ret']);
  check(e.value, ['value']);
  for (const [i, v] of (e.values ?? []).entries()) check(v, ['values', i]);
  if (e.memory_fault) {
    check(e.memory_fault.gpa, ['memory_fault', 'gpa']);
    check(e.memory_fault.size, ['memory_fault', 'size']);
  }
  if (e.signal) check(e.signal.addr, ['signal', 'addr']);
  return ok;
}

function reportIssue(
  c: Collector,
  def: OpDef,
  p: Array<string | number>,
  issue: z.core.$ZodIssue,
  raw: Record<string, unknown>,
): void {
  const at = [...p, ...issue.path.map((x) => (typeof x === 'symbol' ? String(x) : x))];
  const field = issue.path[0];
  if (issue.code === 'unrecognized_keys') {
    const where = issue.path.length ? at : p;
    for (const key of issue.keys) {
      const inExpect = issue.path[0] === 'expect';
      const choices = inExpect ? Object.keys(expectSchema.shape) : [...Object.keys(def.args), ...STEP_KEYS];
      c.add(
        inExpect ? 'GMEM1012' : 'GMEM1007',
        inExpect ? `unknown expect field ${quote(key)}` : `unknown argument ${quote(key)} for ${def.name}`,
        [...where, key],
        {
          key: true,
          hint: () => suggest(key, choices) ?? `${inExpect ? 'fields' : 'arguments'}: ${choices.join(', ')}`,
        },
      );
    }
    return;
  }
  if (issue.path.length === 1 && typeof field === 'string' && raw[field] === undefined) {
    c.add('GMEM1004', `${def.name} needs ${String(field)}`, p, {
      hint: typeof field === 'string' && def.args[field] ? `${field}: ${def.args[field].doc}` : undefined,
    });
    return;
  }
  if (typeof field === 'string' && def.args[field] && issue.path.length === 1) {
    c.add('GMEM1005', `${def.name}.${field}: expected ${describeKind(def.args[field])}`, at);
    return;
  }
  if (field === 'guest') {
    c.add(
      'GMEM1015',
      `KVM_RUN.guest${issue.path
        .slice(1)
        .map((x) => `[${String(x)}]`)
        .join('')}: ${guestMessage(issue)}`,
      at,
    );
    return;
  }
  c.add('GMEM1005', `${issue.path.map(String).join('.') || def.name}: ${issue.message}`, at);
}

function guestMessage(issue: z.core.$ZodIssue): string {
  if (issue.code === 'invalid_union')
    return 'expected {read: GPA, size?, private?} or {write: GPA, value, size?, private?}';
  return issue.message;
}

/** Parses and validates a scenario; throws ScenarioError with every problem found. */
export function loadScenario(file: string, text: string): Scenario {
  const doc = readSource(file, text);
  const c = new Collector(doc);
  const v = doc.value;
  if (!isRecord(v))
    throw new ScenarioError({
      code: 'GMEM1002',
      message: 'a scenario is a mapping with a `steps` list',
      loc: locate(doc, []),
    });
  for (const key of Object.keys(v)) {
    if (!TOP_KEYS.includes(key))
      c.add('GMEM1003', `unknown top-level field ${quote(key)}`, [key], {
        key: true,
        hint: () => suggest(key, TOP_KEYS) ?? `fields: ${TOP_KEYS.join(', ')}`,
      });
  }
  for (const key of ['name', 'description'] as const) {
    if (v[key] !== undefined && typeof v[key] !== 'string') c.add('GMEM1005', `${key} must be a string`, [key]);
  }
  let options: Partial<KernelOptions> = {};
  if (v.options !== undefined) {
    const r = optionsSchema.safeParse(v.options);
    if (r.success) options = r.data as Partial<KernelOptions>;
    else {
      for (const issue of r.error.issues) {
        const k = issue.path[0];
        const code = issue.code === 'unrecognized_keys' ? 'GMEM1003' : 'GMEM1013';
        const msg =
          issue.code === 'unrecognized_keys'
            ? `unknown option ${issue.keys.map((x) => `"${x}"`).join(', ')}`
            : `options.${String(k)}: ${issue.message}`;
        c.add(code, msg, ['options', ...issue.path.map((x) => (typeof x === 'symbol' ? String(x) : x))]);
      }
    }
  }
  if (v.steps === undefined) c.add('GMEM1004', 'a scenario needs `steps`', []);
  const known = new Set<string>();
  const steps = v.steps === undefined ? [] : loadSteps(c, v.steps, ['steps'], known);
  const threads = new Map<string, StepSpec[]>();
  const afterKnown = new Set(known);
  if (v.threads !== undefined) {
    if (!isRecord(v.threads)) c.add('GMEM1005', 'threads is a mapping from thread names to step lists', ['threads']);
    else {
      for (const [name, list] of Object.entries(v.threads)) {
        if (!LABEL_RE.test(name))
          c.add('GMEM1005', `thread name ${quote(name)} must be an identifier`, ['threads', name], { key: true });
        const mine = new Set(known);
        threads.set(name, loadSteps(c, list, ['threads', name], mine));
        for (const l of mine) {
          if (!known.has(l)) {
            if (afterKnown.has(l)) c.add('GMEM1011', `label "${l}" is defined by two threads`, ['threads', name]);
            afterKnown.add(l);
          }
        }
      }
    }
  }
  const after = v.after === undefined ? [] : loadSteps(c, v.after, ['after'], afterKnown);
  if (v.after !== undefined && v.threads === undefined) c.add('GMEM1016', '`after` needs `threads`', ['after']);
  const outcomes =
    v.outcomes === undefined ? [] : Array.isArray(v.outcomes) ? (v.outcomes as Array<Record<string, unknown>>) : [];
  if (v.outcomes !== undefined && !Array.isArray(v.outcomes)) c.add('GMEM1005', 'outcomes is a list', ['outcomes']);
  if (c.list.length > 0) throw new ScenarioError(c.list);
  return {
    file,
    name: (v.name as string) ?? file,
    description: (v.description as string) ?? '',
    options,
    steps,
    threads,
    after,
    outcomes,
    source: doc,
  };
}
