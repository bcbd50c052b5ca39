// Generic KVM (virt/kvm/kvm_main.c, include/linux/kvm_host.h): VM creation and lifetime, capabilities, memslot
// updates, memory attributes, MMU invalidation bookkeeping and the MMU notifier.

import { trace_kvm_unmap_hva_range, trace_kvm_vm_set_mem_attributes } from '../../trace/points.js';
import {
  mutex_lock,
  mutex_unlock,
  newLock,
  newSrcu,
  srcu_read_lock,
  srcu_read_unlock,
  synchronize_srcu,
  write_lock,
  write_unlock,
} from '../core/locking.js';
import { WARN_ON_ONCE } from '../core/printk.js';
import { type Ctx, type KGen, rd, wr } from '../core/sched.js';
import { fd_install, get_unused_fd_flags } from '../fs/file.js';
import { alloc_file } from '../fs/file_table.js';
import { newRangeMap, rangeAll, rangeGet, rangeSet } from '../lib/range_map.js';
import type { Kernel } from '../machine.js';
import { PAGE_SHIFT, PAGE_SIZE } from '../mm/mm_types.js';
import { EEXIST, EINVAL, EIO } from '../uapi/errno.js';
import { O_CLOEXEC, O_RDWR } from '../uapi/fs.js';
import * as U from '../uapi/kvm.js';
import {
  kvm_arch_flush_shadow_memslot,
  kvm_arch_post_set_memory_attributes,
  kvm_arch_pre_set_memory_attributes,
  kvm_arch_prepare_memory_region,
  kvm_unmap_gfn_range,
} from '../x86/mmu.js';
import { kvm_arch_init_vm, kvm_vm_ioctl_check_extension } from '../x86/x86.js';
import { kvm_gmem_bind, kvm_gmem_get_supported_flags, kvm_gmem_unbind } from './guest_memfd.js';
import { INVALID_GPA, KVM_MEMSLOT_INVALID, type Kvm, type KvmMemorySlot, type KvmVcpu } from './kvm_host.js';

export const invalKey = (kvm: Kvm) => `inval:${kvm.id}`;
export const memslotsKey = (kvm: Kvm) => `memslots:${kvm.id}`;
export const attrsKey = (kvm: Kvm, gfn?: number) => (gfn === undefined ? `attrs:${kvm.id}` : `attrs:${kvm.id}:${gfn}`);

/** KVM_MEM_SLOTS_NUM (SHRT_MAX) */
export const KVM_MEM_SLOTS_NUM = 32767;

/** struct kvm_gfn_range */
export interface KvmGfnRange {
  readonly slot: KvmMemorySlot;
  readonly start: number;
  readonly end: number;
  readonly may_block: boolean;
}

/** struct kvm_userspace_memory_region2, as copied in; u64 fields stay bigint for exact checks. */
export interface MemoryRegion2 {
  readonly slot: number;
  readonly flags: number;
  readonly guest_phys_addr: bigint;
  readonly memory_size: bigint;
  readonly userspace_addr: bigint;
  readonly guest_memfd_offset: bigint;
  readonly guest_memfd: number;
}

// ---------------------------------------------------------------------------------------------- locks

/** KVM_MMU_LOCK(): x86's mmu_lock is an rwlock taken for write. */
export const KVM_MMU_LOCK = (ctx: Ctx, kvm: Kvm) => write_lock(ctx, kvm.mmu_lock);
export const KVM_MMU_UNLOCK = (ctx: Ctx, kvm: Kvm) => write_unlock(ctx, kvm.mmu_lock);

export function lockdep_assert_held_write(ctx: Ctx, kvm: Kvm, where: string): void {
  WARN_ON_ONCE(ctx, kvm.mmu_lock.owner !== ctx.task.tid, where, 'lockdep_assert_held_write(&kvm->mmu_lock)');
}

// ---------------------------------------------------------------------------------------------- VM lifetime

