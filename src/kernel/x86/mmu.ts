// The x86 TDP MMU fault path and SPTE zapping (arch/x86/kvm/mmu/mmu.c, tdp_mmu.c). Only 4 KiB leaf SPTEs are
// modeled; one direct root per address space stands for the TDP MMU's roots.

import {
  trace_kvm_mmu_set_spte,
  trace_kvm_mmu_spte_requested,
  trace_kvm_tdp_mmu_spte_changed,
} from '../../trace/points.js';
import { read_lock, read_unlock, write_lock, write_unlock } from '../core/locking.js';
import { pr_warn, WARN_ON_ONCE } from '../core/printk.js';
import { type Ctx, type KGen, rd, wr } from '../core/sched.js';
import { kvm_gmem_get_pfn } from '../kvm/guest_memfd.js';
import {
  INVALID_GPA,
  KVM_MEMSLOT_GMEM_ONLY,
  KVM_MEMSLOT_INVALID,
  type Kvm,
  type KvmMemorySlot,
  type KvmVcpu,
  type Spte,
} from '../kvm/kvm_host.js';
import {
  gfn_to_memslot,
  invalKey,
  KVM_BUG_ON,
  type KvmGfnRange,
  kvm_flush_remote_tlbs,
  kvm_mem_is_private,
  lockdep_assert_held_write,
} from '../kvm/kvm_main.js';
import { folioKey } from '../mm/filemap.js';
import { get_user_page } from '../mm/gup.js';
import { type Folio, PAGE_SHIFT, PAGE_SIZE, PG_dirty } from '../mm/mm_types.js';
import { folio_put } from '../mm/page_alloc.js';
import { send_sig_mceerr } from '../task/signal.js';
import { EFAULT, EHWPOISON, EINTR, EINVAL, EIO } from '../uapi/errno.js';
import {
  KVM_EXIT_INTR,
  KVM_EXIT_MEMORY_FAULT,
  KVM_MEM_GUEST_MEMFD,
  KVM_MEM_READONLY,
  KVM_MEMORY_EXIT_FLAG_PRIVATE,
  KVM_X86_DEFAULT_VM,
  KVM_X86_SW_PROTECTED_VM,
} from '../uapi/kvm.js';
import { BUS_MCEERR_AR } from '../uapi/signal.js';

// Page-fault error code bits (arch/x86/include/asm/kvm_host.h)
export const PFERR_PRESENT_MASK = 1n << 0n;
export const PFERR_WRITE_MASK = 1n << 1n;
export const PFERR_USER_MASK = 1n << 2n;
export const PFERR_RSVD_MASK = 1n << 3n;
export const PFERR_GUEST_FINAL_MASK = 1n << 32n;
export const PFERR_PRIVATE_ACCESS = 1n << 49n;

// enum RET_PF (arch/x86/kvm/mmu/mmu_internal.h)
export const RET_PF_CONTINUE = 0;
export const RET_PF_RETRY = 1;
export const RET_PF_EMULATE = 2;
export const RET_PF_WRITE_PROTECTED = 3;
export const RET_PF_INVALID = 4;
export const RET_PF_FIXED = 5;
export const RET_PF_SPURIOUS = 6;

/** SHADOW_NONPRESENT_VALUE on x86-64 (arch/x86/kvm/mmu/spte.h) */
export const SHADOW_NONPRESENT_VALUE = 1n << 63n;
/** The guest-physical address width the model's VMs get (kvm_mmu_max_gfn()). */
export const MAX_GPA_BITS = 48;
export const kvm_mmu_max_gfn = () => 2 ** (MAX_GPA_BITS - PAGE_SHIFT) - 1;

export const spteKey = (kvm: Kvm, gfn?: number) => (gfn === undefined ? `spte:${kvm.id}` : `spte:${kvm.id}:${gfn}`);

