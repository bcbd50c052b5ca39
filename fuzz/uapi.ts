// uAPI fuzzing in the spirit of syzkaller: random sequences of well-shaped ops from the op table, with arguments
// drawn from plausible values, run sequentially with invariants after every op, and as `threads:` programs through
// a bounded exploration.
//
// Programs are generated in an abstract form in which an fd or address argument is "the n-th resource of these
// kinds made so far" rather than a label, so that fast-check can drop any step while shrinking and the program
// stays well-shaped; `materialize` turns it into a scenario with labels.
import fc from 'fast-check';
import { ERROR_HANDLERS, KERNEL_VERSIONS, MM_BEHAVIOURS } from '../src/kernel/options.js';
import type { ConstGroup } from '../src/kernel/uapi/consts.js';
import type { ArgSpec } from '../src/ops/args.js';
import { OPS, type OpDef } from '../src/ops/table.js';
import {
  ACCESS_SIZES,
  ADDR_OFFSETS,
  BAD_FDS,
  enumArb,
  flagsArb,
  GPAS,
  OFFSETS,
  PAGE_OFFSETS,
  pool,
  type ScenarioDoc,
  SIZES,
  SLOTS,
  SMALL_INTS,
  scenarioYaml,
  VALUES,
  type YamlValue,
} from './arbitraries.js';

/** What a step's return value is, when later steps can use it. */
export type ResKind = 'vm' | 'gmem' | 'vcpu' | 'memfd' | 'kvm' | 'fd' | 'mem' | 'pfn';

const PRODUCES: Readonly<Record<string, ResKind>> = {
  KVM_CREATE_VM: 'vm',
  KVM_CREATE_GUEST_MEMFD: 'gmem',
  KVM_CREATE_VCPU: 'vcpu',
  memfd_create: 'memfd',
  open: 'kvm',
  dup: 'fd',
  mmap: 'mem',
  pagemap: 'pfn',
};

/** An abstract argument. `n` picks among existing resources (or memslot bases) modulo their count. */
export type AVal =
  | { readonly t: 'lit'; readonly v: string | string[] }
  | {
      readonly t: 'ref';
      readonly kinds: readonly ResKind[];
      readonly n: number;
      readonly off?: string;
      readonly bad: string;
    }
  | { readonly t: 'gpa'; readonly n: number; readonly off: string; readonly bad: string }
  | { readonly t: 'guest'; readonly v: readonly AGuest[] };

export interface AGuest {
  readonly write: boolean;
  readonly n: number;
  readonly page: string;
  /** offset inside the page, a multiple of the access size so the access never crosses a page */
  readonly slot: number;
  readonly size: string;
  readonly value: string;
  readonly priv?: boolean;
}

export interface AStep {
  readonly op: string;
  readonly args: Readonly<Record<string, AVal>>;
}

export interface SeqProgram {
  readonly options: Readonly<Record<string, YamlValue>>;
  readonly steps: readonly AStep[];
}

export interface ThreadProgram {
  readonly options: Readonly<Record<string, YamlValue>>;
  readonly setup: readonly AStep[];
  readonly threads: ReadonlyArray<readonly AStep[]>;
  readonly after: readonly AStep[];
}

// ------------------------------------------------------------------------------------------------ arguments

const lit = (a: fc.Arbitrary<string | string[]>): fc.Arbitrary<AVal> => a.map((v) => ({ t: 'lit', v }));

function ref(kinds: readonly ResKind[], off?: fc.Arbitrary<string>): fc.Arbitrary<AVal> {
  return fc
    .record({
      n: fc.nat({ max: 7 }),
      off: off ?? fc.constant(undefined),
      bad: fc.constantFrom(...BAD_FDS),
    })
    .map(({ n, off: o, bad }) => ({ t: 'ref', kinds, n, bad, ...(o === undefined || o === '0' ? {} : { off: o }) }));
}

/** Mostly a resource of the right kind; sometimes a plain number (a closed, foreign or absent fd). */
function fdArb(kinds: readonly ResKind[]): fc.Arbitrary<AVal> {
  return fc.oneof({ arbitrary: ref(kinds), weight: 12 }, { arbitrary: lit(fc.constantFrom(...BAD_FDS)), weight: 1 });
}

const ANY_FD: readonly ResKind[] = ['gmem', 'memfd', 'vm', 'vcpu', 'kvm', 'fd'];