function kvm_arch_nr_memslot_as_ids(kvm: Kvm): number {
  return kvm.has_private_mem ? 1 : 2;
}

/** kvm_dev_ioctl_create_vm(): a new VM and its fd (O_CLOEXEC). */
export function* kvm_dev_ioctl_create_vm(ctx: Ctx, type: bigint): KGen<number> {
  const proc = ctx.task.proc;
  yield* wr(`fdtable:${proc.pid}`);
  const fd = get_unused_fd_flags(proc);
  if (fd < 0) return fd;
  const r = kvm_arch_init_vm(type, ctx.k.opts.sw_protected_vm);
  if (r < 0) return r;
  const id = ctx.k.ids.vm++;
  const kvm: Kvm = {
    id,
    type: Number(type),
    mm: proc.mm,
    users_count: 1,
    slots_lock: newLock(`slots_lock:${id}`, `kvm${id}->slots_lock`, 'mutex'),
    slots_arch_lock: newLock(`slots_arch_lock:${id}`, `kvm${id}->slots_arch_lock`, 'mutex'),
    mmu_lock: newLock(`mmu_lock:${id}`, `kvm${id}->mmu_lock`, 'rwlock'),
    srcu: newSrcu(`srcu:${id}`, `kvm${id}->srcu`),
    memslots: [new Map(), new Map()],
    mem_attr_array: newRangeMap(),
    mmu_invalidate_seq: 0,
    mmu_invalidate_in_progress: 0,
    mmu_invalidate_range_start: INVALID_GPA,
    mmu_invalidate_range_end: INVALID_GPA,
    sptes: [new Map(), new Map()],
    vcpus: [],
    vm_dead: false,
    vm_bugged: false,
    has_private_mem: type === BigInt(U.KVM_X86_SW_PROTECTED_VM),
    destroyed: false,
    nr_memslot_pages: 0,
    mn_active_invalidate_count: 0,
    mmu_valid_gen: 0,
    retry_gen: 0,
  };
  ctx.k.vms.push(kvm);
  fd_install(proc, fd, alloc_file(ctx.k, 'kvm_vm_fops', O_RDWR | O_CLOEXEC, null, kvm, 'anon_inode:kvm-vm'));
  return fd;
}

export function kvm_get_kvm(kvm: Kvm): void {
  kvm.users_count++;
}

/** kvm_put_kvm(): the last reference destroys the VM. */
export function* kvm_put_kvm(ctx: Ctx, kvm: Kvm): KGen<void> {
  if (--kvm.users_count > 0) return;
  yield* kvm_destroy_vm(ctx, kvm);
}

/** kvm_destroy_vm(): zap everything, then free memslots (which unbinds guest_memfd). */
function* kvm_destroy_vm(ctx: Ctx, kvm: Kvm): KGen<void> {
  yield* write_lock(ctx, kvm.mmu_lock);
  for (const t of kvm.sptes) t.clear();
  yield* write_unlock(ctx, kvm.mmu_lock);
  for (const slots of kvm.memslots) {
    for (const slot of slots.values()) if (slot.flags & U.KVM_MEM_GUEST_MEMFD) yield* kvm_gmem_unbind(ctx, kvm, slot);
  }
  kvm.memslots = [new Map(), new Map()];
  kvm.destroyed = true;
}

// ---------------------------------------------------------------------------------------------- capabilities