/** A synthetic leaf SPTE value for traces: pfn and the present/writable/user/accessed bits. */
export function spteValue(s: Spte): bigint {
  return (BigInt(s.pfn) << 12n) | 0x25n | (s.writable ? 0x2n : 0n) | 0x600n;
}

/** struct kvm_page_fault, the fields the model uses. */
export interface KvmPageFault {
  readonly addr: number;
  readonly error_code: bigint;
  readonly write: boolean;
  readonly is_private: boolean;
  readonly gfn: number;
  readonly slot: KvmMemorySlot | undefined;
  readonly prefetch: boolean;
  readonly root_gen: number;
  mmu_seq: number;
  pfn: number;
  folio: Folio | null;
  map_writable: boolean;
  from_gmem: boolean;
}

// ---------------------------------------------------------------------------------------------- fault entry

/**
 * kvm_mmu_page_fault(): for SW_PROTECTED VMs the fault is private iff the gfn's attribute says so at exit time,
 * unless the access forced it (as SNP's C-bit would).
 */
export function* kvm_mmu_page_fault(
  ctx: Ctx,
  vcpu: KvmVcpu,
  slots: ReadonlyMap<number, KvmMemorySlot>,
  gpa: number,
  error_code: bigint,
  forcePrivate: boolean | undefined,
): KGen<number> {
  const kvm = vcpu.kvm;
  const gfn = Math.floor(gpa / PAGE_SIZE);
  let ec = error_code;
  if (forcePrivate === true) ec |= PFERR_PRIVATE_ACCESS;
  else if (forcePrivate === undefined && kvm.type === KVM_X86_SW_PROTECTED_VM && !(ec & PFERR_RSVD_MASK)) {
    if (yield* kvm_mem_is_private(kvm, gfn)) ec |= PFERR_PRIVATE_ACCESS;
  }
  const r = yield* kvm_mmu_do_page_fault(ctx, vcpu, slots, gpa, ec, false);
  if (KVM_BUG_ON(ctx, kvm, r === RET_PF_INVALID, 'arch/x86/kvm/mmu/mmu.c:kvm_mmu_page_fault', 'r == RET_PF_INVALID'))
    return -EIO;
  return r;
}

/** kvm_mmu_do_page_fault() */
export function* kvm_mmu_do_page_fault(
  ctx: Ctx,
  vcpu: KvmVcpu,
  slots: ReadonlyMap<number, KvmMemorySlot>,
  gpa: number,
  ec: bigint,
  prefetch: boolean,
): KGen<number> {
  const gfn = Math.floor(gpa / PAGE_SIZE);
  const fault: KvmPageFault = {
    addr: gpa,
    error_code: ec,
    write: (ec & PFERR_WRITE_MASK) !== 0n,
    is_private: (ec & PFERR_PRIVATE_ACCESS) !== 0n,
    gfn,
    slot: gfn_to_memslot(slots, gfn),
    prefetch,
    root_gen: vcpu.kvm.mmu_valid_gen,
    mmu_seq: 0,
    pfn: 0,
    folio: null,
    map_writable: false,
    from_gmem: false,
  };
  const r = yield* kvm_tdp_mmu_page_fault(ctx, vcpu, fault);
  if (r === RET_PF_EMULATE && fault.is_private) {
    pr_warn(ctx, 'kvm: unexpected emulation request on private memory');
    kvm_mmu_prepare_memory_fault_exit(vcpu, fault);
    return -EFAULT;
  }
  return r;
}

/** kvm_tdp_mmu_page_fault(): faultin outside mmu_lock, then map under mmu_lock held for read. */
function* kvm_tdp_mmu_page_fault(ctx: Ctx, vcpu: KvmVcpu, fault: KvmPageFault): KGen<number> {
  const kvm = vcpu.kvm;
  let r = yield* kvm_mmu_faultin_pfn(ctx, vcpu, fault);
  if (r !== RET_PF_CONTINUE) return r;
  r = RET_PF_RETRY;
  yield* read_lock(ctx, kvm.mmu_lock);
  if (!(yield* is_page_fault_stale(ctx, vcpu, fault))) r = yield* kvm_tdp_mmu_map(ctx, vcpu, fault);
  yield* kvm_mmu_finish_page_fault(ctx, fault, r);
  yield* read_unlock(ctx, kvm.mmu_lock);
  return r;
}