const gpaArb: fc.Arbitrary<AVal> = fc.oneof(
  {
    arbitrary: fc
      .record({ n: fc.nat({ max: 3 }), off: PAGE_OFFSETS, bad: GPAS })
      .map(({ n, off, bad }): AVal => ({ t: 'gpa', n, off, bad })),
    weight: 3,
  },
  { arbitrary: lit(GPAS), weight: 1 },
);

const guestArb: fc.Arbitrary<AVal> = fc
  .array(
    fc.record(
      {
        write: fc.boolean(),
        n: fc.nat({ max: 3 }),
        page: PAGE_OFFSETS,
        slot: fc.nat({ max: 511 }),
        size: fc.constantFrom('1', '2', '4', '8'),
        value: VALUES,
        priv: fc.boolean(),
      },
      { requiredKeys: ['write', 'n', 'page', 'slot', 'size', 'value'] },
    ),
    { minLength: 1, maxLength: 4 },
  )
  .map((v): AVal => ({ t: 'guest', v }));

function enumOrFlags(spec: ArgSpec): fc.Arbitrary<AVal> {
  const k = spec.kind as { k: string; g: ConstGroup };
  return lit(k.k === 'flags' ? flagsArb(k.g) : enumArb(k.g));
}

/** `int` arguments must fit a JS number once read as signed 64-bit (resolve.ts); anything else is ill-shaped. */
function fitsInt(v: string | string[]): boolean {
  if (Array.isArray(v)) return true;
  if (!/^-?(?:0x[0-9a-f]+|[0-9]+)$/i.test(v)) return true;
  const b = BigInt.asIntN(64, v.startsWith('-') ? -BigInt(v.slice(1)) : BigInt(v));
  return b <= BigInt(Number.MAX_SAFE_INTEGER) && b >= BigInt(Number.MIN_SAFE_INTEGER);
}

/** The arbitrary for one argument, from its kind and what its name means. */
function argArb(def: OpDef, name: string, spec: ArgSpec): fc.Arbitrary<AVal> {
  const a = numberArgArb(def, name, spec);
  return spec.kind.k === 'int' ? a.filter((v) => v.t !== 'lit' || fitsInt(v.v)) : a;
}

function numberArgArb(def: OpDef, name: string, spec: ArgSpec): fc.Arbitrary<AVal> {
  const kind = spec.kind;
  if (kind.k === 'guest') return guestArb;
  if (kind.k === 'flags' || kind.k === 'enum') return enumOrFlags(spec);
  if (kind.k === 'string') {
    return lit(kind.values ? fc.constantFrom(...kind.values) : fc.constantFrom('gmemsim', 'x', 'guest-memory'));
  }
  if (kind.k === 'fd') {
    if (name === 'vm') return fdArb(['vm']);
    if (name === 'vcpu') return fdArb(['vcpu']);
    if (name === 'guest_memfd') return fdArb(['gmem', 'gmem', 'gmem', 'memfd']);
    if (def.name === 'KVM_CREATE_VM' || def.name === 'KVM_CHECK_EXTENSION') return fdArb(['kvm', 'vm']);
    if (['memory_failure', 'corrupt_frame', 'mmap', 'fallocate', 'ftruncate'].includes(def.name)) {
      return fdArb(['gmem', 'gmem', 'memfd']);
    }
    return fdArb(ANY_FD);
  }
  // numbers: by what the argument means
  switch (name) {
    case 'addr':
    case 'userspace_addr':
      return fc.oneof(
        { arbitrary: ref(['mem'], ADDR_OFFSETS), weight: 6 },
        {
          arbitrary: lit(pool(['0', '0x1000', '0x7f0000000000'], ['0xffffffffffffffff', '0x800000000000'])),
          weight: 1,
        },
      );
    case 'pfn':
      return fc.oneof(
        { arbitrary: ref(['pfn']), weight: 3 },
        {
          arbitrary: lit(
            pool(['0x100000', '0x100001', '0x100002', '0'], ['0x10000000000', '0xfffff', '0xffffffffffffffff']),
          ),
          weight: 1,
        },
      );
    case 'guest_phys_addr':
      return lit(GPAS);
    case 'address':
      return gpaArb;
    case 'slot':
      return lit(SLOTS);
    case 'id':
      return lit(pool(['0', '1', '2'], ['0x3ff', '0x1000', '0xffffffff']));
    case 'offset':
      return def.name === 'memory_failure' || def.name === 'corrupt_frame' ? lit(PAGE_OFFSETS) : lit(OFFSETS);
    case 'guest_memfd_offset':
      return lit(OFFSETS);
    case 'size':
      return def.name === 'load' || def.name === 'store' ? lit(ACCESS_SIZES) : lit(SIZES);
    case 'count':
    case 'length':
    case 'len':
    case 'memory_size':
      return lit(SIZES);
    case 'value':
      return def.name === 'sysctl' ? lit(pool(['0', '1'], ['2', '-1'])) : lit(VALUES);
    default:
      return lit(SMALL_INTS);
  }
}

