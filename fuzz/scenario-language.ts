// Scenario-language fuzzing: random and mostly invalid scenario documents. Four sources of text:
//   - scenario-shaped trees (real ops and argument names mixed with junk, hostile values) written out as YAML in
//     random styles, or as JSON;
//   - mutations of the real scenarios in test/uapi, scenarios/ and conformance/ (token inserts, line swaps, ...);
//   - resource attacks: alias bombs, deep nesting at and around the limit, huge strings and lists;
//   - binary junk.
// The property (harness.checkAnyText): loading either succeeds or throws a ScenarioError whose diagnostics carry
// registered codes and file:line:col; a loaded scenario then runs, or explores, or stops with a coded refusal.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { ERROR_HANDLERS, KERNEL_VERSIONS, MM_BEHAVIOURS } from '../src/kernel/options.js';
import { OPS } from '../src/ops/table.js';
import { EXTREME_NUMBERS } from './arbitraries.js';

const OP_NAMES = [...OPS.keys()];
const ARG_NAMES = [...new Set([...OPS.values()].flatMap((d) => Object.keys(d.args)))];
const EXPECT_FIELDS = [
  'ret',
  'errno',
  'exit_reason',
  'memory_fault',
  'signal',
  'value',
  'values',
  'stat',
  'dmesg',
  'panic',
  'livelock',
];
const LABELS = ['vm', 'gmem', 'vcpu', 'mem', 'x', 'pfn', '__proto__', 'constructor', 'toString', 'undefined_label'];
const MACROS = [
  'KVM_X86_SW_PROTECTED_VM',
  'KVM_MEM_GUEST_MEMFD',
  'FALLOC_FL_KEEP_SIZE',
  'FALLOC_FL_PUNCH_HOLE',
  'PROT_READ',
  'MAP_SHARED',
  'MADV_HWPOISON',
  'KVM_MEMORY_ATTRIBUTE_PRIVATE',
  'GUEST_MEMFD_FLAG_MMAP',
  'MF_ACTION_REQUIRED',
  'SEEK_HOLE',
  'KVM_CAP_GUEST_MEMFD',
  'EHWPOISON',
  'SIGBUS',
  'KVM_EXIT_MEMORY_FAULT',
  'NOT_A_MACRO',
  'kvm_x86_sw_protected_vm',
];

// ------------------------------------------------------------------------------------------------ values

/** A verbatim YAML fragment (tags, anchors, odd scalars) placed where a value goes. */
interface Raw {
  readonly raw: string;
}
type Tree = string | number | bigint | boolean | null | Raw | Tree[] | { [k: string]: Tree };

const isRaw = (v: unknown): v is Raw => typeof v === 'object' && v !== null && !Array.isArray(v) && 'raw' in v;

const RAW_SCALARS = [
  '!!binary aGVsbG8=',
  '!!timestamp 2001-12-14t21:59:43.10-05:00',
  '2019-01-01',
  '!!float 1',
  '!!int "12"',
  '!!str 0x1000',
  '!!null ""',
  '!!bool "yes"',
  '!custom 5',
  '!<tag:yaml.org,2002:str> x',
  '!!set {a, b}',
  '!!omap [a: 1, b: 2]',
  '!!pairs [a: 1, a: 2]',
  '.inf',
  '-.inf',
  '.nan',
  '1e400',
  '-0',
  '0o17',
  '0b101',
  '+0x10',
  '1_000',
  '0x',
  '0xg',
  '~',
  "''",
  '""',
  '"\\u0000\\ud800"',
  '"\\x80\\xff"',
  '|\n  block\n  text',
  '>-\n  folded',
  '*undefined_anchor',
  '&anchor 1',
  '? complex\n',
];

const hostileNumber: fc.Arbitrary<Tree> = fc.oneof(
  fc.integer({ min: -5, max: 5 }),
  fc.constantFrom(4096, 0x100000000, 2 ** 53, 2 ** 53 + 2, -(2 ** 53), 1.5, -0.5, 1e21),
  fc.bigInt({ min: -(1n << 70n), max: 1n << 70n }),
  fc.constantFrom(1n << 64n, (1n << 64n) - 1n, 1n << 63n, -(1n << 63n), -(1n << 63n) - 1n, 10n ** 30n),
  fc.constantFrom(...EXTREME_NUMBERS),
  fc.bigInt({ min: 0n, max: 1n << 66n }).map((b) => `0x${b.toString(16)}`),
  fc.bigInt({ min: 0n, max: 1n << 66n }).map((b) => `-0x${b.toString(16)}`),
);