/** kvm_mmu_finish_page_fault() → kvm_release_faultin_page(): a used writable page is marked dirty. */
function* kvm_mmu_finish_page_fault(ctx: Ctx, fault: KvmPageFault, r: number): KGen<void> {
  const folio = fault.folio;
  if (!folio) return;
  fault.folio = null;
  if (r !== RET_PF_RETRY && fault.map_writable) {
    yield* wr(folioKey(folio));
    folio.flags |= PG_dirty; // kvm_set_page_dirty()
  }
  yield* folio_put(ctx, folio);
}

/** kvm_prepare_memory_fault_exit() */
export function kvm_mmu_prepare_memory_fault_exit(vcpu: KvmVcpu, fault: KvmPageFault): void {
  vcpu.run.exit_reason = KVM_EXIT_MEMORY_FAULT;
  vcpu.run.memory_fault = {
    flags: fault.is_private ? KVM_MEMORY_EXIT_FLAG_PRIVATE : 0,
    gpa: fault.gfn * PAGE_SIZE,
    size: PAGE_SIZE,
  };
}

// ---------------------------------------------------------------------------------------------- faultin

/** mmu_invalidate_retry_gfn_unsafe(): lockless early check. */
function* mmu_invalidate_retry_gfn_unsafe(kvm: Kvm, mmu_seq: number, gfn: number): KGen<boolean> {
  yield* rd(invalKey(kvm));
  if (
    kvm.mmu_invalidate_in_progress &&
    kvm.mmu_invalidate_range_start !== INVALID_GPA &&
    gfn >= kvm.mmu_invalidate_range_start &&
    gfn < kvm.mmu_invalidate_range_end
  ) {
    return true;
  }
  return kvm.mmu_invalidate_seq !== mmu_seq;
}

/** mmu_invalidate_retry_gfn(): the locked check (mmu_lock held). */
function mmu_invalidate_retry_gfn(ctx: Ctx, kvm: Kvm, mmu_seq: number, gfn: number): boolean {
  if (kvm.mmu_invalidate_in_progress) {
    if (
      WARN_ON_ONCE(
        ctx,
        kvm.mmu_invalidate_range_start === INVALID_GPA,
        'include/linux/kvm_host.h:mmu_invalidate_retry_gfn',
        'kvm->mmu_invalidate_range_start == INVALID_GPA',
      )
    ) {
      return true;
    }
    if (gfn >= kvm.mmu_invalidate_range_start && gfn < kvm.mmu_invalidate_range_end) return true;
  }
  return kvm.mmu_invalidate_seq !== mmu_seq;
}

/** is_page_fault_stale(): an obsolete root, or an invalidation that covers the gfn / bumped the sequence. */
function* is_page_fault_stale(ctx: Ctx, vcpu: KvmVcpu, fault: KvmPageFault): KGen<boolean> {
  yield* rd(invalKey(vcpu.kvm));
  if (fault.root_gen !== vcpu.kvm.mmu_valid_gen) return true;
  // mmu_lock is held: the invalidation state read above cannot change before mmu_invalidate_retry_gfn() reads it
  return fault.slot !== undefined && mmu_invalidate_retry_gfn(ctx, vcpu.kvm, fault.mmu_seq, fault.gfn);
}

/**
 * kvm_mmu_faultin_pfn(): snapshot mmu_invalidate_seq first, then check private vs shared: a conversion that
 * completes after the snapshot is caught by the sequence check, so the attribute check cannot go stale.
 */
