// Every op of the scenario language and the typed API: its arguments (named after the kernel's struct fields and
// syscall parameters) and how it runs in the model. Defined once; the JSON Schema, the validator, the runner and
// the typed API all read this table.
import { type Ctx, type KGen, rd, wr } from '../kernel/core/sched.js';
import { fdget } from '../kernel/fs/file.js';
import { type IoctlRequest, sys_ioctl } from '../kernel/fs/ioctl.js';
import { sys_close, sys_dup, sys_fallocate, sys_ftruncate, sys_memfd_create, sys_open } from '../kernel/fs/open.js';
import { sys_fstat, sys_lseek, sys_pread64, sys_pwrite64, sys_read, sys_write } from '../kernel/fs/read_write.js';
import { pcKey } from '../kernel/mm/filemap.js';
import { hwpoison_inject, hwpoison_unpoison } from '../kernel/mm/hwpoison-inject.js';
import { sys_madvise } from '../kernel/mm/madvise.js';
import { pteKey } from '../kernel/mm/memory.js';
import { MF_FLAGS, MF_SW_SIMULATED, memory_failure } from '../kernel/mm/memory-failure.js';
import { dataKeyOfPfn, PAGE_SIZE } from '../kernel/mm/mm_types.js';
import { sys_mmap, sys_munmap } from '../kernel/mm/mmap.js';
import { user_load, user_memset, user_store } from '../kernel/mm/user_access.js';
import { SYSCTLS, type SysctlName, sys_prctl, sysctl_write } from '../kernel/task/sys.js';
import { FALLOC, MFD, OPEN, SEEK } from '../kernel/uapi/fs.js';
import {
  GUEST_MEMFD_FLAGS,
  KVM_CAP,
  KVM_EXIT_MEMORY_FAULT,
  KVM_IOCTL,
  KVM_MEM_FLAGS,
  MEMORY_ATTRIBUTES,
  VM_TYPE,
} from '../kernel/uapi/kvm.js';
import { MADV, MAP, PROT } from '../kernel/uapi/mman.js';
import { PR_MCE_KILL_OP, PR_MCE_KILL_POLICY, PR_OPTION } from '../kernel/uapi/prctl.js';
import type { GuestRunState } from '../kernel/x86/x86.js';
import { trace_sys_enter, trace_sys_exit } from '../trace/points.js';
import { type ArgSpec, type ArgsOf, enumOf, fd, flags, guest, int, str, u64 } from './args.js';
import type { GuestAccess, Resolved } from './resolve.js';
import { exitReasonName, fromKernel, memoryFaultResult, type StepResult, u64 as toU64 } from './result.js';
import { ScenarioRuntimeError } from './runtime-error.js';

export type Args = Readonly<Record<string, Resolved | undefined>>;
/** What an op computes; the runner adds step, op, signal and dmesg. */
export type OpOutcome = Omit<StepResult, 'step' | 'op'>;

export interface OpDef<N extends string = string, A extends Record<string, ArgSpec> = Record<string, ArgSpec>> {
  readonly name: N;
  readonly doc: string;
  readonly args: A;
  /** groups of args of which exactly one must be given */
  readonly oneOf?: readonly (readonly string[])[];
  exec(ctx: Ctx, a: Args): KGen<OpOutcome>;
}

/** Keeps each op's name and argument specs as literal types for the typed API. */
function op<const N extends string, const A extends Record<string, ArgSpec>>(d: OpDef<N, A>): OpDef<N, A> {
  return d;
}

const big = (v: Resolved | undefined, dflt = 0n): bigint => (v === undefined ? dflt : BigInt(v as bigint | number));

/** The width of a user-mode load or store: one x86 mov (default 1). */
function accessSize(v: Resolved | undefined): number {
  const size = num(v, 1);
  if (![1, 2, 4, 8].includes(size))
    throw new ScenarioRuntimeError(`size ${size}: a load or store is 1, 2, 4 or 8 bytes`);
  return size;
}
const num = (v: Resolved | undefined, dflt = 0): number => (v === undefined ? dflt : Number(v as bigint | number));

