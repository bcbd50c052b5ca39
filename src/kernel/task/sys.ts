// prctl(PR_MCE_KILL*) (kernel/sys.c) and the vm.memory_failure_* sysctls (mm/memory-failure.c).
import type { Ctx } from '../core/sched.js';
import { EINVAL } from '../uapi/errno.js';
import {
  PR_MCE_KILL,
  PR_MCE_KILL_CLEAR,
  PR_MCE_KILL_DEFAULT,
  PR_MCE_KILL_EARLY,
  PR_MCE_KILL_GET,
  PR_MCE_KILL_LATE,
  PR_MCE_KILL_SET,
} from '../uapi/prctl.js';
import { PF_MCE_EARLY, PF_MCE_PROCESS } from './task.js';

export function sys_prctl(ctx: Ctx, option: number, arg2: bigint, arg3: bigint, arg4: bigint, arg5: bigint): number {
  const t = ctx.task;
  switch (option) {
    case PR_MCE_KILL:
      if (arg4 | arg5) return -EINVAL;
      switch (Number(arg2)) {
        case PR_MCE_KILL_CLEAR:
          if (arg3 !== 0n) return -EINVAL;
          t.flags &= ~PF_MCE_PROCESS;
          return 0;
        case PR_MCE_KILL_SET:
          t.flags |= PF_MCE_PROCESS;
          if (arg3 === BigInt(PR_MCE_KILL_EARLY)) t.flags |= PF_MCE_EARLY;
          else if (arg3 === BigInt(PR_MCE_KILL_LATE)) t.flags &= ~PF_MCE_EARLY;
          else if (arg3 === BigInt(PR_MCE_KILL_DEFAULT)) t.flags &= ~(PF_MCE_EARLY | PF_MCE_PROCESS);
          else return -EINVAL;
          return 0;
        default:
          return -EINVAL;
      }
    case PR_MCE_KILL_GET:
      if (arg2 | arg3 | arg4 | arg5) return -EINVAL;
      if (t.flags & PF_MCE_PROCESS) return t.flags & PF_MCE_EARLY ? PR_MCE_KILL_EARLY : PR_MCE_KILL_LATE;
      return PR_MCE_KILL_DEFAULT;
    default:
      return -EINVAL;
  }
}

/** The writable sysctls the model has; writes follow proc_dointvec_minmax with range 0..1. */
export const SYSCTLS = ['vm.memory_failure_early_kill', 'vm.memory_failure_recovery'] as const;
export type SysctlName = (typeof SYSCTLS)[number];

export function sysctl_write(ctx: Ctx, name: SysctlName, value: bigint): number {
  if (value < 0n || value > 1n) return -EINVAL;
  if (name === 'vm.memory_failure_early_kill') ctx.k.sysctl.memory_failure_early_kill = Number(value);
  else ctx.k.sysctl.memory_failure_recovery = Number(value);
  return 0;
}