/** kvm_vm_ioctl_check_extension_generic(): kvm is null for the /dev/kvm query. */
export function kvm_vm_ioctl_check_extension_generic(k: Kernel, kvm: Kvm | null, cap: number): number {
  switch (cap) {
    case U.KVM_CAP_USER_MEMORY:
    case U.KVM_CAP_USER_MEMORY2:
    case U.KVM_CAP_GUEST_MEMFD:
      return 1;
    case U.KVM_CAP_NR_MEMSLOTS:
      return U.KVM_USER_MEM_SLOTS;
    case U.KVM_CAP_MULTI_ADDRESS_SPACE:
      return kvm ? kvm_arch_nr_memslot_as_ids(kvm) : U.KVM_ADDRESS_SPACE_NUM;
    case U.KVM_CAP_MEMORY_ATTRIBUTES:
      return !kvm || kvm.has_private_mem ? U.KVM_MEMORY_ATTRIBUTE_PRIVATE : 0;
    case U.KVM_CAP_GUEST_MEMFD_FLAGS:
      return kvm_gmem_get_supported_flags(kvm);
    default:
      return kvm_vm_ioctl_check_extension(kvm, cap, k.opts.sw_protected_vm);
  }
}

// ---------------------------------------------------------------------------------------------- memslots

function id_to_memslot(kvm: Kvm, as_id: number, id: number): KvmMemorySlot | undefined {
  return kvm.memslots[as_id].get(id);
}

/** __gfn_to_memslot(): the slot containing gfn in the given memslot set, if any. */
export function gfn_to_memslot(slots: ReadonlyMap<number, KvmMemorySlot>, gfn: number): KvmMemorySlot | undefined {
  for (const s of slots.values()) if (gfn >= s.base_gfn && gfn < s.base_gfn + s.npages) return s;
  return undefined;
}

/** check_memory_region_flags() */
function check_memory_region_flags(mem: MemoryRegion2): number {
  let valid = U.KVM_MEM_LOG_DIRTY_PAGES | U.KVM_MEM_GUEST_MEMFD;
  if (mem.flags & U.KVM_MEM_GUEST_MEMFD) valid &= ~U.KVM_MEM_LOG_DIRTY_PAGES;
  if (!(mem.flags & U.KVM_MEM_GUEST_MEMFD)) valid |= U.KVM_MEM_READONLY; // kvm_arch_has_readonly_mem()
  return mem.flags & ~valid ? -EINVAL : 0;
}

/** x86-64 access_ok(addr, size): the range must lie below TASK_SIZE_MAX without wrapping. */
function access_ok(addr: bigint, size: bigint): boolean {
  const sum = addr + size;
  return sum <= 0x7ffffffff000n && sum >= addr;
}

/** kvm_vm_ioctl_set_memory_region(): the ioctl-level slot check, then kvm_set_memory_region() under slots_lock. */
export function* kvm_vm_ioctl_set_memory_region(ctx: Ctx, kvm: Kvm, mem: MemoryRegion2, legacy: boolean): KGen<number> {
  if (legacy && mem.flags & ~(U.KVM_MEM_LOG_DIRTY_PAGES | U.KVM_MEM_READONLY)) return -EINVAL;
  if ((mem.slot & 0xffff) >= U.KVM_USER_MEM_SLOTS) return -EINVAL;
  yield* mutex_lock(ctx, kvm.slots_lock);
  const r = yield* kvm_set_memory_region(ctx, kvm, mem);
  yield* mutex_unlock(ctx, kvm.slots_lock);
  return r;
}

type MemslotChange = 'CREATE' | 'DELETE' | 'MOVE' | 'FLAGS_ONLY';

