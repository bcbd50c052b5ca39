// The "resolved JSON" form of a scenario: macro names turned into numbers, labels kept symbolic because their
// values exist only at run time (fds, addresses, pfns). The real-kernel runner executes this form.
import type { ArgSpec, RawValue } from '../ops/args.js';
import { LABEL_EXPR_RE } from '../ops/args.js';
import { resolveArg, resolveNumber } from '../ops/resolve.js';
import type { Scenario, StepSpec } from './load.js';

/** A numeric argument: a constant, or a label plus an offset. All numbers are hex strings of u64 values. */
export type CompiledValue =
  | { readonly n: string }
  | { readonly label: string; readonly add: string }
  | { readonly s: string };

export interface CompiledAccess {
  readonly rw: 'r' | 'w';
  readonly gpa: CompiledValue;
  readonly size: number;
  readonly value?: CompiledValue;
  readonly private?: boolean;
}

export interface CompiledStep {
  readonly index: number;
  readonly op: string;
  readonly as?: string;
  readonly args: Readonly<Record<string, CompiledValue>>;
  readonly guest?: readonly CompiledAccess[];
}

export interface CompiledScenario {
  readonly format: 'gmemsim-compiled/1';
  readonly name: string;
  readonly options: Readonly<Record<string, unknown>>;
  readonly steps: readonly CompiledStep[];
}

const hex = (v: bigint) => `0x${BigInt.asUintN(64, v).toString(16)}`;

function compileNumber(raw: unknown): CompiledValue {
  if (typeof raw === 'string') {
    const m = LABEL_EXPR_RE.exec(raw.trim());
    if (m && !/^[0-9]/.test(raw.trim())) {
      const off = m[2] ? BigInt(m[3]) * (m[2] === '-' ? -1n : 1n) : 0n;
      return { label: m[1], add: hex(off) };
    }
  }
  return { n: hex(resolveNumber(raw as RawValue, new Map())) };
}

function compileArg(spec: ArgSpec, raw: unknown, labels: Set<string>): CompiledValue {
  switch (spec.kind.k) {
    case 'string':
      return { s: raw as string };
    case 'flags':
    case 'enum': {
      // macro names resolve now; a lone label stays symbolic
      if (typeof raw === 'string' && labels.has(raw.trim())) return { label: raw.trim(), add: '0x0' };
      const placeholder = new Map([...labels].map((l) => [l, 0n] as const));
      return { n: hex(resolveArg(spec.kind, raw, placeholder) as bigint) };
    }
    default:
      return compileNumber(raw);
  }
}

function compileStep(s: StepSpec, labels: Set<string>): CompiledStep {
  const args: Record<string, CompiledValue> = {};
  let guest: CompiledAccess[] | undefined;
  for (const [name, spec] of Object.entries(s.op.args)) {
    const raw = s.raw[name];
    if (raw === undefined) continue;
    if (spec.kind.k === 'guest') {
      guest = (raw as Array<Record<string, unknown>>).map((a) => ({
        rw: 'write' in a ? 'w' : 'r',
        gpa: compileNumber('write' in a ? a.write : a.read),
        size: a.size === undefined ? 1 : Number(a.size),
        ...('write' in a ? { value: compileNumber(a.value) } : {}),
        ...(a.private === undefined ? {} : { private: a.private as boolean }),
      }));
      continue;
    }
    args[name] = compileArg(spec, raw, labels);
  }
  if (s.as) labels.add(s.as);
  return { index: s.index, op: s.op.name, ...(s.as ? { as: s.as } : {}), args, ...(guest ? { guest } : {}) };
}

export function compileScenario(s: Scenario): CompiledScenario {
  const labels = new Set<string>();
  return {
    format: 'gmemsim-compiled/1',
    name: s.name,
    options: s.options,
    steps: s.steps.map((st) => compileStep(st, labels)),
  };
}