const labelExpr: fc.Arbitrary<Tree> = fc
  .tuple(
    fc.constantFrom(...LABELS),
    fc.constantFrom('', '+', '-', ' + ', '+-', '++'),
    fc.constantFrom('', '0x1000', '1', '0x', '99999999999999999999999'),
  )
  .map(([l, op, n]) => (op ? `${l}${op}${n}` : l));

const junkString: fc.Arbitrary<Tree> = fc.oneof(
  fc.string({ maxLength: 12 }),
  fc.string({ unit: 'binary', maxLength: 12 }),
  fc.constantFrom(
    '',
    ' ',
    'null',
    'true',
    'NaN',
    '0x1000 ',
    ' 0x1000',
    '1 2',
    '-',
    '+',
    'a.b',
    '$' + '{x}', // a shell-style placeholder, as text
    '%s',
    '\\',
    '\t',
  ),
);

const hugeString: fc.Arbitrary<Tree> = fc
  .tuple(fc.constantFrom('x', 'KVM_', '0', '[', '\u00e9', '\\u0000'), fc.integer({ min: 1000, max: 50_000 }))
  .map(([c, n]) => c.repeat(Math.ceil(n / c.length)));

const scalar: fc.Arbitrary<Tree> = fc.oneof(
  { arbitrary: hostileNumber, weight: 50 },
  { arbitrary: labelExpr, weight: 30 },
  { arbitrary: fc.constantFrom(...MACROS), weight: 30 },
  { arbitrary: junkString, weight: 20 },
  { arbitrary: fc.constantFrom(null, true, false), weight: 10 },
  { arbitrary: fc.constantFrom(...RAW_SCALARS).map((raw): Raw => ({ raw })), weight: 20 },
  { arbitrary: hugeString, weight: 1 },
);

const { value: anyValue } = fc.letrec<{ value: Tree }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    { arbitrary: scalar, weight: 8 },
    { arbitrary: fc.array(tie('value'), { maxLength: 4 }), weight: 1 },
    {
      arbitrary: fc.dictionary(fc.constantFrom(...ARG_NAMES, 'read', 'write', 'size', 'x'), tie('value'), {
        maxKeys: 3,
      }),
      weight: 1,
    },
  ),
}));

const guestValue: fc.Arbitrary<Tree> = fc.array(
  fc.dictionary(fc.constantFrom('read', 'write', 'value', 'size', 'private', 'gpa', 'x'), anyValue, { maxKeys: 4 }),
  { maxLength: 3 },
);

const expectValue: fc.Arbitrary<Tree> = fc.oneof(
  fc.dictionary(
    fc.oneof(
      { arbitrary: fc.constantFrom(...EXPECT_FIELDS), weight: 9 },
      { arbitrary: fc.constantFrom('retval', 'x'), weight: 1 },
    ),
    fc.oneof(
      anyValue,
      fc.dictionary(
        fc.constantFrom('flags', 'gpa', 'size', 'signo', 'code', 'addr', 'addr_lsb', 'st_size', 'st_ino', 'x'),
        anyValue,
        {
          maxKeys: 3,
        },
      ),
    ),
    { maxKeys: 4 },
  ),
  anyValue,
);

/** A step: usually a real op with some of its own arguments, plus junk. */
const stepTree: fc.Arbitrary<Tree> = fc
  .record(
    {
      op: fc.oneof(
        { arbitrary: fc.constantFrom(...OP_NAMES), weight: 12 },
        { arbitrary: fc.constantFrom('kvm_run', 'KVM_RUNN', 'mmap2', 'toString', '__proto__', ''), weight: 1 },
        { arbitrary: anyValue, weight: 1 },
      ),
      args: fc.dictionary(
        fc.oneof(
          { arbitrary: fc.constantFrom(...ARG_NAMES), weight: 10 },
          { arbitrary: fc.constantFrom('__proto__', 'constructor', 'fdd', 'op', ''), weight: 1 },
        ),
        fc.oneof({ arbitrary: anyValue, weight: 6 }, { arbitrary: guestValue, weight: 1 }),
        { maxKeys: 6 },
      ),
      as: fc.oneof(fc.constantFrom(...LABELS), fc.constantFrom('1x', 'a b', 'a-b', ''), anyValue),
      expect: expectValue,
    },
    { requiredKeys: ['op', 'args'] },
  )
  .map(({ op, args, as, expect }) => {
    const step: Record<string, Tree> = { op };
    for (const [k, v] of Object.entries(args)) if (k !== 'op') step[k] = v;
    if (as !== undefined) step.as = as;
    if (expect !== undefined) step.expect = expect;
    return step;
  });