/** kvm_set_memory_region(): every check in the kernel's order; slots_lock held. */
function* kvm_set_memory_region(ctx: Ctx, kvm: Kvm, mem: MemoryRegion2): KGen<number> {
  const P = BigInt(PAGE_SIZE - 1);
  if (check_memory_region_flags(mem)) return -EINVAL;
  const as_id = mem.slot >>> 16;
  const id = mem.slot & 0xffff;
  if (mem.memory_size & P) return -EINVAL;
  if (mem.guest_phys_addr & P) return -EINVAL;
  if (mem.userspace_addr & P || !access_ok(mem.userspace_addr, mem.memory_size)) return -EINVAL;
  if (mem.flags & U.KVM_MEM_GUEST_MEMFD) {
    if (mem.guest_memfd_offset & P) return -EINVAL;
    if (BigInt.asUintN(64, mem.guest_memfd_offset + mem.memory_size) < mem.guest_memfd_offset) return -EINVAL;
  }
  if (as_id >= kvm_arch_nr_memslot_as_ids(kvm) || id >= KVM_MEM_SLOTS_NUM) return -EINVAL;
  if (BigInt.asUintN(64, mem.guest_phys_addr + mem.memory_size) < mem.guest_phys_addr) return -EINVAL;

  yield* rd(memslotsKey(kvm));
  const old = id_to_memslot(kvm, as_id, id);
  if (mem.memory_size === 0n) {
    if (!old?.npages) return -EINVAL;
    if (
      WARN_ON_ONCE(
        ctx,
        kvm.nr_memslot_pages < old.npages,
        'virt/kvm/kvm_main.c:kvm_set_memory_region',
        'nr_memslot_pages < old->npages',
      )
    ) {
      return -EIO;
    }
    return yield* kvm_set_memslot(ctx, kvm, old, null, 'DELETE');
  }
  const base_gfn = Number(mem.guest_phys_addr >> BigInt(PAGE_SHIFT));
  const npagesBig = mem.memory_size >> BigInt(PAGE_SHIFT);
  if (id < U.KVM_USER_MEM_SLOTS && npagesBig > BigInt(U.KVM_MEM_MAX_NR_PAGES)) return -EINVAL;
  const npages = Number(npagesBig);
  let change: MemslotChange;
  if (!old?.npages) {
    change = 'CREATE';
  } else {
    if (mem.flags & U.KVM_MEM_GUEST_MEMFD) return -EINVAL;
    if (
      mem.userspace_addr !== BigInt(old.userspace_addr) ||
      npages !== old.npages ||
      (mem.flags ^ old.flags) & (U.KVM_MEM_READONLY | U.KVM_MEM_GUEST_MEMFD)
    ) {
      return -EINVAL;
    }
    if (base_gfn !== old.base_gfn) change = 'MOVE';
    else if (mem.flags !== (old.flags & 0xffff)) change = 'FLAGS_ONLY';
    else return 0;
  }
  if (change === 'CREATE' || change === 'MOVE') {
    for (const s of kvm.memslots[as_id].values()) {
      if (s.id !== id && base_gfn < s.base_gfn + s.npages && base_gfn + npages > s.base_gfn) return -EEXIST;
    }
  }
  const slot: KvmMemorySlot = {
    id,
    as_id,
    base_gfn,
    npages,
    flags: mem.flags,
    userspace_addr: Number(mem.userspace_addr),
    gmem: { file: null, pgoff: 0 },
  };
  if (mem.flags & U.KVM_MEM_GUEST_MEMFD) {
    const r = yield* kvm_gmem_bind(ctx, kvm, slot, mem.guest_memfd, mem.guest_memfd_offset);
    if (r) return r;
  }
  const r = yield* kvm_set_memslot(ctx, kvm, old ?? null, slot, change);
  if (r && mem.flags & U.KVM_MEM_GUEST_MEMFD) yield* kvm_gmem_unbind(ctx, kvm, slot);
  return r;
}

/**
 * kvm_swap_active_memslots(): wait for in-flight MMU-notifier invalidations, publish the new set, drop
 * slots_arch_lock and wait for every SRCU reader (in-flight vCPU faults) to finish.
 */
function* kvm_swap_active_memslots(ctx: Ctx, kvm: Kvm, as_id: number, next: Map<number, KvmMemorySlot>): KGen<void> {
  yield {
    t: 'wait',
    obj: invalKey(kvm),
    what: `kvm_swap_active_memslots(kvm${kvm.id}) waiting for mn_active_invalidate_count == 0`,
    ready: () => kvm.mn_active_invalidate_count === 0,
    blockers: () => [],
  };
  yield* wr(memslotsKey(kvm));
  kvm.memslots[as_id] = next;
  kvm.retry_gen++;
  yield* mutex_unlock(ctx, kvm.slots_arch_lock);
  yield* synchronize_srcu(ctx, kvm.srcu);
}

