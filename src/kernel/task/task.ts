// Processes, tasks (threads) and their signal state (kernel/fork.c, kernel/signal.c, include/linux/sched.h).
import type { FdTable } from '../fs/file.js';
import type { Mm } from '../mm/mm_types.js';

/** PF_MCE_PROCESS / PF_MCE_EARLY (include/linux/sched.h): the per-thread PR_MCE_KILL policy. */
export const PF_MCE_PROCESS = 0x00000080;
export const PF_MCE_EARLY = 0x08000000;

export interface SigInfo {
  readonly signo: number;
  readonly code: number;
  readonly addr: number;
  readonly addr_lsb: number;
}

export interface Task {
  readonly tid: number;
  readonly comm: string;
  readonly proc: Process;
  flags: number;
  /** queued SIGBUS/SIGKILL not yet delivered (legacy signals do not queue twice) */
  pending: SigInfo[];
  /** signals delivered to userspace while the current step ran */
  delivered: SigInfo[];
  /** current->mce_kill_me: the task work a machine check queued (arch/x86/kernel/cpu/mce/core.c) */
  mce_work: { pfn: number; ripv: boolean } | null;
}

export interface Process {
  readonly pid: number;
  readonly comm: string;
  readonly mm: Mm;
  readonly files: FdTable;
  readonly threads: Task[];
  /** capable(CAP_SYS_ADMIN) */
  cap_sys_admin: boolean;
  /** set when SIGKILL was delivered: the process no longer runs */
  killed: boolean;
  /** the VMM's own (userspace) state the ops keep: the /dev/kvm fd opened implicitly, -1 until then */
  readonly vmm: { devKvmFd: number };
}
