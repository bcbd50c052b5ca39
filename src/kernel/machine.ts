// The whole modeled machine: physical memory, processes, VMs and the global memory-failure state. All of it
// is plain data, so a snapshot is one structuredClone().
import { type Audit, newAudit } from './audit.js';
import { type Lock, newLock } from './core/locking.js';
import type { LogLine, Warning } from './core/printk.js';
import type { Kvm } from './kvm/kvm_host.js';
import type { Folio } from './mm/mm_types.js';
import { DEFAULT_OPTIONS, type KernelOptions, type VersionTraits, versionTraits } from './options.js';
import type { Process, Task } from './task/task.js';

/** The counters under /sys/devices/system/node/node0/memory_failure/ (mm/memory-failure.c). */
export interface MfStats {
  total: number;
  ignored: number;
  failed: number;
  delayed: number;
  recovered: number;
}

export interface Kernel {
  readonly opts: KernelOptions;
  readonly traits: VersionTraits;
  /** pfn -> folio, for every pfn ever allocated (freed folios stay, marked freed) */
  readonly mem: Map<number, Folio>;
  readonly ids: { pfn: number; ino: number; file: number; vma: number; vm: number; pid: number; mm: number };
  readonly procs: Process[];
  readonly vms: Kvm[];
  /** mm/memory-failure.c: serialises memory_failure(), unpoison_memory() and soft offline */
  readonly mf_mutex: Lock;
  readonly sysctl: { memory_failure_early_kill: number; memory_failure_recovery: number };
  /** set by any memory_failure() not flagged MF_SW_SIMULATED; disables unpoison for good */
  hw_memory_failure: boolean;
  /** num_poisoned_pages, shown as HardwareCorrupted in /proc/meminfo */
  num_poisoned_pages: number;
  readonly mf_stats: MfStats;
  readonly log: LogLine[];
  readonly warnings: Warning[];
  /** pfns taken off the free lists by memory failure (take_page_off_buddy()); never allocated again */
  readonly offlined: Set<number>;
  /** accesses through a stale mapping to a freed frame, for the use-after-free property */
  readonly uaf: Array<{ tid: number; kvm: number; gfn: number; pfn: number; write: boolean }>;
  /** facts for the property checks (instrumentation only) */
  readonly audit: Audit;
  /** vCPUs that re-executed one access past the model's bound */
  readonly livelocks: Array<{ tid: number; vcpu: number; pc: number; gpa: number; reported: boolean }>;
}

/** pfns below this are kernel-owned (reserved) memory; from here on is RAM the allocator hands out. */
export const FIRST_PFN = 0x100000;
/** pfns at or above this have no struct page (pfn_valid() is false): "memory outside kernel control". */
export const RAM_END_PFN = 2 ** 36;
/** mmap(NULL, ...) hands out addresses top-down from here. */
export const MMAP_BASE = 0x7f0000000000;
export const VMM_PID = 1000;

export function createKernel(opts: Partial<KernelOptions> = {}): Kernel {
  const o: KernelOptions = { ...DEFAULT_OPTIONS, ...opts };
  return {
    opts: o,
    traits: versionTraits(o.kernel),
    mem: new Map(),
    ids: { pfn: FIRST_PFN, ino: 1, file: 1, vma: 1, vm: 1, pid: VMM_PID, mm: 1 },
    procs: [],
    vms: [],
    mf_mutex: newLock('mf_mutex', 'mf_mutex', 'mutex'),
    sysctl: { memory_failure_early_kill: 0, memory_failure_recovery: 1 },
    hw_memory_failure: false,
    num_poisoned_pages: 0,
    mf_stats: { total: 0, ignored: 0, failed: 0, delayed: 0, recovered: 0 },
    log: [],
    warnings: [],
    offlined: new Set(),
    uaf: [],
    livelocks: [],
    audit: newAudit(),
  };
}

/** A new process with one thread, stdin/out/err taken (so the first new fd is 3), CAP_SYS_ADMIN. */
export function createProcess(k: Kernel, comm: string): Process {
  const pid = k.ids.pid;
  k.ids.pid += 100;
  const mmId = k.ids.mm++;
  const proc: Process = {
    pid,
    comm,
    mm: {
      id: mmId,
      vmas: [],
      pt: new Map(),
      mmap_lock: newLock(`mmap_lock:${mmId}`, `mm${mmId}->mmap_lock`, 'rwsem'),
      mmap_base: MMAP_BASE,
    },
    files: { fds: new Map(), max_fds: 1024, reserved: 3 },
    threads: [],
    cap_sys_admin: true,
    killed: false,
    vmm: { devKvmFd: -1 },
  };
  addThread(proc, comm);
  k.procs.push(proc);
  return proc;
}

/** A new thread of proc; tids follow the pid. */
export function addThread(proc: Process, comm: string): Task {
  const t: Task = {
    tid: proc.pid + proc.threads.length,
    comm,
    proc,
    flags: 0,
    pending: [],
    delivered: [],
    mce_work: null,
  };
  proc.threads.push(t);
  return t;
}

export function findTask(k: Kernel, tid: number): Task | undefined {
  for (const p of k.procs) for (const t of p.threads) if (t.tid === tid) return t;
  return undefined;
}