/** Runs a kernel entry point as a traced syscall and converts its return. */
function* syscall(
  ctx: Ctx,
  name: string,
  args: ReadonlyArray<readonly [string, number | bigint]>,
  body: KGen<number>,
): KGen<OpOutcome> {
  trace_sys_enter(ctx, name, args);
  const r = yield* body;
  trace_sys_exit(ctx, name, r);
  return fromKernel(r);
}

function* ioctl(ctx: Ctx, fdNum: number, req: IoctlRequest, argVal: number | bigint = 0): KGen<OpOutcome> {
  const cmd = KVM_IOCTL.byName.get(req.cmd) ?? 0n;
  return yield* syscall(
    ctx,
    'ioctl',
    [
      ['fd', fdNum],
      ['cmd', cmd],
      ['arg', argVal],
    ],
    sys_ioctl(ctx, fdNum, req),
  );
}

/** The /dev/kvm fd ops use when none is named: opened once, on first need, and kept open (as selftests do). */
function* devKvmFd(ctx: Ctx, given: Resolved | undefined): KGen<number> {
  if (given !== undefined) return num(given);
  const proc = ctx.task.proc;
  if (proc.vmm.devKvmFd >= 0 && fdget(proc, proc.vmm.devKvmFd)) return proc.vmm.devKvmFd;
  const r = yield* sys_open(ctx, '/dev/kvm', 2);
  if (r < 0) throw new ScenarioRuntimeError(`cannot open /dev/kvm implicitly: errno ${-r}`);
  proc.vmm.devKvmFd = r;
  return r;
}

function region(a: Args, cmd: 'KVM_SET_USER_MEMORY_REGION' | 'KVM_SET_USER_MEMORY_REGION2'): IoctlRequest {
  return {
    cmd,
    region: {
      slot: num(a.slot) >>> 0,
      flags: num(a.flags) >>> 0,
      guest_phys_addr: big(a.guest_phys_addr),
      memory_size: big(a.memory_size),
      userspace_addr: big(a.userspace_addr),
      guest_memfd_offset: big(a.guest_memfd_offset),
      guest_memfd: num(a.guest_memfd) >>> 0,
    },
    pad2: big(a.pad2),
  };
}

/**
 * The frame a hardware error at (fd, offset) hits: the page backing that offset now, or, if it has been removed
 * meanwhile (a racing punch-hole), the frame that backed it last: errors hit physical frames, not file offsets.
 */
function* filePagePfn(ctx: Ctx, a: Args): KGen<number> {
  yield* rd(`fdtable:${ctx.task.proc.pid}`);
  const f = fdget(ctx.task.proc, num(a.fd));
  if (!f?.inode) throw new ScenarioRuntimeError(`fd ${num(a.fd)} is not an open guest_memfd or memfd`);
  const index = Math.floor(num(a.offset) / PAGE_SIZE);
  yield* rd(pcKey(f.inode.mapping));
  const pfn = f.inode.mapping.pages.get(index)?.pfn ?? f.inode.mapping.lastPfn.get(index);
  if (pfn === undefined) {
    throw new ScenarioRuntimeError(
      `no page has backed offset 0x${num(a.offset).toString(16)} of fd ${num(a.fd)} yet; allocate or touch it first`,
    );
  }
  return pfn;
}

