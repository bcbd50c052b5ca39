// Compares a step's `expect:` with its result. Numbers may be labels or hex; flag lists compare as sets;
// nested objects compare field by field; `dmesg` lists substrings that must appear in order.
import { ERRNO } from '../kernel/uapi/errno.js';
import { KVM_EXIT, MEMORY_EXIT_FLAGS } from '../kernel/uapi/kvm.js';
import { ArgError, type Labels, resolveNumber } from '../ops/resolve.js';
import type { StepResult } from '../ops/result.js';
import type { Expect } from './load.js';

export interface Mismatch {
  readonly field: string;
  readonly expected: unknown;
  readonly actual: unknown;
}

/** The expected number, or undefined (a mismatch) when it names no label an earlier step defined. */
function asBig(v: unknown, labels: Labels): bigint | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'string' && /^0x[0-9a-f]+$/i.test(v)) return BigInt(v);
  try {
    return resolveNumber(v as string, labels);
  } catch (e) {
    if (e instanceof ArgError) return undefined;
    throw e;
  }
}

/** An actual result value: numbers are exact by construction, strings are hex. */
function actualBig(v: unknown): bigint | undefined {
  if (typeof v === 'number' && Number.isInteger(v)) return BigInt(v);
  if (typeof v === 'string' && /^0x[0-9a-f]+$/i.test(v)) return BigInt(v);
  return undefined;
}

function sameNumber(exp: unknown, act: unknown, labels: Labels): boolean {
  const a = actualBig(act);
  const e = asBig(exp, labels);
  return a !== undefined && e !== undefined && BigInt.asUintN(64, a) === BigInt.asUintN(64, e);
}

function flagSet(v: unknown): Set<string> {
  if (v === undefined || v === null) return new Set();
  if (typeof v === 'number' || typeof v === 'bigint') return new Set(MEMORY_EXIT_FLAGS.flagNames(BigInt(v)));
  return new Set(Array.isArray(v) ? v.map(String) : [String(v)]);
}

function sameName(exp: unknown, act: unknown, byName: ReadonlyMap<string, bigint>): boolean {
  if (exp === act) return true;
  const e = typeof exp === 'string' ? byName.get(exp) : exp === null ? undefined : BigInt(exp as number);
  const a = typeof act === 'string' ? byName.get(act) : undefined;
  return e !== undefined && e === a;
}

export function compareExpect(e: Expect, r: StepResult, labels: Labels): Mismatch[] {
  const out: Mismatch[] = [];
  const miss = (field: string, expected: unknown, actual: unknown) => out.push({ field, expected, actual });
  if (e.ret !== undefined && !sameNumber(e.ret, r.ret, labels)) miss('ret', e.ret, r.ret);
  if (e.errno !== undefined && !sameName(e.errno, r.errno, ERRNO.byName)) miss('errno', e.errno, r.errno);
  if (e.exit_reason !== undefined) {
    if (
      e.exit_reason === null ? r.exit_reason !== undefined : !sameName(e.exit_reason, r.exit_reason, KVM_EXIT.byName)
    ) {
      miss('exit_reason', e.exit_reason, r.exit_reason ?? null);
    }
  }
  if (e.memory_fault !== undefined) {
    const mf = r.memory_fault;
    if (e.memory_fault === null) {
      if (mf) miss('memory_fault', null, mf);
    } else if (!mf) {
      miss('memory_fault', e.memory_fault, null);
    } else {
      const ef = e.memory_fault;
      if (ef.flags !== undefined) {
        const a = flagSet(mf.flags);
        const x = flagSet(ef.flags);
        if (a.size !== x.size || [...x].some((f) => !a.has(f))) miss('memory_fault.flags', [...x], mf.flags);
      }
      if (ef.gpa !== undefined && !sameNumber(ef.gpa, mf.gpa, labels)) miss('memory_fault.gpa', ef.gpa, mf.gpa);
      if (ef.size !== undefined && !sameNumber(ef.size, mf.size, labels)) miss('memory_fault.size', ef.size, mf.size);
    }
  }
  if (e.signal !== undefined) {
    const s = r.signal;
    if (e.signal === null) {
      if (s) miss('signal', null, s);
    } else if (!s) {
      miss('signal', e.signal, null);
    } else {
      if (e.signal.signo !== undefined && e.signal.signo !== s.signo) miss('signal.signo', e.signal.signo, s.signo);
      if (e.signal.code !== undefined && e.signal.code !== s.code) miss('signal.code', e.signal.code, s.code);
      if (e.signal.addr !== undefined && !sameNumber(e.signal.addr, s.addr, labels))
        miss('signal.addr', e.signal.addr, s.addr);
      if (e.signal.addr_lsb !== undefined && !sameNumber(e.signal.addr_lsb, s.addr_lsb, labels)) {
        miss('signal.addr_lsb', e.signal.addr_lsb, s.addr_lsb);
      }
    }
  }
  if (e.value !== undefined && !sameNumber(e.value, r.value, labels)) miss('value', e.value, r.value ?? null);
  if (e.values !== undefined) {
    const a = r.values ?? [];
    if (a.length !== e.values.length || e.values.some((v, i) => !sameNumber(v, a[i], labels)))
      miss('values', e.values, a);
  }
  if (e.stat !== undefined) {
    for (const [k, v] of Object.entries(e.stat)) {
      const act = r.stat?.[k as keyof typeof r.stat];
      if (v !== undefined && !sameNumber(v, act, labels)) miss(`stat.${k}`, v, act ?? null);
    }
  }
  if (e.dmesg !== undefined) {
    const lines = r.dmesg ?? [];
    let i = 0;
    for (const want of e.dmesg) {
      while (i < lines.length && !lines[i].includes(want)) i++;
      if (i === lines.length) {
        miss('dmesg', want, lines);
        break;
      }
      i++;
    }
  }
  if (e.panic !== undefined && (e.panic === null ? r.panic !== undefined : !r.panic?.includes(e.panic)))
    miss('panic', e.panic, r.panic ?? null);
  if (e.livelock !== undefined && (e.livelock === null ? r.livelock !== undefined : r.livelock === undefined)) {
    miss('livelock', e.livelock, r.livelock ?? null);
  }
  return out;
}