/** kvm_set_memslot(): CREATE publishes once; DELETE/MOVE first publish an INVALID copy and zap. */
function* kvm_set_memslot(
  ctx: Ctx,
  kvm: Kvm,
  old: KvmMemorySlot | null,
  next: KvmMemorySlot | null,
  change: MemslotChange,
): KGen<number> {
  const slot = (next ?? old)!;
  const as_id = slot.as_id;
  yield* mutex_lock(ctx, kvm.slots_arch_lock);
  let invalid: KvmMemorySlot | null = null;
  if (change === 'DELETE' || change === 'MOVE') {
    invalid = { ...old!, flags: old!.flags | KVM_MEMSLOT_INVALID, gmem: old!.gmem };
    const m = new Map(kvm.memslots[as_id]);
    m.set(old!.id, invalid);
    yield* kvm_swap_active_memslots(ctx, kvm, as_id, m);
    yield* mutex_lock(ctx, kvm.slots_arch_lock);
    yield* kvm_arch_flush_shadow_memslot(ctx, kvm, old!);
  }
  const r = kvm_arch_prepare_memory_region(next, change);
  if (r) {
    if (invalid) {
      const m = new Map(kvm.memslots[as_id]);
      m.set(old!.id, old!);
      yield* kvm_swap_active_memslots(ctx, kvm, as_id, m);
    } else {
      yield* mutex_unlock(ctx, kvm.slots_arch_lock);
    }
    return r;
  }
  const m = new Map(kvm.memslots[as_id]);
  if (change === 'DELETE') m.delete(old!.id);
  else m.set(next!.id, next!);
  yield* kvm_swap_active_memslots(ctx, kvm, as_id, m);
  // kvm_commit_memory_region()
  if (change === 'CREATE') kvm.nr_memslot_pages += next!.npages;
  if (change === 'DELETE') {
    kvm.nr_memslot_pages -= old!.npages;
    if (old!.flags & U.KVM_MEM_GUEST_MEMFD) yield* kvm_gmem_unbind(ctx, kvm, old!); // kvm_free_memslot()
  }
  return 0;
}

// ---------------------------------------------------------------------------------------------- invalidation

/** kvm_mmu_invalidate_begin(): mmu_lock held for write. */
export function* kvm_mmu_invalidate_begin(ctx: Ctx, kvm: Kvm): KGen<void> {
  lockdep_assert_held_write(ctx, kvm, 'virt/kvm/kvm_main.c:kvm_mmu_invalidate_begin');
  yield* wr(invalKey(kvm));
  kvm.retry_gen++;
  kvm.mmu_invalidate_in_progress++;
  if (kvm.mmu_invalidate_in_progress === 1) {
    kvm.mmu_invalidate_range_start = INVALID_GPA;
    kvm.mmu_invalidate_range_end = INVALID_GPA;
  }
}

/** kvm_mmu_invalidate_range_add() */
export function* kvm_mmu_invalidate_range_add(ctx: Ctx, kvm: Kvm, start: number, end: number): KGen<void> {
  yield* wr(invalKey(kvm));
  WARN_ON_ONCE(
    ctx,
    !kvm.mmu_invalidate_in_progress,
    'virt/kvm/kvm_main.c:kvm_mmu_invalidate_range_add',
    '!kvm->mmu_invalidate_in_progress',
  );
  kvm.retry_gen++;
  if (kvm.mmu_invalidate_range_start === INVALID_GPA) {
    kvm.mmu_invalidate_range_start = start;
    kvm.mmu_invalidate_range_end = end;
  } else {
    kvm.mmu_invalidate_range_start = Math.min(kvm.mmu_invalidate_range_start, start);
    kvm.mmu_invalidate_range_end = Math.max(kvm.mmu_invalidate_range_end, end);
  }
}

