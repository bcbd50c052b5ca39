// The result of one step, as `gmemsim run --json` prints it and `expect:` matches it.

import type { SigInfo } from '../kernel/task/task.js';
import { errnoName } from '../kernel/uapi/errno.js';
import { KVM_EXIT, MEMORY_EXIT_FLAGS } from '../kernel/uapi/kvm.js';
import { BUS_CODE, SIGNO } from '../kernel/uapi/signal.js';

export interface SignalResult {
  readonly signo: string;
  readonly code: string;
  readonly addr: number;
  readonly addr_lsb: number;
}

export interface MemoryFaultResult {
  readonly flags: string[];
  readonly gpa: number;
  readonly size: number;
}

export interface StatResult {
  readonly st_size: U64;
  readonly st_blksize: number;
  readonly st_ino: number;
  readonly st_mode: number;
}

/** A 64-bit value: a number when exact, else a hex string. */
export type U64 = number | string;

export interface StepResult {
  /** 0-based index in its step list */
  step: number;
  op: string;
  /** the thread that ran it, for scenarios with threads */
  thread?: string;
  ret: U64;
  errno: string | null;
  exit_reason?: string;
  memory_fault?: MemoryFaultResult;
  signal?: SignalResult;
  value?: U64;
  values?: U64[];
  stat?: StatResult;
  /** kernel log lines printed while the step ran */
  dmesg?: string[];
  /** set when the kernel panicked during the step; nothing runs after it */
  panic?: string;
  /** set when the model stopped a livelocked vCPU */
  livelock?: string;
}

export function u64(v: bigint | number): U64 {
  const b = BigInt(v);
  return b >= BigInt(Number.MIN_SAFE_INTEGER) && b <= BigInt(Number.MAX_SAFE_INTEGER)
    ? Number(b)
    : `0x${BigInt.asUintN(64, b).toString(16)}`;
}

/** Kernel convention (negative errno) to the userspace view (-1 and errno). */
export function fromKernel(r: number | bigint): Pick<StepResult, 'ret' | 'errno'> {
  const n = Number(r);
  return n < 0 && n >= -4095 ? { ret: -1, errno: errnoName(-n) } : { ret: u64(r), errno: null };
}

export function signalResult(s: SigInfo): SignalResult {
  return {
    signo: SIGNO.nameOf(s.signo) ?? String(s.signo),
    code:
      s.signo === 7
        ? (BUS_CODE.nameOf(s.code) ?? String(s.code))
        : s.code === 0
          ? 'SI_USER'
          : `SEGV_${s.code === 1 ? 'MAPERR' : 'ACCERR'}`,
    addr: s.addr,
    addr_lsb: s.addr_lsb,
  };
}

export function exitReasonName(r: number): string {
  return KVM_EXIT.nameOf(r) ?? String(r);
}

export function memoryFaultResult(mf: { flags: number; gpa: number; size: number }): MemoryFaultResult {
  return { flags: MEMORY_EXIT_FLAGS.flagNames(mf.flags), gpa: mf.gpa, size: mf.size };
}
