// The return to user mode after a syscall or fault (kernel/entry/common.c exit_to_user_mode_loop()): task work
// first (the machine-check kill), then signal delivery.
import type { Ctx, KGen } from './core/sched.js';
import { deliver_signals } from './task/signal.js';
import type { SigInfo } from './task/task.js';
import { run_task_work } from './x86/mce.js';

export function* exit_to_user_mode(ctx: Ctx): KGen<SigInfo[]> {
  yield* run_task_work(ctx);
  return deliver_signals(ctx);
}