const stepsTree: fc.Arbitrary<Tree> = fc.oneof(
  { arbitrary: fc.array(stepTree, { maxLength: 8 }), weight: 8 },
  { arbitrary: anyValue, weight: 1 },
);

const optionsTree: fc.Arbitrary<Tree> = fc.oneof(
  fc.record(
    {
      mm: fc.oneof(fc.constantFrom(...MM_BEHAVIOURS), anyValue),
      error_handler: fc.oneof(fc.constantFrom(...ERROR_HANDLERS), anyValue),
      kernel: fc.oneof(fc.constantFrom(...KERNEL_VERSIONS, '7.3', '6.18'), anyValue),
      sw_protected_vm: fc.oneof(fc.boolean(), anyValue),
      bogus: anyValue,
    },
    { requiredKeys: [] },
  ),
  anyValue,
);

const threadName = fc.oneof(
  { arbitrary: fc.constantFrom('t0', 't1', 'vcpu', 'mf'), weight: 8 },
  { arbitrary: fc.constantFrom('__proto__', 'constructor', '1a', 'a b', 'after', 'status', ''), weight: 1 },
);

const docTree: fc.Arbitrary<Record<string, Tree>> = fc.record(
  {
    name: fc.oneof(fc.constant('fuzz'), anyValue),
    description: anyValue,
    options: optionsTree,
    steps: stepsTree,
    threads: fc.oneof(
      { arbitrary: fc.dictionary(threadName, stepsTree, { minKeys: 1, maxKeys: 3 }), weight: 6 },
      { arbitrary: anyValue, weight: 1 },
    ),
    after: stepsTree,
    outcomes: fc.oneof(
      fc.array(fc.dictionary(threadName, fc.array(expectValue, { maxLength: 2 }), { maxKeys: 2 }), { maxLength: 2 }),
      anyValue,
    ),
    bogus: anyValue,
  },
  { requiredKeys: ['steps'] },
);

// ------------------------------------------------------------------------------------------------ emitters

const PLAIN = /^[A-Za-z_][A-Za-z0-9_+\- ]*$/;

function scalarText(v: Exclude<Tree, Tree[] | { [k: string]: Tree }>, hex: boolean): string {
  if (isRaw(v)) return v.raw;
  if (v === null) return 'null';
  if (typeof v === 'bigint') return hex && v >= 0n ? `0x${v.toString(16)}` : String(v);
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return PLAIN.test(v) && !/^(?:true|false|null|yes|no)$/i.test(v) && !v.endsWith(' ') ? v : JSON.stringify(v);
}

/** YAML with flow collections; raw fragments that need a line of their own are wrapped in a block. */
function emitFlow(v: Tree, hex: boolean): string {
  if (Array.isArray(v)) return `[${v.map((x) => emitFlow(x, hex)).join(', ')}]`;
  if (typeof v === 'object' && v !== null && typeof v !== 'bigint' && !isRaw(v)) {
    return `{${Object.entries(v)
      .map(([k, x]) => `${scalarText(k, false)}: ${emitFlow(x, hex)}`)
      .join(', ')}}`;
  }
  const s = scalarText(v, hex);
  return s.includes('\n') ? JSON.stringify(s) : s;
}

/** Block style at the top and for step lists, flow inside: the layout of the real scenario files. */
function emitBlock(doc: Record<string, Tree>, hex: boolean, indent: number): string {
  const pad = ' '.repeat(indent);
  const out: string[] = [];
  for (const [k, v] of Object.entries(doc)) {
    const key = scalarText(k, false);
    if (Array.isArray(v)) {
      out.push(`${pad}${key}:${v.length === 0 ? ' []' : ''}`);
      for (const item of v) out.push(`${pad}  - ${emitFlow(item, hex)}`);
    } else if (typeof v === 'object' && v !== null && typeof v !== 'bigint' && !isRaw(v) && indent < 4) {
      out.push(`${pad}${key}:`);
      out.push(emitBlock(v, hex, indent + 2));
    } else if (isRaw(v) && v.raw.includes('\n')) {
      out.push(`${pad}${key}: ${v.raw.replace(/\n/g, `\n${pad}`)}`);
    } else {
      out.push(`${pad}${key}: ${emitFlow(v, hex)}`);
    }
  }
  return out.join('\n');
}

