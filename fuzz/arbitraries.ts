// Value pools and arbitraries shared by the fuzzers: plausible uAPI arguments (page-aligned and misaligned offsets,
// sizes at the boundaries, flags valid and invalid) and a small YAML emitter for scenario documents.
import fc from 'fast-check';
import type { ConstGroup } from '../src/kernel/uapi/consts.js';

/** Common values first (fast-check shrinks constantFrom towards the first), extremes weighted low. */
export function pool(common: readonly string[], extreme: readonly string[] = []): fc.Arbitrary<string> {
  if (extreme.length === 0) return fc.constantFrom(...common);
  return fc.oneof(
    { arbitrary: fc.constantFrom(...common), weight: 9 },
    { arbitrary: fc.constantFrom(...extreme), weight: 1 },
  );
}

/** 64-bit boundaries, written the ways a scenario may write them. */
export const EXTREME_NUMBERS = [
  '0x7fffffffffffffff',
  '0x8000000000000000',
  '0xffffffffffffffff',
  '0xfffffffffffff000',
  '-1',
  '-0x1000',
  '9223372036854775807',
  '-9223372036854775808',
  '0x100000000',
  '0xffffffff',
  '0x80000000',
];

export const SIZES = pool(
  ['0x1000', '0x2000', '0x4000', '0x10000', '0', '0x1', '0xfff', '0x1001', '0x800', '0x3000', '0x200000'],
  [...EXTREME_NUMBERS, '0x40000000'],
);
export const OFFSETS = pool(
  ['0', '0x1000', '0x2000', '0x3000', '0x800', '0xfff', '0x4000', '0x10000'],
  EXTREME_NUMBERS,
);
export const GPAS = pool(
  ['0x100000000', '0x100004000', '0x0', '0x1000', '0x200000000', '0x100000800'],
  ['0xfffffffff000', '0x1000000000000', '0xfffffffffffff000', '0xfffff000', '0x7ffffffff000'],
);
export const PAGE_OFFSETS = pool(['0x0', '0x1000', '0x2000', '0x3000'], ['0x5000', '0x10000', '0x800', '-0x1000']);
export const ADDR_OFFSETS = pool(
  ['0', '0x1000', '0x2000', '0x800', '0xff8', '0x3000'],
  ['0x10000', '0xfff', '-0x1000'],
);
export const SLOTS = pool(
  ['1', '0', '2', '3'],
  ['0x10001', '0x7fff', '0x8000', '0x1ffff', '0xffffffff', '0x100000000'],
);
export const VALUES = pool(['0', '1', '0xff', '0xdead', '0x5a', '0x1122334455667788'], EXTREME_NUMBERS);
export const SMALL_INTS = pool(['0', '1', '2'], ['-1', '0xffffffff', '0x7fffffffffffffff', '3', '99']);
export const ACCESS_SIZES = pool(['1', '2', '4', '8'], ['0', '3', '16', '-1']);
export const BAD_FDS = ['-1', '0', '3', '77', '1023', '0x7fffffff'];

/** A flags argument: a list of macro names, one name, or a number that may carry unknown bits. */
export function flagsArb(g: ConstGroup): fc.Arbitrary<string | string[]> {
  const names = [...g.byName.keys()];
  return fc.oneof(
    { arbitrary: fc.subarray(names, { maxLength: Math.min(3, names.length) }), weight: 6 },
    { arbitrary: fc.constantFrom(...names), weight: 2 },
    {
      arbitrary: fc.oneof(
        fc.constantFrom('0', '0xffffffff', '0xffffffffffffffff'),
        fc.integer({ min: 0, max: 63 }).map((b) => `0x${(1n << BigInt(b)).toString(16)}`),
      ),
      weight: 1,
    },
  );
}

/** An enum argument: usually a macro name, sometimes a number nobody defined. */
export function enumArb(g: ConstGroup): fc.Arbitrary<string> {
  const names = [...g.byName.keys()];
  return fc.oneof(
    { arbitrary: fc.constantFrom(...names), weight: 9 },
    { arbitrary: fc.constantFrom('0', '1', '99', '0xffffffff', '0xffffffffffffffff', '-1'), weight: 1 },
  );
}

// ------------------------------------------------------------------------------------------------- YAML emitter

/** A value of a generated scenario: strings are emitted plain when YAML keeps them as written. */
export type YamlValue = string | number | bigint | boolean | null | YamlValue[] | { [k: string]: YamlValue };

const PLAIN = /^[A-Za-z0-9_/.+-][A-Za-z0-9_/.+ -]*$/;
const RESERVED = /^(?:true|false|null|~|yes|no|on|off|y|n)$/i;
/** plain scalars YAML would read as floats ("7.3" is a kernel version, not a number) */
const FLOATISH = /^[-+]?(?:\.inf|\.nan|[0-9]*\.[0-9]*(?:[eE][-+]?[0-9]+)?|[0-9]+[eE][-+]?[0-9]+)$/i;

/** Emits one value in flow style; hex numbers are written as they are (YAML reads 0x.. as an integer). */
export function flow(v: YamlValue): string {
  if (v === null) return 'null';
  if (typeof v === 'boolean' || typeof v === 'number') return String(v);
  if (typeof v === 'bigint') return v < 0n ? `-0x${(-v).toString(16)}` : `0x${v.toString(16)}`;
  if (typeof v === 'string')
    return PLAIN.test(v) && !RESERVED.test(v) && !FLOATISH.test(v) && !v.endsWith(' ') ? v : JSON.stringify(v);
  if (Array.isArray(v)) return `[${v.map(flow).join(', ')}]`;
  return `{${Object.entries(v)
    .map(([k, x]) => `${flow(k)}: ${flow(x)}`)
    .join(', ')}}`;
}

export interface ScenarioDoc {
  name?: string;
  options?: Record<string, YamlValue>;
  steps: Array<Record<string, YamlValue>>;
  threads?: Record<string, Array<Record<string, YamlValue>>>;
  after?: Array<Record<string, YamlValue>>;
}

/** Scenario YAML in the style of test/uapi: one flow mapping per step. */
export function scenarioYaml(d: ScenarioDoc): string {
  const out: string[] = [];
  if (d.name !== undefined) out.push(`name: ${flow(d.name)}`);
  if (d.options && Object.keys(d.options).length > 0) out.push(`options: ${flow(d.options)}`);
  const list = (steps: ReadonlyArray<Record<string, YamlValue>>, indent: string) =>
    steps.length === 0 ? ' []' : `\n${steps.map((s) => `${indent}- ${flow(s)}`).join('\n')}`;
  out.push(`steps:${list(d.steps, '  ')}`);
  if (d.threads) {
    out.push('threads:');
    for (const [name, steps] of Object.entries(d.threads)) out.push(`  ${name}:${list(steps, '    ')}`);
  }
  if (d.after && d.after.length > 0) out.push(`after:${list(d.after, '  ')}`);
  return `${out.join('\n')}\n`;
}