function* kvm_mmu_faultin_pfn(ctx: Ctx, vcpu: KvmVcpu, fault: KvmPageFault): KGen<number> {
  const kvm = vcpu.kvm;
  yield* rd(invalKey(kvm));
  fault.mmu_seq = kvm.mmu_invalidate_seq;
  if (fault.is_private !== (yield* kvm_mem_is_private(kvm, fault.gfn))) {
    kvm_mmu_prepare_memory_fault_exit(vcpu, fault);
    return -EFAULT;
  }
  const slot = fault.slot;
  if (!slot) return kvm_handle_noslot_fault(vcpu, fault);
  if (slot.flags & KVM_MEMSLOT_INVALID) return fault.prefetch ? -11 /* EAGAIN */ : RET_PF_RETRY;
  if (yield* mmu_invalidate_retry_gfn_unsafe(kvm, fault.mmu_seq, fault.gfn)) return RET_PF_RETRY;
  const r = yield* __kvm_mmu_faultin_pfn(ctx, vcpu, fault);
  if (r !== RET_PF_CONTINUE) return r;
  if (yield* mmu_invalidate_retry_gfn_unsafe(kvm, fault.mmu_seq, fault.gfn)) {
    yield* kvm_mmu_finish_page_fault(ctx, fault, RET_PF_RETRY);
    return RET_PF_RETRY;
  }
  return RET_PF_CONTINUE;
}

/** __kvm_mmu_faultin_pfn(): guest_memfd for private faults and GMEM_ONLY slots, GUP of userspace_addr otherwise. */
function* __kvm_mmu_faultin_pfn(ctx: Ctx, vcpu: KvmVcpu, fault: KvmPageFault): KGen<number> {
  const slot = fault.slot!;
  if (fault.is_private || slot.flags & KVM_MEMSLOT_GMEM_ONLY) return yield* kvm_mmu_faultin_pfn_gmem(ctx, vcpu, fault);
  const hva = slot.userspace_addr + (fault.gfn - slot.base_gfn) * PAGE_SIZE;
  const r = yield* get_user_page(ctx, ctx.task.proc.mm, hva, { write: fault.write, hwpoison: true });
  if (typeof r === 'number') return yield* kvm_handle_error_pfn(ctx, vcpu, fault, r);
  fault.folio = r;
  fault.pfn = r.pfn;
  fault.map_writable = !(slot.flags & KVM_MEM_READONLY);
  return RET_PF_CONTINUE;
}

/** kvm_mmu_faultin_pfn_gmem(): any kvm_gmem_get_pfn() error becomes a memory-fault exit with that errno. */
function* kvm_mmu_faultin_pfn_gmem(ctx: Ctx, vcpu: KvmVcpu, fault: KvmPageFault): KGen<number> {
  const slot = fault.slot!;
  if (!(slot.flags & KVM_MEM_GUEST_MEMFD)) {
    kvm_mmu_prepare_memory_fault_exit(vcpu, fault);
    return -EFAULT;
  }
  const r = yield* kvm_gmem_get_pfn(ctx, vcpu.kvm, slot, fault.gfn);
  if (typeof r === 'number') {
    kvm_mmu_prepare_memory_fault_exit(vcpu, fault);
    return r;
  }
  fault.folio = r.folio;
  fault.pfn = r.pfn;
  fault.from_gmem = true;
  fault.map_writable = !(slot.flags & KVM_MEM_READONLY);
  return RET_PF_CONTINUE;
}

/** kvm_handle_noslot_fault(): private accesses without a memslot exit to userspace; shared ones are MMIO. */
function kvm_handle_noslot_fault(vcpu: KvmVcpu, fault: KvmPageFault): number {
  if (fault.is_private) {
    kvm_mmu_prepare_memory_fault_exit(vcpu, fault);
    return -EFAULT;
  }
  return RET_PF_EMULATE;
}