const stepArbs = new Map<string, fc.Arbitrary<AStep>>();

/** A step of op `name` with its required arguments and a random choice of its optional ones. */
function stepArb(name: string): fc.Arbitrary<AStep> {
  const cached = stepArbs.get(name);
  if (cached) return cached;
  const def = OPS.get(name)!;
  const groups = def.oneOf ?? [];
  const inGroup = new Set(groups.flat());
  // one variant per choice in each oneOf group, so every step is well-shaped (memory_failure: pfn, or fd+offset)
  const choices: string[][] = groups.reduce<string[][]>((acc, g) => acc.flatMap((c) => g.map((x) => [...c, x])), [[]]);
  const variants = choices.map((chosen) => {
    const rec: Record<string, fc.Arbitrary<AVal>> = {};
    const required: string[] = [];
    for (const [arg, spec] of Object.entries(def.args)) {
      const picked = chosen.includes(arg) || (arg === 'offset' && chosen.includes('fd'));
      if (inGroup.has(arg) && !chosen.includes(arg)) continue;
      if (arg === 'offset' && groups.length > 0 && !chosen.includes('fd')) continue;
      rec[arg] = argArb(def, arg, spec);
      if (spec.required || picked) required.push(arg);
    }
    return fc.record(rec, { requiredKeys: required }).map((args): AStep => ({ op: name, args }));
  });
  const a = variants.length === 1 ? variants[0] : fc.oneof(...variants);
  stepArbs.set(name, a);
  return a;
}

/** How often each op is drawn: the ones that build state and the memory-failure paths more often. */
const WEIGHTS: Readonly<Record<string, number>> = {
  KVM_CREATE_VM: 3,
  KVM_CREATE_GUEST_MEMFD: 4,
  KVM_SET_USER_MEMORY_REGION2: 4,
  KVM_SET_MEMORY_ATTRIBUTES: 4,
  KVM_CREATE_VCPU: 3,
  KVM_RUN: 6,
  memory_failure: 4,
  fallocate: 4,
  mmap: 4,
  madvise: 3,
  load: 3,
  store: 3,
  pagemap: 3,
  corrupt_pfn: 2,
  unpoison_pfn: 2,
  close: 2,
};

export function anyStepArb(ops: readonly string[] = [...OPS.keys()]): fc.Arbitrary<AStep> {
  return fc.oneof(...ops.map((op) => ({ arbitrary: stepArb(op), weight: WEIGHTS[op] ?? 1 })));
}

/** Ops that race interestingly with each other in `threads:`. */
const THREAD_OPS = [
  'KVM_RUN',
  'KVM_RUN',
  'memory_failure',
  'fallocate',
  'close',
  'KVM_SET_MEMORY_ATTRIBUTES',
  'KVM_SET_USER_MEMORY_REGION2',
  'madvise',
  'munmap',
  'load',
  'store',
  'corrupt_pfn',
  'unpoison_pfn',
  'ftruncate',
];

// ------------------------------------------------------------------------------------------------ templates

const L = (v: string | string[]): AVal => ({ t: 'lit', v });
const R = (kind: ResKind, off?: string): AVal => ({
  t: 'ref',
  kinds: [kind],
  n: -1,
  bad: '-1',
  ...(off ? { off } : {}),
});
const S = (op: string, args: Record<string, AVal>): AStep => ({ op, args });