const toJson = (v: Tree): string =>
  JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? `@@${x}@@` : isRaw(x) ? x.raw : x)).replace(
    /"@@(-?\d+)@@"/g,
    '$1',
  );

const treeText: fc.Arbitrary<string> = fc
  .tuple(docTree, fc.constantFrom('block', 'block-hex', 'flow', 'json'))
  .map(([doc, style]) =>
    style === 'json' ? toJson(doc) : style === 'flow' ? emitFlow(doc, true) : emitBlock(doc, style === 'block-hex', 0),
  );

// ------------------------------------------------------------------------------------------------ mutations

function* yamlFiles(dir: string): Generator<string> {
  for (const f of readdirSync(dir)) {
    const p = join(dir, f);
    if (statSync(p).isDirectory()) yield* yamlFiles(p);
    else if (p.endsWith('.yaml')) yield p;
  }
}

const ROOT = join(import.meta.dirname, '..');
/** The seed corpus for mutations: every scenario that ships with gmemsim. */
export const SEEDS: readonly string[] = ['test/uapi', 'scenarios', 'conformance']
  .flatMap((d) => [...yamlFiles(join(ROOT, d))])
  .filter((p) => !p.endsWith('not-covered.yaml'))
  .sort()
  .map((p) => readFileSync(p, 'utf8'));

const TOKENS = [
  '[',
  ']',
  '{',
  '}',
  ':',
  ': ',
  ', ',
  '- ',
  '&a ',
  '*a',
  '!!binary ',
  '!!str ',
  '<<: ',
  '? ',
  '|',
  '>',
  "'",
  '"',
  '#',
  '\t',
  '\n',
  '\r\n',
  '\u0000',
  '\ufeff',
  '%YAML 1.1\n',
  '---\n',
  '...\n',
  '0x',
  '-',
  '__proto__',
  'KVM_RUN',
  'threads: {t0: [{op: close, fd: 3}]}\n',
  'after: []\n',
  'as: vm\n',
  '0xffffffffffffffffff',
  '-0x8000000000000001',
  '99999999999999999999',
  '1.5',
  '.inf',
  '~',
];

type Mutation =
  | { readonly k: 'insert'; readonly at: number; readonly tok: string }
  | { readonly k: 'delete'; readonly at: number; readonly len: number }
  | { readonly k: 'dupLine'; readonly at: number }
  | { readonly k: 'swapLines'; readonly a: number; readonly b: number }
  | { readonly k: 'number'; readonly at: number; readonly to: string };

const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ k: fc.constant('insert' as const), at: fc.nat(), tok: fc.constantFrom(...TOKENS) }),
  fc.record({ k: fc.constant('delete' as const), at: fc.nat(), len: fc.integer({ min: 1, max: 40 }) }),
  fc.record({ k: fc.constant('dupLine' as const), at: fc.nat() }),
  fc.record({ k: fc.constant('swapLines' as const), a: fc.nat(), b: fc.nat() }),
  fc.record({
    k: fc.constant('number' as const),
    at: fc.nat(),
    to: fc.constantFrom(...EXTREME_NUMBERS, '0', '1.5', 'vm', '-0x1'),
  }),
);

function mutate(text: string, m: Mutation): string {
  switch (m.k) {
    case 'insert': {
      const at = m.at % (text.length + 1);
      return text.slice(0, at) + m.tok + text.slice(at);
    }
    case 'delete': {
      const at = m.at % (text.length + 1);
      return text.slice(0, at) + text.slice(at + m.len);
    }
    case 'dupLine': {
      const lines = text.split('\n');
      const i = m.at % lines.length;
      lines.splice(i, 0, lines[i]);
      return lines.join('\n');
    }
    case 'swapLines': {
      const lines = text.split('\n');
      const a = m.a % lines.length;
      const b = m.b % lines.length;
      [lines[a], lines[b]] = [lines[b], lines[a]];
      return lines.join('\n');
    }
    case 'number': {
      const nums = [...text.matchAll(/\b(?:0x[0-9a-fA-F]+|\d+)\b/g)];
      if (nums.length === 0) return text;
      const hit = nums[m.at % nums.length];
      return text.slice(0, hit.index) + m.to + text.slice(hit.index! + hit[0].length);
    }
  }
}