/** kvm_handle_error_pfn(): GUP failures on ordinary (non-guest_memfd) memory. */
function* kvm_handle_error_pfn(ctx: Ctx, vcpu: KvmVcpu, fault: KvmPageFault, err: number): KGen<number> {
  if (err === -EINTR || err === -11) {
    vcpu.run.exit_reason = KVM_EXIT_INTR; // kvm_handle_signal_exit()
    return -EINTR;
  }
  if (err === -EHWPOISON) {
    // kvm_send_hwpoison_signal(): SIGBUS to the vCPU thread at the host address, then retry the fault
    const slot = fault.slot!;
    const hva = slot.userspace_addr + (fault.gfn - slot.base_gfn) * PAGE_SIZE;
    yield* send_sig_mceerr(ctx, BUS_MCEERR_AR, hva, PAGE_SHIFT, ctx.task);
    return RET_PF_RETRY;
  }
  return -EFAULT;
}

// ---------------------------------------------------------------------------------------------- map

/** kvm_tdp_mmu_map(): install the leaf SPTE with a cmpxchg, under mmu_lock held for read. */
function* kvm_tdp_mmu_map(ctx: Ctx, vcpu: KvmVcpu, fault: KvmPageFault): KGen<number> {
  const kvm = vcpu.kvm;
  trace_kvm_mmu_spte_requested(ctx, fault.gfn, fault.pfn, 1);
  const as_id = fault.slot?.as_id ?? 0;
  yield* wr(spteKey(kvm, fault.gfn));
  const table = kvm.sptes[as_id];
  const old = table.get(fault.gfn);
  if (old && (!fault.write || old.writable)) return RET_PF_SPURIOUS;
  const spte: Spte = {
    pfn: fault.pfn,
    writable: fault.map_writable,
    private: fault.is_private,
    gmemIno: fault.from_gmem ? (fault.folio!.mapping?.host.ino ?? -1) : -1,
    gmemIndex: fault.from_gmem ? fault.folio!.index : -1,
  };
  table.set(fault.gfn, spte);
  kvm.retry_gen++;
  trace_kvm_tdp_mmu_spte_changed(
    ctx,
    as_id,
    fault.gfn,
    1,
    old ? spteValue(old) : SHADOW_NONPRESENT_VALUE,
    spteValue(spte),
  );
  trace_kvm_mmu_set_spte(ctx, 1, fault.gfn, spteValue(spte), spte.writable);
  return RET_PF_FIXED;
}

// ---------------------------------------------------------------------------------------------- zap

/** tdp_mmu_zap_leafs() over a gfn range; mmu_lock must be held for write. */
function* tdp_mmu_zap_leafs(ctx: Ctx, kvm: Kvm, as_id: number, start: number, end: number): KGen<boolean> {
  lockdep_assert_held_write(ctx, kvm, 'arch/x86/kvm/mmu/tdp_mmu.c:tdp_mmu_zap_leafs');
  yield* wr(spteKey(kvm));
  const table = kvm.sptes[as_id];
  let flush = false;
  const gfns =
    end - start <= table.size ? rangeKeys(start, end, table) : [...table.keys()].filter((g) => g >= start && g < end);
  for (const gfn of gfns.sort((a, b) => a - b)) {
    const old = table.get(gfn);
    if (!old) continue;
    table.delete(gfn);
    kvm.retry_gen++;
    trace_kvm_tdp_mmu_spte_changed(ctx, as_id, gfn, 1, spteValue(old), SHADOW_NONPRESENT_VALUE);
    flush = true;
  }
  return flush;
}

function rangeKeys(start: number, end: number, table: Map<number, Spte>): number[] {
  const out: number[] = [];
  for (let g = start; g < end; g++) if (table.has(g)) out.push(g);
  return out;
}