/** Setups that reach deep states quickly; shrinking removes whatever a failure does not need. */
export const TEMPLATES: Readonly<Record<string, readonly AStep[]>> = {
  none: [],
  private: [
    S('KVM_CREATE_VM', { type: L('KVM_X86_SW_PROTECTED_VM') }),
    S('KVM_CREATE_GUEST_MEMFD', { vm: R('vm'), size: L('0x10000') }),
    S('KVM_SET_USER_MEMORY_REGION2', {
      vm: R('vm'),
      slot: L('1'),
      flags: L(['KVM_MEM_GUEST_MEMFD']),
      guest_phys_addr: L('0x100000000'),
      memory_size: L('0x10000'),
      guest_memfd: R('gmem'),
    }),
    S('KVM_SET_MEMORY_ATTRIBUTES', {
      vm: R('vm'),
      address: L('0x100000000'),
      size: L('0x10000'),
      attributes: L(['KVM_MEMORY_ATTRIBUTE_PRIVATE']),
    }),
    S('KVM_CREATE_VCPU', { vm: R('vm') }),
    S('fallocate', { fd: R('gmem'), mode: L('FALLOC_FL_KEEP_SIZE'), offset: L('0'), len: L('0x4000') }),
  ],
  shared: [
    S('KVM_CREATE_VM', {}),
    S('memfd_create', { name: L('guest') }),
    S('ftruncate', { fd: R('memfd'), length: L('0x10000') }),
    S('mmap', { length: L('0x10000'), prot: L(['PROT_READ', 'PROT_WRITE']), flags: L('MAP_SHARED'), fd: R('memfd') }),
    S('KVM_SET_USER_MEMORY_REGION', {
      vm: R('vm'),
      slot: L('0'),
      guest_phys_addr: L('0x100000000'),
      memory_size: L('0x10000'),
      userspace_addr: R('mem'),
    }),
    S('KVM_CREATE_VCPU', { vm: R('vm') }),
    S('store', { addr: R('mem', '0x1000'), value: L('0x5a') }),
  ],
  inplace: [
    S('KVM_CREATE_VM', { type: L('KVM_X86_SW_PROTECTED_VM') }),
    S('KVM_CREATE_GUEST_MEMFD', {
      vm: R('vm'),
      size: L('0x10000'),
      flags: L(['GUEST_MEMFD_FLAG_MMAP', 'GUEST_MEMFD_FLAG_INIT_SHARED']),
    }),
    S('mmap', { length: L('0x10000'), prot: L(['PROT_READ', 'PROT_WRITE']), flags: L('MAP_SHARED'), fd: R('gmem') }),
    S('KVM_SET_USER_MEMORY_REGION2', {
      vm: R('vm'),
      slot: L('1'),
      flags: L(['KVM_MEM_GUEST_MEMFD']),
      guest_phys_addr: L('0x100000000'),
      memory_size: L('0x10000'),
      userspace_addr: R('mem'),
      guest_memfd: R('gmem'),
    }),
    S('KVM_CREATE_VCPU', { vm: R('vm') }),
    S('store', { addr: R('mem', '0x2000'), value: L('0x77') }),
    S('pagemap', { addr: R('mem', '0x2000') }),
  ],
};

const TEMPLATE_NAMES = Object.keys(TEMPLATES);

const optionsArb: fc.Arbitrary<Record<string, YamlValue>> = fc.record({
  mm: fc.constantFrom(...MM_BEHAVIOURS),
  error_handler: fc.oneof(
    { arbitrary: fc.constant('mainline'), weight: 8 },
    { arbitrary: fc.constantFrom(...ERROR_HANDLERS.filter((h) => h !== 'mainline')), weight: 2 },
  ),
  kernel: fc.constantFrom(...KERNEL_VERSIONS),
  sw_protected_vm: fc.oneof({ arbitrary: fc.constant(true), weight: 4 }, { arbitrary: fc.constant(false), weight: 1 }),
});

export const seqProgramArb: fc.Arbitrary<SeqProgram> = fc
  .record({
    options: optionsArb,
    template: fc.constantFrom(...TEMPLATE_NAMES),
    steps: fc.array(anyStepArb(), { maxLength: 24 }),
  })
  .map(({ options, template, steps }) => ({ options, steps: [...TEMPLATES[template], ...steps] }));

export const threadProgramArb: fc.Arbitrary<ThreadProgram> = fc
  .record({
    options: optionsArb,
    template: fc.constantFrom(...TEMPLATE_NAMES.filter((t) => t !== 'none')),
    setup: fc.array(anyStepArb(), { maxLength: 5 }),
    threads: fc.array(fc.array(anyStepArb(THREAD_OPS), { minLength: 1, maxLength: 3 }), { minLength: 2, maxLength: 3 }),
    after: fc.array(anyStepArb(THREAD_OPS), { maxLength: 2 }),
  })
  .map(({ options, template, setup, threads, after }) => ({
    options,
    setup: [...TEMPLATES[template], ...setup],
    threads,
    after,
  }));

// ------------------------------------------------------------------------------------------------ materialize

interface Scope {
  readonly res: Map<ResKind, string[]>;
  /** guest-physical bases of the memslots created so far */
  readonly gpas: string[];
}

