// Converts raw argument values (numbers, hex strings, labels, macro names) to the values the model takes.
// Errors come back as data (an ArgProblem) so that callers can attach a file location or an API field path.
import type { DiagnosticCode } from '../diagnostics/codes.js';
import type { ArgKind, RawValue } from './args.js';
import { IDENT_RE, LABEL_EXPR_RE, NUMBER_RE } from './args.js';

export interface ArgProblem {
  readonly code: DiagnosticCode;
  readonly message: string;
  readonly hint?: string;
}

export type Labels = ReadonlyMap<string, bigint>;

export type Resolved = bigint | number | string | GuestAccess[];

export interface GuestAccess {
  readonly write: boolean;
  readonly gpa: bigint;
  readonly size: 1 | 2 | 4 | 8;
  readonly value: bigint;
  /** undefined: follow the VM's memory attributes */
  readonly private?: boolean;
}

export class ArgError extends Error {
  constructor(readonly problem: ArgProblem) {
    super(problem.message);
  }
}

const U64_MAX = (1n << 64n) - 1n;
const I64_MIN = -(1n << 63n);

function fail(code: DiagnosticCode, message: string, hint?: string): never {
  throw new ArgError({ code, message, hint });
}

/** Plain number or label expression. Negative literals are allowed (e.g. fd -1) and wrap like C casts. */
export function resolveNumber(raw: RawValue, labels: Labels): bigint {
  if (typeof raw === 'bigint') return checkRange(raw);
  if (typeof raw === 'number') {
    if (!Number.isSafeInteger(raw)) fail('GMEM1009', `${raw} is not an exact integer; write large values as hex`);
    return checkRange(BigInt(raw));
  }
  if (typeof raw !== 'string') fail('GMEM1005', 'expected a number, a hex string or a label');
  const s = raw.trim();
  if (NUMBER_RE.test(s) || /^-[0-9]+$/.test(s)) return checkRange(BigInt(s));
  if (/^-0[xX][0-9a-fA-F]+$/.test(s)) return checkRange(-BigInt(s.slice(1)));
  const m = LABEL_EXPR_RE.exec(s);
  if (!m) fail('GMEM1005', `"${raw}" is not a number, a hex string, or LABEL, LABEL+N, LABEL-N`);
  const base = labels.get(m[1]);
  if (base === undefined) {
    fail('GMEM1010', `label "${m[1]}" is not defined by an earlier step`, labelHint(m[1], labels));
  }
  if (!m[2]) return base;
  const off = BigInt(m[3]);
  return checkRange(m[2] === '+' ? base + off : base - off);
}

function checkRange(v: bigint): bigint {
  if (v > U64_MAX || v < I64_MIN) fail('GMEM1009', `${v} does not fit in 64 bits`);
  return v;
}

function labelHint(_name: string, labels: Labels): string | undefined {
  const known = [...labels.keys()];
  return known.length ? `labels defined so far: ${known.join(', ')}` : 'no labels are defined yet; use `as:` on a step';
}

function macroOrLabel(
  name: string,
  kind: ArgKind & { g: { byName: ReadonlyMap<string, bigint>; name: string } },
  labels: Labels,
): bigint {
  const v = kind.g.byName.get(name);
  if (v !== undefined) return v;
  if (IDENT_RE.test(name) && !labels.has(name) && /^[A-Z0-9_]+$/.test(name)) {
    fail('GMEM1008', `unknown ${kind.g.name} name "${name}"`, `known names: ${[...kind.g.byName.keys()].join(', ')}`);
  }
  return resolveNumber(name, labels);
}

export function resolveArg(kind: ArgKind, raw: unknown, labels: Labels): Resolved {
  switch (kind.k) {
    case 'u64':
      return BigInt.asUintN(64, resolveNumber(raw as RawValue, labels));
    case 'int':
    case 'fd': {
      const v = resolveNumber(raw as RawValue, labels);
      const s = BigInt.asIntN(64, v);
      if (s > BigInt(Number.MAX_SAFE_INTEGER) || s < BigInt(Number.MIN_SAFE_INTEGER)) {
        fail('GMEM1009', `${v} is out of range here`);
      }
      return Number(s);
    }
    case 'flags': {
      if (Array.isArray(raw)) {
        let acc = 0n;
        for (const name of raw) {
          if (typeof name !== 'string') fail('GMEM1005', `flag lists hold macro names, not ${typeof name}`);
          acc |= macroOrLabel(name, kind, labels);
        }
        return acc;
      }
      if (typeof raw === 'string') return BigInt.asUintN(64, macroOrLabel(raw.trim(), kind, labels));
      return BigInt.asUintN(64, resolveNumber(raw as RawValue, labels));
    }
    case 'enum':
      if (typeof raw === 'string') return BigInt.asUintN(64, macroOrLabel(raw.trim(), kind, labels));
      return BigInt.asUintN(64, resolveNumber(raw as RawValue, labels));
    case 'string':
      if (typeof raw !== 'string') fail('GMEM1005', 'expected a string');
      if (kind.values && !kind.values.includes(raw)) {
        fail('GMEM1016', `"${raw}" is not supported here`, `supported: ${kind.values.join(', ')}`);
      }
      return raw;
    case 'guest':
      return resolveGuest(raw, labels);
  }
}

function resolveGuest(raw: unknown, labels: Labels): GuestAccess[] {
  if (!Array.isArray(raw)) fail('GMEM1015', 'guest: expected a list of {read: GPA} or {write: GPA, value: V}');
  return raw.map((a, i) => {
    if (typeof a !== 'object' || a === null) fail('GMEM1015', `guest[${i}]: expected a mapping`);
    const o = a as Record<string, unknown>;
    const write = 'write' in o;
    if (write === 'read' in o) fail('GMEM1015', `guest[${i}]: give exactly one of read or write`);
    const sizeRaw = o.size === undefined ? 1n : resolveNumber(o.size as RawValue, labels);
    if (![1n, 2n, 4n, 8n].includes(sizeRaw)) fail('GMEM1015', `guest[${i}]: size must be 1, 2, 4 or 8`);
    const size = Number(sizeRaw) as 1 | 2 | 4 | 8;
    const gpa = BigInt.asUintN(64, resolveNumber((write ? o.write : o.read) as RawValue, labels));
    if ((gpa & 0xfffn) + BigInt(size) > 0x1000n) fail('GMEM1015', `guest[${i}]: access crosses a page boundary`);
    const value = write ? BigInt.asUintN(size * 8, resolveNumber(o.value as RawValue, labels)) : 0n;
    if (write && o.value === undefined) fail('GMEM1015', `guest[${i}]: a write needs a value`);
    if (o.private !== undefined && typeof o.private !== 'boolean')
      fail('GMEM1015', `guest[${i}]: private is true or false`);
    return { write, gpa, size, value, private: o.private as boolean | undefined };
  });
}