const mutatedText: fc.Arbitrary<string> = fc
  .tuple(fc.nat({ max: SEEDS.length - 1 }), fc.array(mutationArb, { minLength: 1, maxLength: 6 }))
  .map(([i, ms]) => ms.reduce(mutate, SEEDS[i]));

// ------------------------------------------------------------------------------------------------ resource attacks

/** Billion laughs: `levels` anchors, each a list of `width` aliases of the previous one. */
const aliasBomb: fc.Arbitrary<string> = fc
  .tuple(
    fc.integer({ min: 2, max: 12 }),
    fc.integer({ min: 2, max: 12 }),
    fc.constantFrom('steps', 'description', 'bogus'),
  )
  .map(([levels, width, at]) => {
    const lines = ['a0: &a0 [lol, lol]'];
    for (let i = 1; i < levels; i++)
      lines.push(
        `a${i}: &a${i} [${Array(width)
          .fill(`*a${i - 1}`)
          .join(', ')}]`,
      );
    lines.push(`${at}: *a${levels - 1}`);
    if (at !== 'steps') lines.push('steps: []');
    return lines.join('\n');
  });

/** Nesting at and around the depth limit (64), in flow and block style, closed or not. */
const deepNesting: fc.Arbitrary<string> = fc
  .tuple(
    fc.oneof(fc.integer({ min: 60, max: 70 }), fc.integer({ min: 100, max: 20_000 })),
    fc.constantFrom('flow-seq', 'flow-map', 'block-map', 'block-seq', 'dash', 'unclosed'),
    fc.constantFrom('steps', 'description', 'top'),
  )
  .map(([n, style, at]) => {
    const body = (() => {
      switch (style) {
        case 'flow-seq':
          return `${'['.repeat(n)}1${']'.repeat(n)}`;
        case 'flow-map':
          return `${'{a: '.repeat(n)}1${'}'.repeat(n)}`;
        case 'unclosed':
          return '['.repeat(n);
        case 'dash':
          return `${'- '.repeat(n)}1`;
        case 'block-map':
          return `\n${Array.from({ length: Math.min(n, 3000) }, (_, i) => `${' '.repeat(i + 1)}a:`).join('\n')} 1`;
        default:
          return `\n${Array.from({ length: Math.min(n, 3000) }, (_, i) => `${' '.repeat(i + 1)}-`).join('\n')} 1`;
      }
    })();
    return at === 'top' ? body : `${at}: ${body}`;
  });

const hugeDoc: fc.Arbitrary<string> = fc
  .tuple(fc.constantFrom('steps', 'keys', 'key', 'op', 'string', 'label'), fc.integer({ min: 1000, max: 10_000 }))
  .map(([what, n]) => {
    switch (what) {
      case 'steps':
        return `steps:\n${Array(n).fill('  - {op: KVM_CREATE_VM}').join('\n')}`;
      case 'keys':
        return `steps: []\nbogus: {${Array.from({ length: n }, (_, i) => `k${i}: ${i}`).join(', ')}}`;
      case 'key':
        return `{"${'k'.repeat(n * 10)}": 1, steps: []}`;
      case 'op':
        return `steps: [{op: ${'x'.repeat(n * 10)}}]`;
      case 'string':
        return `name: "${'\\u00e9'.repeat(n)}"\nsteps: []`;
      default:
        return `steps: [{op: close, fd: ${'l'.repeat(n * 10)}+1}]`;
    }
  });

const binaryJunk: fc.Arbitrary<string> = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 200 }),
  fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b).toString('latin1')),
  fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b).toString('utf8')),
);

/** Any text; scenario-shaped and mutated documents dominate because they get furthest. */
export const languageInputArb: fc.Arbitrary<string> = fc.oneof(
  { arbitrary: treeText, weight: 10 },
  { arbitrary: mutatedText, weight: 10 },
  { arbitrary: aliasBomb, weight: 1 },
  { arbitrary: deepNesting, weight: 1 },
  { arbitrary: hugeDoc, weight: 1 },
  { arbitrary: binaryJunk, weight: 2 },
);