const cloneScope = (s: Scope): Scope => ({
  res: new Map([...s.res].map(([k, v]) => [k, [...v]])),
  gpas: [...s.gpas],
});

const big = (a: string): bigint => (a.startsWith('-') ? -BigInt(a.slice(1)) : BigInt(a));

/** a + b as a scenario number; sums past 2^64 wrap, as the guest-physical address arithmetic would */
const addHex = (a: string, b: string): string => {
  let v = big(a) + big(b);
  if (v >= 1n << 64n) v = BigInt.asUintN(64, v);
  return v < 0n ? `-0x${(-v).toString(16)}` : `0x${v.toString(16)}`;
};

function pick<T>(list: readonly T[], n: number): T | undefined {
  if (list.length === 0) return undefined;
  return n < 0 ? list[list.length - 1] : list[n % list.length];
}

function argValue(a: AVal, sc: Scope): YamlValue {
  switch (a.t) {
    case 'lit':
      return a.v;
    case 'ref': {
      const all = a.kinds.flatMap((k) => sc.res.get(k) ?? []);
      const label = a.n < 0 ? pick(sc.res.get(a.kinds[0]) ?? [], -1) : pick(all, a.n);
      if (label === undefined) return a.bad;
      if (!a.off) return label;
      return a.off.startsWith('-') ? `${label}${a.off}` : `${label}+${a.off}`;
    }
    case 'gpa': {
      const base = pick(sc.gpas, a.n) ?? a.bad;
      return addHex(base, a.off);
    }
    case 'guest':
      return a.v.map((g) => {
        const base = pick(sc.gpas, g.n) ?? '0x100000000';
        const size = BigInt(g.size);
        const inPage = size >= 1n && size <= 8n ? (BigInt(g.slot) * size) % 0x1000n : 0n;
        const gpa = addHex(addHex(base, g.page), `0x${inPage.toString(16)}`);
        const acc: Record<string, YamlValue> = g.write ? { write: gpa, value: g.value } : { read: gpa };
        if (g.size !== '1') acc.size = g.size;
        if (g.priv !== undefined) acc.private = g.priv;
        return acc;
      });
  }
}

let labelSeq = 0;

function materializeSteps(steps: readonly AStep[], sc: Scope, prefix: string): Array<Record<string, YamlValue>> {
  return steps.map((st) => {
    const out: Record<string, YamlValue> = { op: st.op };
    for (const [name, a] of Object.entries(st.args)) out[name] = argValue(a, sc);
    const kind = PRODUCES[st.op];
    if (kind) {
      const label = `${prefix}${kind}${labelSeq++}`;
      out.as = label;
      const list = sc.res.get(kind) ?? [];
      list.push(label);
      sc.res.set(kind, list);
    }
    if (st.op.startsWith('KVM_SET_USER_MEMORY_REGION') && typeof out.guest_phys_addr === 'string') {
      sc.gpas.push(out.guest_phys_addr);
    }
    return out;
  });
}

export function seqScenario(p: SeqProgram): ScenarioDoc {
  labelSeq = 0;
  const sc: Scope = { res: new Map(), gpas: [] };
  return { name: 'uapi fuzz', options: { ...p.options }, steps: materializeSteps(p.steps, sc, '') };
}

export function threadScenario(p: ThreadProgram): ScenarioDoc {
  labelSeq = 0;
  const sc: Scope = { res: new Map(), gpas: [] };
  const steps = materializeSteps(p.setup, sc, '');
  const afterScope = cloneScope(sc);
  const threads: Record<string, Array<Record<string, YamlValue>>> = {};
  p.threads.forEach((t, i) => {
    const mine = cloneScope(sc);
    threads[`t${i}`] = materializeSteps(t, mine, `t${i}_`);
    for (const [k, v] of mine.res) afterScope.res.set(k, [...new Set([...(afterScope.res.get(k) ?? []), ...v])]);
  });
  const after = materializeSteps(p.after, afterScope, 'a_');
  return { name: 'uapi threads fuzz', options: { ...p.options }, steps, threads, after };
}

export const seqText = (p: SeqProgram): string => scenarioYaml(seqScenario(p));
export const threadText = (p: ThreadProgram): string => scenarioYaml(threadScenario(p));

/** Invariants hold by design only with the mainline error handler; the 2023 variants are there to break them. */
export const checksProperties = (options: Readonly<Record<string, YamlValue>>): boolean =>
  (options.error_handler ?? 'mainline') === 'mainline';