/** kvm_mmu_invalidate_end(): seq++ then in_progress--; a negative count is a KVM_BUG, a begin without range a WARN. */
export function* kvm_mmu_invalidate_end(ctx: Ctx, kvm: Kvm): KGen<void> {
  lockdep_assert_held_write(ctx, kvm, 'virt/kvm/kvm_main.c:kvm_mmu_invalidate_end');
  yield* wr(invalKey(kvm));
  kvm.retry_gen++;
  kvm.mmu_invalidate_seq++;
  kvm.mmu_invalidate_in_progress--;
  KVM_BUG_ON(
    ctx,
    kvm,
    kvm.mmu_invalidate_in_progress < 0,
    'virt/kvm/kvm_main.c:kvm_mmu_invalidate_end',
    'kvm->mmu_invalidate_in_progress < 0',
  );
  WARN_ON_ONCE(
    ctx,
    kvm.mmu_invalidate_range_start === INVALID_GPA,
    'virt/kvm/kvm_main.c:kvm_mmu_invalidate_end',
    'kvm->mmu_invalidate_range_start == INVALID_GPA',
  );
}

/** KVM_BUG_ON(): a WARN that also marks the VM bugged and dead (every later ioctl gets EIO). */
export function KVM_BUG_ON(ctx: Ctx, kvm: Kvm, cond: boolean, where: string, what: string): boolean {
  if (!cond) return false;
  ctx.k.warnings.push({ where, cond: what, tid: ctx.task.tid, bug: true });
  kvm.vm_bugged = true;
  kvm.vm_dead = true;
  return true;
}

/** kvm_mmu_unmap_gfn_range(): range_add, then zap. */
export function* kvm_mmu_unmap_gfn_range(ctx: Ctx, kvm: Kvm, range: KvmGfnRange): KGen<boolean> {
  yield* kvm_mmu_invalidate_range_add(ctx, kvm, range.start, range.end);
  return yield* kvm_unmap_gfn_range(ctx, kvm, range);
}

/**
 * kvm_flush_remote_tlbs(): KVM_REQ_TLB_FLUSH is a KVM_REQUEST_WAIT request, so the IPIs are waited for; a vCPU
 * takes the IPI at an instruction boundary, so an access that translated through an old SPTE completes first. The
 * model keeps no TLBs beyond the SPTEs: it waits for every vCPU's in-flight guest access (KvmVcpu.inflight).
 */
export function* kvm_flush_remote_tlbs(ctx: Ctx, kvm: Kvm): KGen<void> {
  const busy = () => kvm.vcpus.filter((v) => v.inflight >= 0 && v.inflightTid !== ctx.task.tid);
  yield {
    t: 'wait',
    obj: `tlb:${kvm.id}`,
    what: `kvm${kvm.id} TLB flush waiting for vCPUs to finish their in-flight guest accesses`,
    ready: () => busy().length === 0,
    blockers: () => busy().map((v) => v.inflightTid),
  };
}

// ---------------------------------------------------------------------------------------------- attributes

/** kvm_get_memory_attributes() / kvm_mem_is_private(): lockless reads of the attribute array. */
export function* kvm_mem_is_private(kvm: Kvm, gfn: number): KGen<boolean> {
  yield* rd(attrsKey(kvm, gfn));
  return (rangeGet(kvm.mem_attr_array, gfn) & U.KVM_MEMORY_ATTRIBUTE_PRIVATE) !== 0;
}

export interface MemoryAttributes {
  readonly address: bigint;
  readonly size: bigint;
  readonly attributes: bigint;
  readonly flags: bigint;
}

