// Signal generation and delivery (kernel/signal.c) for the signals this model produces: SIGBUS with
// BUS_MCEERR_AR/AO or BUS_ADRERR, plain SIGBUS (SI_KERNEL) and SIGKILL.
//
// Model assumption, stated in the README: the VMM process has a SIGBUS handler installed (as QEMU does), so a
// delivered SIGBUS is reported to the scenario instead of killing the process. SIGKILL always kills.

import { trace_signal_deliver, trace_signal_generate } from '../../trace/points.js';
import type { KGen } from '../core/sched.js';
import { type Ctx, wr } from '../core/sched.js';
import { SI_KERNEL, SIGBUS, SIGKILL } from '../uapi/signal.js';
import type { SigInfo, Task } from './task.js';

const TRACE_SIGNAL_DELIVERED = 0;
const TRACE_SIGNAL_ALREADY_PENDING = 2;

export const sigKey = (t: Task) => `signal:${t.tid}`;

/** __send_signal_locked(): legacy (non-RT) signals are not queued twice (legacy_queue()). */
function* send_signal(ctx: Ctx, info: SigInfo, t: Task): KGen<number> {
  yield* wr(sigKey(t));
  const dup = t.pending.some((s) => s.signo === info.signo);
  trace_signal_generate(
    ctx,
    info.signo,
    info.code,
    t.comm,
    t.tid,
    dup ? TRACE_SIGNAL_ALREADY_PENDING : TRACE_SIGNAL_DELIVERED,
    {
      addr: info.addr,
      addr_lsb: info.addr_lsb,
    },
  );
  if (!dup) t.pending.push(info);
  return 0;
}

/** send_sig_mceerr(code, addr, lsb, t): a non-forced SIGBUS to thread t (kernel/signal.c). */
export function send_sig_mceerr(ctx: Ctx, code: number, addr: number, lsb: number, t: Task): KGen<number> {
  return send_signal(ctx, { signo: SIGBUS, code, addr, addr_lsb: lsb }, t);
}

/** force_sig_mceerr(code, addr, lsb): a forced SIGBUS to current. */
export function force_sig_mceerr(ctx: Ctx, code: number, addr: number, lsb: number): KGen<number> {
  return send_signal(ctx, { signo: SIGBUS, code, addr, addr_lsb: lsb }, ctx.task);
}

/** force_sig_fault(SIGBUS, code, addr): e.g. BUS_ADRERR from a plain VM_FAULT_SIGBUS. */
export function force_sig_fault(ctx: Ctx, code: number, addr: number): KGen<number> {
  return send_signal(ctx, { signo: SIGBUS, code, addr, addr_lsb: 0 }, ctx.task);
}

/** force_sig_info(): any siginfo, forced on current (e.g. SIGSEGV from bad_area()). */
export function force_sig_info(ctx: Ctx, info: SigInfo): KGen<number> {
  return send_signal(ctx, info, ctx.task);
}

/** force_sig(SIGBUS): si_code SI_KERNEL, no address. */
export function force_sig(ctx: Ctx, signo: number): KGen<number> {
  return send_signal(ctx, { signo, code: SI_KERNEL, addr: 0, addr_lsb: 0 }, ctx.task);
}

export function send_sigkill(ctx: Ctx, t: Task): KGen<number> {
  return send_signal(ctx, { signo: SIGKILL, code: 0, addr: 0, addr_lsb: 0 }, t);
}

export function signal_pending(t: Task): boolean {
  return t.pending.length > 0;
}

/**
 * The return to user mode: pending signals are delivered. A SIGKILL ends the process; a SIGBUS runs the
 * (assumed) handler.
 */
export function deliver_signals(ctx: Ctx): SigInfo[] {
  const t = ctx.task;
  const out = t.pending.splice(0);
  for (const s of out) {
    trace_signal_deliver(ctx, s.signo, s.code);
    if (s.signo === SIGKILL) t.proc.killed = true;
  }
  t.delivered.push(...out);
  return out;
}