const defs = [
  // ---------------------------------------------------------------------------------------- files
  op({
    name: 'open',
    doc: 'open(2); the model has one device node, /dev/kvm.',
    args: { path: str('path to open', ['/dev/kvm']), flags: flags(OPEN, 'O_* flags (default O_RDWR)') },
    *exec(ctx, a) {
      const fl = num(a.flags, 2);
      return yield* syscall(
        ctx,
        'openat',
        [
          ['dfd', -100],
          ['flags', fl],
        ],
        sys_open(ctx, a.path as string, fl),
      );
    },
  }),
  op({
    name: 'memfd_create',
    doc: 'memfd_create(2): an anonymous shmem file of size 0.',
    args: { name: str('the name shown in /proc/PID/fd', undefined, false), flags: flags(MFD, 'MFD_* flags') },
    *exec(ctx, a) {
      const fl = num(a.flags);
      return yield* syscall(
        ctx,
        'memfd_create',
        [['flags', fl]],
        sys_memfd_create(ctx, (a.name as string) ?? 'gmemsim', fl),
      );
    },
  }),
  op({
    name: 'close',
    doc: 'close(2); the last reference to a file runs its release.',
    args: { fd: fd('the fd to close') },
    *exec(ctx, a) {
      return yield* syscall(ctx, 'close', [['fd', num(a.fd)]], sys_close(ctx, num(a.fd)));
    },
  }),
  op({
    name: 'dup',
    doc: 'dup(2)',
    args: { fd: fd('the fd to duplicate') },
    *exec(ctx, a) {
      return yield* syscall(ctx, 'dup', [['fildes', num(a.fd)]], sys_dup(ctx, num(a.fd)));
    },
  }),
  op({
    name: 'read',
    doc: 'read(2) of count bytes.',
    args: { fd: fd('file'), count: u64('bytes to read') },
    *exec(ctx, a) {
      return yield* syscall(
        ctx,
        'read',
        [
          ['fd', num(a.fd)],
          ['count', big(a.count)],
        ],
        sys_read(ctx, num(a.fd), num(a.count)),
      );
    },
  }),
  op({
    name: 'write',
    doc: 'write(2) of count bytes, each equal to value (default 0).',
    args: { fd: fd('file'), count: u64('bytes to write'), value: int('the byte written', false) },
    *exec(ctx, a) {
      const body = sys_write(ctx, num(a.fd), num(a.count), num(a.value) & 0xff);
      return yield* syscall(
        ctx,
        'write',
        [
          ['fd', num(a.fd)],
          ['count', big(a.count)],
        ],
        body,
      );
    },
  }),
  op({
    name: 'pread',
    doc: 'pread64(2)',
    args: { fd: fd('file'), count: u64('bytes to read'), offset: int('file offset') },
    *exec(ctx, a) {
      const body = sys_pread64(ctx, num(a.fd), num(a.count), num(a.offset));
      return yield* syscall(
        ctx,
        'pread64',
        [
          ['fd', num(a.fd)],
          ['count', big(a.count)],
          ['pos', num(a.offset)],
        ],
        body,
      );
    },
  }),
  op({
    name: 'pwrite',
    doc: 'pwrite64(2) of count bytes equal to value.',
    args: {
      fd: fd('file'),
      count: u64('bytes to write'),
      offset: int('file offset'),
      value: int('the byte written', false),
    },
    *exec(ctx, a) {
      const body = sys_pwrite64(ctx, num(a.fd), num(a.count), num(a.offset), num(a.value) & 0xff);
      return yield* syscall(
        ctx,
        'pwrite64',
        [
          ['fd', num(a.fd)],
          ['count', big(a.count)],
          ['pos', num(a.offset)],
        ],
        body,
      );
    },
  }),
  op({
    name: 'lseek',
    doc: 'lseek(2)',
    args: { fd: fd('file'), offset: int('offset'), whence: enumOf(SEEK, 'SEEK_*') },
    *exec(ctx, a) {
      const body = sys_lseek(ctx, num(a.fd), num(a.offset), num(a.whence));
      return yield* syscall(
        ctx,
        'lseek',
        [
          ['fd', num(a.fd)],
          ['offset', num(a.offset)],
          ['whence', num(a.whence)],
        ],
        body,
      );
    },
  }),
  op({
    name: 'fstat',
    doc: 'fstat(2); the result carries stat {st_size, st_blksize, st_ino, st_mode}.',
    args: { fd: fd('file') },
    *exec(ctx, a) {
      trace_sys_enter(ctx, 'newfstat', [['fd', num(a.fd)]]);
      const r = yield* sys_fstat(ctx, num(a.fd));
      trace_sys_exit(ctx, 'newfstat', typeof r === 'number' ? r : 0);
      if (typeof r === 'number') return fromKernel(r);
      return {
        ret: 0,
        errno: null,
        stat: { st_size: toU64(r.st_size), st_blksize: r.st_blksize, st_ino: r.st_ino, st_mode: r.st_mode },
      };
    },
  }),
  op({
    name: 'ftruncate',
    doc: 'ftruncate(2)',
    args: { fd: fd('file'), length: u64('new size (signed off_t)') },
    *exec(ctx, a) {
      const len = BigInt.asIntN(64, big(a.length));
      return yield* syscall(
        ctx,
        'ftruncate',
        [
          ['fd', num(a.fd)],
          ['length', len],
        ],
        sys_ftruncate(ctx, num(a.fd), len),
      );
    },
  }),
  op({
    name: 'fallocate',
    doc: 'fallocate(2); guest_memfd needs FALLOC_FL_KEEP_SIZE, optionally with FALLOC_FL_PUNCH_HOLE.',
    args: {
      fd: fd('file'),
      mode: flags(FALLOC, 'FALLOC_FL_* mode'),
      offset: u64('offset (signed loff_t)'),
      len: u64('length (signed loff_t)'),
    },
    *exec(ctx, a) {
      const off = BigInt.asIntN(64, big(a.offset));
      const len = BigInt.asIntN(64, big(a.len));
      const body = sys_fallocate(ctx, num(a.fd), num(a.mode), off, len);
      return yield* syscall(
        ctx,
        'fallocate',
        [
          ['fd', num(a.fd)],
          ['mode', num(a.mode)],
          ['offset', off],
          ['len', len],
        ],
        body,
      );
    },
  }),
  // ---------------------------------------------------------------------------------------- memory
  op({
    name: 'mmap',
    doc: 'mmap(2); fd -1 with MAP_ANONYMOUS gives ordinary host memory. Returns the address.',
    args: {
      addr: u64('hint or MAP_FIXED address', false),
      length: u64('bytes'),
      prot: flags(PROT, 'PROT_*'),
      flags: flags(MAP, 'MAP_*', true),
      fd: fd('file, or -1 with MAP_ANONYMOUS'),
      offset: u64('file offset', false),
    },
    *exec(ctx, a) {
      const body = sys_mmap(ctx, num(a.addr), num(a.length), num(a.prot), num(a.flags), num(a.fd), big(a.offset));
      const r = yield* syscall(
        ctx,
        'mmap',
        [
          ['addr', big(a.addr)],
          ['len', big(a.length)],
          ['prot', num(a.prot)],
          ['flags', num(a.flags)],
          ['fd', num(a.fd)],
          ['off', big(a.offset)],
        ],
        body,
      );
      return r;
    },
  }),
  op({
    name: 'munmap',
    doc: 'munmap(2); dropping the last mapping of a closed file releases it.',
    args: { addr: u64('start'), length: u64('bytes') },
    *exec(ctx, a) {
      return yield* syscall(
        ctx,
        'munmap',
        [
          ['addr', big(a.addr)],
          ['len', big(a.length)],
        ],
        sys_munmap(ctx, num(a.addr), num(a.length)),
      );
    },
  }),
  op({
    name: 'madvise',
    doc: 'madvise(2): MADV_HWPOISON, MADV_SOFT_OFFLINE, MADV_DONTNEED, MADV_REMOVE, MADV_COLLAPSE and no-op hints.',
    args: { addr: u64('start'), length: u64('bytes'), advice: enumOf(MADV, 'MADV_*') },
    *exec(ctx, a) {
      const body = sys_madvise(ctx, big(a.addr), num(a.length), num(a.advice));
      return yield* syscall(
        ctx,
        'madvise',
        [
          ['start', big(a.addr)],
          ['len_in', big(a.length)],
          ['behavior', num(a.advice)],
        ],
        body,
      );
    },
  }),
  op({
    name: 'load',
    doc: 'A user-mode load of size bytes (1, 2, 4, 8); ret 0 with value, or -1 when it faulted (see signal).',
    args: { addr: u64('virtual address'), size: int('bytes', false) },
    *exec(ctx, a) {
      const size = accessSize(a.size);
      const r = yield* user_load(ctx, num(a.addr), size);
      return r.ok ? { ret: 0, errno: null, value: toU64(r.value) } : { ret: -1, errno: null };
    },
  }),
  op({
    name: 'store',
    doc: 'A user-mode store of size bytes (1, 2, 4, 8); ret 0, or -1 when it faulted (see signal).',
    args: { addr: u64('virtual address'), value: u64('value'), size: int('bytes', false) },
    *exec(ctx, a) {
      const r = yield* user_store(ctx, num(a.addr), accessSize(a.size), big(a.value));
      return { ret: r.ok ? 0 : -1, errno: null };
    },
  }),
  op({
    name: 'memset',
    doc: 'memset() in user mode: page by page, stopping at the first fault.',
    args: { addr: u64('virtual address'), value: int('byte'), length: u64('bytes') },
    *exec(ctx, a) {
      const ok = yield* user_memset(ctx, num(a.addr), num(a.value) & 0xff, num(a.length));
      return { ret: ok ? 0 : -1, errno: null };
    },
  }),
  op({
    name: 'pagemap',
    doc: 'The pfn /proc/self/pagemap shows for addr (0 if not present).',
    args: { addr: u64('virtual address') },
    *exec(ctx, a) {
      const mm = ctx.task.proc.mm;
      const vpn = Math.floor(num(a.addr) / PAGE_SIZE);
      yield* rd(pteKey(mm, vpn));
      const pte = mm.pt.get(vpn);
      return { ret: pte?.kind === 'present' ? pte.folio.pfn : 0, errno: null };
    },
  }),
  op({
    name: 'prctl',
    doc: 'prctl(2): PR_MCE_KILL and PR_MCE_KILL_GET.',
    args: {
      option: enumOf(PR_OPTION, 'PR_*'),
      arg2: enumOf(PR_MCE_KILL_OP, 'PR_MCE_KILL_CLEAR or PR_MCE_KILL_SET', false),
      arg3: enumOf(PR_MCE_KILL_POLICY, 'PR_MCE_KILL_EARLY, _LATE or _DEFAULT', false),
      arg4: u64('must be 0', false),
      arg5: u64('must be 0', false),
    },
    *exec(ctx, a) {
      const args = [num(a.option), big(a.arg2), big(a.arg3), big(a.arg4), big(a.arg5)] as const;
      trace_sys_enter(ctx, 'prctl', [
        ['option', args[0]],
        ['arg2', args[1]],
        ['arg3', args[2]],
        ['arg4', args[3]],
        ['arg5', args[4]],
      ]);
      yield* wr(`task:${ctx.task.tid}`);
      const r = sys_prctl(ctx, ...args);
      trace_sys_exit(ctx, 'prctl', r);
      return fromKernel(r);
    },
  }),
  // ---------------------------------------------------------------------------------------- memory failure
  op({
    name: 'corrupt_pfn',
    doc: 'A write of pfn to /sys/kernel/debug/hwpoison/corrupt-pfn: memory_failure(pfn, MF_SW_SIMULATED).',
    args: { pfn: u64('page frame number') },
    *exec(ctx, a) {
      const r = yield* hwpoison_inject(ctx, num(a.pfn));
      return r === 0 ? { ret: `0x${num(a.pfn).toString(16)}\n`.length, errno: null } : fromKernel(r);
    },
  }),
  op({
    name: 'unpoison_pfn',
    doc: 'A write of pfn to /sys/kernel/debug/hwpoison/unpoison-pfn.',
    args: { pfn: u64('page frame number') },
    *exec(ctx, a) {
      const r = yield* hwpoison_unpoison(ctx, num(a.pfn));
      return r === 0 ? { ret: `0x${num(a.pfn).toString(16)}\n`.length, errno: null } : fromKernel(r);
    },
  }),
  op({
    name: 'memory_failure',
    doc: 'A hardware memory error reported to the kernel: memory_failure(pfn, flags) in the calling task. With fd and offset it hits the page backing that guest_memfd offset.',
    args: {
      pfn: u64('page frame number', false),
      fd: fd('guest_memfd (or memfd) whose page is hit', false),
      offset: u64('file offset of the page', false),
      flags: flags(MF_FLAGS, 'MF_* flags'),
    },
    oneOf: [['pfn', 'fd']],
    *exec(ctx, a) {
      const pfn = a.fd !== undefined ? yield* filePagePfn(ctx, a) : num(a.pfn);
      // the hardware error precedes its report; with MF_SW_SIMULATED there is no error in the cells
      const mfFlags = num(a.flags);
      yield* wr(dataKeyOfPfn(pfn));
      const folio = ctx.k.mem.get(pfn);
      if (folio && !folio.freed && !(mfFlags & MF_SW_SIMULATED)) folio.corrupt = true;
      return fromKernel(yield* memory_failure(ctx, pfn, mfFlags));
    },
  }),
  op({
    name: 'corrupt_frame',
    doc: "A latent uncorrected error: the frame's cells go bad without a report; the next access through a live mapping takes a machine check (model-only: no real kernel interface does this).",
    args: {
      pfn: u64('page frame number', false),
      fd: fd('guest_memfd (or memfd) whose page goes bad', false),
      offset: u64('file offset of the page', false),
    },
    oneOf: [['pfn', 'fd']],
    *exec(ctx, a) {
      const pfn = a.fd !== undefined ? yield* filePagePfn(ctx, a) : num(a.pfn);
      yield* wr(dataKeyOfPfn(pfn));
      const folio = ctx.k.mem.get(pfn);
      if (!folio || folio.freed) throw new ScenarioRuntimeError('corrupt_frame: no allocated page there');
      folio.corrupt = true;
      return { ret: 0, errno: null };
    },
  }),
  op({
    name: 'sysctl',
    doc: 'A write to /proc/sys: vm.memory_failure_early_kill or vm.memory_failure_recovery.',
    args: { name: str('sysctl name', SYSCTLS), value: u64('value') },
    *exec(ctx, a) {
      yield* wr('sysctl');
      const r = sysctl_write(ctx, a.name as SysctlName, big(a.value));
      return r === 0 ? { ret: 2, errno: null } : fromKernel(r);
    },
  }),
  // ---------------------------------------------------------------------------------------- KVM
  op({
    name: 'KVM_CREATE_VM',
    doc: 'ioctl(/dev/kvm, KVM_CREATE_VM, type); returns the VM fd.',
    args: {
      fd: fd('the /dev/kvm fd (default: opened implicitly)', false),
      type: enumOf(VM_TYPE, 'KVM_X86_*_VM', false),
    },
    *exec(ctx, a) {
      const kfd = yield* devKvmFd(ctx, a.fd);
      return yield* ioctl(ctx, kfd, { cmd: 'KVM_CREATE_VM', type: big(a.type) }, big(a.type));
    },
  }),
  op({
    name: 'KVM_CHECK_EXTENSION',
    doc: 'KVM_CHECK_EXTENSION on a VM (vm) or system-wide (/dev/kvm, without vm).',
    args: { vm: fd('VM fd', false), fd: fd('explicit fd to issue it on', false), cap: enumOf(KVM_CAP, 'KVM_CAP_*') },
    *exec(ctx, a) {
      const target = a.vm !== undefined ? num(a.vm) : yield* devKvmFd(ctx, a.fd);
      return yield* ioctl(ctx, target, { cmd: 'KVM_CHECK_EXTENSION', cap: big(a.cap) }, big(a.cap));
    },
  }),
  op({
    name: 'KVM_CREATE_GUEST_MEMFD',
    doc: 'KVM_CREATE_GUEST_MEMFD {size, flags}; returns the guest_memfd fd.',
    args: { vm: fd('VM fd'), size: u64('bytes', false), flags: flags(GUEST_MEMFD_FLAGS, 'GUEST_MEMFD_FLAG_*') },
    *exec(ctx, a) {
      return yield* ioctl(ctx, num(a.vm), { cmd: 'KVM_CREATE_GUEST_MEMFD', size: big(a.size), flags: big(a.flags) });
    },
  }),
  op({
    name: 'KVM_SET_USER_MEMORY_REGION',
    doc: 'The legacy memslot ioctl (struct kvm_userspace_memory_region).',
    args: {
      vm: fd('VM fd'),
      slot: u64('as_id << 16 | slot id', false),
      flags: flags(KVM_MEM_FLAGS, 'KVM_MEM_*'),
      guest_phys_addr: u64('guest-physical base', false),
      memory_size: u64('bytes; 0 deletes', false),
      userspace_addr: u64('host address of the shared backing', false),
    },
    *exec(ctx, a) {
      return yield* ioctl(ctx, num(a.vm), region(a, 'KVM_SET_USER_MEMORY_REGION'));
    },
  }),
  op({
    name: 'KVM_SET_USER_MEMORY_REGION2',
    doc: 'KVM_SET_USER_MEMORY_REGION2 (struct kvm_userspace_memory_region2), with guest_memfd binding.',
    args: {
      vm: fd('VM fd'),
      slot: u64('as_id << 16 | slot id', false),
      flags: flags(KVM_MEM_FLAGS, 'KVM_MEM_*'),
      guest_phys_addr: u64('guest-physical base', false),
      memory_size: u64('bytes; 0 deletes', false),
      userspace_addr: u64('host address of the shared backing', false),
      guest_memfd: fd('guest_memfd fd', false),
      guest_memfd_offset: u64('offset in the guest_memfd', false),
      pad1: u64('must be 0 (not checked)', false),
      pad2: u64('pad2[0]; the kernel does not check it (kvm_set_memory_region())', false),
    },
    *exec(ctx, a) {
      return yield* ioctl(ctx, num(a.vm), region(a, 'KVM_SET_USER_MEMORY_REGION2'));
    },
  }),
  op({
    name: 'KVM_SET_MEMORY_ATTRIBUTES',
    doc: 'KVM_SET_MEMORY_ATTRIBUTES {address, size, attributes, flags}.',
    args: {
      vm: fd('VM fd'),
      address: u64('guest-physical start', false),
      size: u64('bytes', false),
      attributes: flags(MEMORY_ATTRIBUTES, 'KVM_MEMORY_ATTRIBUTE_*'),
      flags: u64('must be 0', false),
    },
    *exec(ctx, a) {
      const attrs = { address: big(a.address), size: big(a.size), attributes: big(a.attributes), flags: big(a.flags) };
      return yield* ioctl(ctx, num(a.vm), { cmd: 'KVM_SET_MEMORY_ATTRIBUTES', attrs });
    },
  }),
  op({
    name: 'KVM_CREATE_VCPU',
    doc: 'KVM_CREATE_VCPU id; returns the vCPU fd.',
    args: { vm: fd('VM fd'), id: u64('vCPU id', false) },
    *exec(ctx, a) {
      return yield* ioctl(ctx, num(a.vm), { cmd: 'KVM_CREATE_VCPU', id: big(a.id) }, big(a.id));
    },
  }),
  op({
    name: 'KVM_RUN',
    doc: 'KVM_RUN with a guest program of reads and writes, run in order until one exits; HLT ends the program.',
    args: { vcpu: fd('vCPU fd'), guest: guest('[{read: GPA, size?}, {write: GPA, value, size?}, ...]') },
    *exec(ctx, a) {
      const g: GuestRunState = { prog: a.guest as GuestAccess[], pc: 0, values: [] };
      const vcpuFd = num(a.vcpu);
      const r = yield* ioctl(ctx, vcpuFd, { cmd: 'KVM_RUN', guest: g });
      const f = fdget(ctx.task.proc, vcpuFd);
      const out: OpOutcome = { ...r, values: g.values.map(toU64) };
      if (f?.f_op === 'kvm_vcpu_fops') {
        const run = (
          f.private_data as { run: { exit_reason: number; memory_fault: { flags: number; gpa: number; size: number } } }
        ).run;
        out.exit_reason = exitReasonName(run.exit_reason);
        if (run.exit_reason === KVM_EXIT_MEMORY_FAULT) out.memory_fault = memoryFaultResult(run.memory_fault);
      }
      return out;
    },
  }),
];

type Defs = (typeof defs)[number];
/** Every op name of the scenario language and the typed API. */
export type OpName = Defs['name'];
/** The arguments op N takes. */
export type OpArgs<N extends OpName> = ArgsOf<Extract<Defs, { name: N }>['args']>;

export const OPS: ReadonlyMap<string, OpDef> = new Map(defs.map((d) => [d.name, d as OpDef]));
export const OP_NAMES: readonly OpName[] = defs.map((d) => d.name);
