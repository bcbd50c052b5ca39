// Machine checks on user-mode consumption of poison (arch/x86/kernel/cpu/mce/core.c). A guest access counts as
// user mode: kvm_machine_check() fakes ring 3 (arch/x86/kvm/x86.h).

import { trace_gmemsim } from '../../trace/points.js';
import { printk } from '../core/printk.js';
import { type Ctx, type KGen, wr } from '../core/sched.js';
import { MF_ACTION_REQUIRED, MF_MUST_KILL, memory_failure } from '../mm/memory-failure.js';
import { PAGE_SHIFT } from '../mm/mm_types.js';
import { force_sig } from '../task/signal.js';
import { EHWPOISON, EOPNOTSUPP } from '../uapi/errno.js';
import { SIGBUS } from '../uapi/signal.js';

/** do_machine_check() for an SRAR error from user mode: queue kill_me_maybe() as task work on current. */
export function* do_machine_check(ctx: Ctx, pfn: number, fromGuest: boolean): KGen<void> {
  yield* wr(`task:${ctx.task.tid}`);
  trace_gmemsim(
    ctx,
    'machine_check',
    `${fromGuest ? 'guest' : 'user'} access consumed poison at pfn 0x${pfn.toString(16)}`,
    {
      pfn,
      fromGuest,
    },
  );
  if (!ctx.task.mce_work) ctx.task.mce_work = { pfn, ripv: true };
}

/** task_work_run() on the way back to user mode (or in KVM's xfer_to_guest_mode_work). */
export function* run_task_work(ctx: Ctx): KGen<void> {
  const w = ctx.task.mce_work;
  if (!w) return;
  ctx.task.mce_work = null;
  yield* kill_me_maybe(ctx, w.pfn, w.ripv);
}

/** kill_me_maybe(): memory_failure(MF_ACTION_REQUIRED); anything but 0/-EHWPOISON/-EOPNOTSUPP kills with SIGBUS. */
function* kill_me_maybe(ctx: Ctx, pfn: number, ripv: boolean): KGen<void> {
  printk(
    ctx,
    'err',
    `mce: Uncorrected hardware memory error in user-access at ${(pfn * 2 ** PAGE_SHIFT).toString(16)}`,
  );
  const flags = MF_ACTION_REQUIRED | (ripv ? 0 : MF_MUST_KILL);
  const ret = yield* memory_failure(ctx, pfn, flags);
  if (ret === 0) return; // set_mce_nospec(pfn); sync_core()
  if (ret === -EHWPOISON || ret === -EOPNOTSUPP) return;
  printk(ctx, 'err', 'mce: Memory error not recovered');
  yield* force_sig(ctx, SIGBUS); // kill_me_now()
}