/** kvm_vm_ioctl_set_mem_attributes() */
export function* kvm_vm_ioctl_set_mem_attributes(ctx: Ctx, kvm: Kvm, a: MemoryAttributes): KGen<number> {
  if (a.flags) return -EINVAL;
  const supported = BigInt(kvm.has_private_mem ? U.KVM_MEMORY_ATTRIBUTE_PRIVATE : 0);
  if (a.attributes & ~supported) return -EINVAL;
  if (a.size === 0n || BigInt.asUintN(64, a.address + a.size) < a.address) return -EINVAL;
  if (a.address % BigInt(PAGE_SIZE) || a.size % BigInt(PAGE_SIZE)) return -EINVAL;
  const start = Number(a.address >> BigInt(PAGE_SHIFT));
  const end = Number((a.address + a.size) >> BigInt(PAGE_SHIFT));
  return yield* kvm_vm_set_mem_attributes(ctx, kvm, start, end, Number(a.attributes));
}

/** kvm_vm_set_mem_attributes(): pre pass (begin + zap), store, post pass (end), all under slots_lock. */
function* kvm_vm_set_mem_attributes(ctx: Ctx, kvm: Kvm, start: number, end: number, attributes: number): KGen<number> {
  trace_kvm_vm_set_mem_attributes(ctx, start, end, attributes);
  yield* mutex_lock(ctx, kvm.slots_lock);
  yield* rd(attrsKey(kvm));
  // kvm_range_has_memory_attributes(): already exactly these attributes → nothing to do
  if (!rangeAll(kvm.mem_attr_array, start, end, attributes)) {
    yield* kvm_handle_gfn_range(ctx, kvm, start, end, 'pre', attributes);
    yield* wr(attrsKey(kvm));
    kvm.retry_gen++;
    rangeSet(kvm.mem_attr_array, start, end, attributes);
    yield* kvm_handle_gfn_range(ctx, kvm, start, end, 'post', attributes);
  }
  yield* mutex_unlock(ctx, kvm.slots_lock);
  return 0;
}

/**
 * kvm_handle_gfn_range() for the attribute passes: on the first intersecting memslot take mmu_lock for write
 * and run on_lock (begin for 'pre', end for 'post'); then the per-slot handler.
 */
function* kvm_handle_gfn_range(
  ctx: Ctx,
  kvm: Kvm,
  start: number,
  end: number,
  pass: 'pre' | 'post',
  attributes: number,
): KGen<void> {
  let found = false;
  let flush = false;
  for (let as_id = 0; as_id < kvm_arch_nr_memslot_as_ids(kvm); as_id++) {
    yield* rd(memslotsKey(kvm));
    for (const slot of kvm.memslots[as_id].values()) {
      const s = Math.max(start, slot.base_gfn);
      const e = Math.min(end, slot.base_gfn + slot.npages);
      if (s >= e) continue;
      if (!found) {
        found = true;
        yield* KVM_MMU_LOCK(ctx, kvm);
        if (pass === 'pre') yield* kvm_mmu_invalidate_begin(ctx, kvm);
        else yield* kvm_mmu_invalidate_end(ctx, kvm);
      }
      const range: KvmGfnRange = { slot, start: s, end: e, may_block: true };
      if (pass === 'pre') {
        yield* kvm_mmu_invalidate_range_add(ctx, kvm, s, e); // kvm_pre_set_memory_attributes()
        flush = (yield* kvm_arch_pre_set_memory_attributes(ctx, kvm, range, attributes)) || flush;
      } else {
        kvm_arch_post_set_memory_attributes(kvm, range);
      }
    }
  }
  if (flush) yield* kvm_flush_remote_tlbs(ctx, kvm);
  if (found) yield* KVM_MMU_UNLOCK(ctx, kvm);
}

// ---------------------------------------------------------------------------------------------- MMU notifier

