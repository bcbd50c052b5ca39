// The kernel log (dmesg) and WARN/KVM_BUG reporting. Log lines are kept per kernel so that step results
// can report what a step printed, the way `dmesg` would show it.
import { trace_printk_line } from '../../trace/points.js';
import type { Ctx } from './sched.js';

export type LogLevel = 'emerg' | 'alert' | 'crit' | 'err' | 'warning' | 'notice' | 'info' | 'debug';

export interface LogLine {
  readonly level: LogLevel;
  readonly text: string;
  readonly tid: number;
}

export interface Warning {
  /** kernel source file and function, e.g. "virt/kvm/guest_memfd.c:__kvm_gmem_get_pfn" */
  readonly where: string;
  /** the condition that fired, in the kernel's words */
  readonly cond: string;
  readonly tid: number;
  /** WARN_ON (false) or KVM_BUG_ON (true) */
  readonly bug: boolean;
}

export function printk(ctx: Ctx, level: LogLevel, text: string): void {
  ctx.k.log.push({ level, text, tid: ctx.task.tid });
  trace_printk_line(ctx, level, text);
}

export const pr_err = (ctx: Ctx, text: string) => printk(ctx, 'err', text);
export const pr_info = (ctx: Ctx, text: string) => printk(ctx, 'info', text);
export const pr_warn = (ctx: Ctx, text: string) => printk(ctx, 'warning', text);

/**
 * WARN_ON_ONCE(cond): returns cond. A fired warning is recorded; the explorer treats any as a violation.
 * The "once" only limits the log line, as in the kernel.
 */
export function WARN_ON_ONCE(ctx: Ctx, cond: boolean, where: string, what: string): boolean {
  if (!cond) return false;
  const seen = ctx.k.warnings.some((w) => w.where === where && w.cond === what);
  ctx.k.warnings.push({ where, cond: what, tid: ctx.task.tid, bug: false });
  if (!seen) printk(ctx, 'warning', `WARNING: CPU: 0 PID: ${ctx.task.tid} at ${where}: ${what}`);
  return true;
}

export const WARN_ON = WARN_ON_ONCE;

/** panic(): the machine stops; a run ends here and reports the message. */
export class KernelPanic extends Error {
  override name = 'KernelPanic';
  constructor(readonly reason: string) {
    super(`Kernel panic - not syncing: ${reason}`);
  }
}