/** kvm_unmap_gfn_range(): the caller is inside an invalidation or holds slots_lock. */
export function* kvm_unmap_gfn_range(ctx: Ctx, kvm: Kvm, range: KvmGfnRange): KGen<boolean> {
  WARN_ON_ONCE(
    ctx,
    !kvm.mmu_invalidate_in_progress && kvm.slots_lock.owner !== ctx.task.tid,
    'arch/x86/kvm/mmu/mmu.c:kvm_unmap_gfn_range',
    'lockdep_assert_once(kvm->mmu_invalidate_in_progress || lockdep_is_held(&kvm->slots_lock))',
  );
  // kvm_gfn_range_filter_to_root_types(): without mirror roots (everything but TDX) the filter is ignored
  return yield* tdp_mmu_zap_leafs(ctx, kvm, range.slot.as_id, range.start, range.end);
}

/**
 * kvm_arch_flush_shadow_memslot(): a default VM (KVM_X86_QUIRK_SLOT_ZAP_ALL on) zaps everything and makes the
 * roots obsolete; other VM types zap only the slot, without begin/end.
 */
export function* kvm_arch_flush_shadow_memslot(ctx: Ctx, kvm: Kvm, slot: KvmMemorySlot): KGen<void> {
  yield* write_lock(ctx, kvm.mmu_lock);
  if (kvm.type === KVM_X86_DEFAULT_VM) {
    // kvm_mmu_zap_all_fast()
    yield* wr(invalKey(kvm));
    kvm.mmu_valid_gen = kvm.mmu_valid_gen ? 0 : 1;
    kvm.retry_gen++;
    for (let as_id = 0; as_id < kvm.sptes.length; as_id++)
      yield* tdp_mmu_zap_leafs(ctx, kvm, as_id, 0, Number.MAX_SAFE_INTEGER);
  } else {
    // kvm_mmu_zap_memslot()
    yield* kvm_unmap_gfn_range(ctx, kvm, {
      slot,
      start: slot.base_gfn,
      end: slot.base_gfn + slot.npages,
      may_block: true,
    });
  }
  // kvm_zap_obsolete_pages() / kvm_mmu_zap_memslot(): the zap is flushed before mmu_lock is dropped
  yield* kvm_flush_remote_tlbs(ctx, kvm);
  yield* write_unlock(ctx, kvm.mmu_lock);
}

/** kvm_arch_pre_set_memory_attributes(): zap the mappings that become incompatible (4 KiB only: no MIXED tracking). */
export function* kvm_arch_pre_set_memory_attributes(
  ctx: Ctx,
  kvm: Kvm,
  range: KvmGfnRange,
  _attrs: number,
): KGen<boolean> {
  if (
    WARN_ON_ONCE(
      ctx,
      !kvm.has_private_mem,
      'arch/x86/kvm/mmu/mmu.c:kvm_arch_pre_set_memory_attributes',
      '!kvm_arch_has_private_mem(kvm)',
    )
  ) {
    return false;
  }
  if (
    WARN_ON_ONCE(
      ctx,
      range.end <= range.start,
      'arch/x86/kvm/mmu/mmu.c:kvm_arch_pre_set_memory_attributes',
      'range->end <= range->start',
    )
  ) {
    return false;
  }
  return yield* kvm_unmap_gfn_range(ctx, kvm, range);
}

/** kvm_arch_post_set_memory_attributes(): only hugepage MIXED tracking, which 4 KiB-only mappings do not need. */
export function kvm_arch_post_set_memory_attributes(_kvm: Kvm, _range: KvmGfnRange): boolean {
  return false;
}

/** kvm_arch_prepare_memory_region(): the new slot must end below the maximum gfn. */
export function kvm_arch_prepare_memory_region(next: KvmMemorySlot | null, change: string): number {
  if ((change === 'CREATE' || change === 'MOVE') && next && next.base_gfn + next.npages - 1 > kvm_mmu_max_gfn())
    return -EINVAL;
  return 0;
}