/** Memslots whose host range intersects [start, end), with the gfn range they cover. */
function* hva_to_gfn_ranges(ctx: Ctx, kvm: Kvm, start: number, end: number): KGen<KvmGfnRange[]> {
  const idx = yield* srcu_read_lock(ctx, kvm.srcu);
  yield* rd(memslotsKey(kvm));
  const out: KvmGfnRange[] = [];
  for (const slots of kvm.memslots) {
    for (const slot of slots.values()) {
      const hs = Math.max(start, slot.userspace_addr);
      const he = Math.min(end, slot.userspace_addr + slot.npages * PAGE_SIZE);
      if (hs >= he) continue;
      out.push({
        slot,
        start: slot.base_gfn + Math.floor((hs - slot.userspace_addr) / PAGE_SIZE),
        end: slot.base_gfn + Math.ceil((he - slot.userspace_addr) / PAGE_SIZE),
        may_block: true,
      });
    }
  }
  yield* srcu_read_unlock(ctx, kvm.srcu, idx);
  return out;
}

/** kvm_mmu_notifier_invalidate_range_start(): begin + zap the SPTEs behind the host range. */
export function* kvm_mmu_notifier_invalidate_range_start(ctx: Ctx, kvm: Kvm, start: number, end: number): KGen<void> {
  trace_kvm_unmap_hva_range(ctx, start, end);
  yield* wr(invalKey(kvm));
  kvm.mn_active_invalidate_count++;
  const ranges = yield* hva_to_gfn_ranges(ctx, kvm, start, end);
  if (ranges.length === 0) return;
  yield* KVM_MMU_LOCK(ctx, kvm);
  yield* kvm_mmu_invalidate_begin(ctx, kvm);
  let flush = false;
  for (const r of ranges) flush = (yield* kvm_mmu_unmap_gfn_range(ctx, kvm, r)) || flush;
  if (flush) yield* kvm_flush_remote_tlbs(ctx, kvm);
  yield* KVM_MMU_UNLOCK(ctx, kvm);
}

/** kvm_mmu_notifier_invalidate_range_end() */
export function* kvm_mmu_notifier_invalidate_range_end(ctx: Ctx, kvm: Kvm, start: number, end: number): KGen<void> {
  const ranges = yield* hva_to_gfn_ranges(ctx, kvm, start, end);
  if (ranges.length > 0) {
    yield* KVM_MMU_LOCK(ctx, kvm);
    yield* kvm_mmu_invalidate_end(ctx, kvm);
    yield* KVM_MMU_UNLOCK(ctx, kvm);
  }
  yield* wr(invalKey(kvm));
  kvm.mn_active_invalidate_count--;
}

// ---------------------------------------------------------------------------------------------- vCPUs

/** kvm_vm_ioctl_create_vcpu() */
export function* kvm_vm_ioctl_create_vcpu(ctx: Ctx, kvm: Kvm, id: bigint): KGen<number> {
  if (id >= BigInt(U.KVM_MAX_VCPU_IDS)) return -EINVAL;
  if (kvm.vcpus.length >= U.KVM_MAX_VCPUS) return -EINVAL;
  if (kvm.vcpus.some((v) => v.vcpu_id === Number(id))) return -EEXIST;
  const proc = ctx.task.proc;
  yield* wr(`fdtable:${proc.pid}`);
  const fd = get_unused_fd_flags(proc);
  if (fd < 0) return fd;
  const vcpu: KvmVcpu = {
    kvm,
    vcpu_id: Number(id),
    run: { exit_reason: 0, memory_fault: { flags: 0, gpa: 0, size: 0 } },
    mutex: newLock(`vcpu_mutex:${kvm.id}:${id}`, `vcpu${id}->mutex`, 'mutex'),
    inflight: -1,
    inflightTid: 0,
  };
  kvm.vcpus.push(vcpu);
  kvm_get_kvm(kvm);
  fd_install(proc, fd, alloc_file(ctx.k, 'kvm_vcpu_fops', O_RDWR | O_CLOEXEC, null, vcpu, `anon_inode:kvm-vcpu:${id}`));
  return fd;
}
