// The hwpoison-inject debugfs files (mm/hwpoison-inject.c): corrupt-pfn and unpoison-pfn.
import { printk } from '../core/printk.js';
import type { Ctx, KGen } from '../core/sched.js';
import { ENXIO, EOPNOTSUPP, EPERM } from '../uapi/errno.js';
import { MF_SW_SIMULATED, memory_failure, pfn_valid, unpoison_memory } from './memory-failure.js';

/** hwpoison_inject(): a write to /sys/kernel/debug/hwpoison/corrupt-pfn (no filter configured). */
export function* hwpoison_inject(ctx: Ctx, pfn: number): KGen<number> {
  if (!ctx.task.proc.cap_sys_admin) return -EPERM;
  if (!pfn_valid(pfn)) return -ENXIO;
  printk(ctx, 'info', `Injecting memory failure at pfn 0x${pfn.toString(16)}`);
  const err = yield* memory_failure(ctx, pfn, MF_SW_SIMULATED);
  return err === -EOPNOTSUPP ? 0 : err;
}

/** hwpoison_unpoison(): a write to unpoison-pfn. */
export function* hwpoison_unpoison(ctx: Ctx, pfn: number): KGen<number> {
  if (!ctx.task.proc.cap_sys_admin) return -EPERM;
  return yield* unpoison_memory(ctx, pfn);
}
