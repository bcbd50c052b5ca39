// Host page tables and page faults (mm/memory.c, arch/x86/mm/fault.c), plus the unmapping helpers truncation,
// munmap and memory failure use.
import { pr_err } from '../core/printk.js';
import { type Ctx, type KGen, rd, wr } from '../core/sched.js';
import { force_sig_fault, force_sig_mceerr } from '../task/signal.js';
import { BUS_ADRERR, BUS_MCEERR_AR } from '../uapi/signal.js';
import { folio_unlock, folioKey } from './filemap.js';
import {
  type Folio,
  type Mm,
  PAGE_SHIFT,
  PAGE_SIZE,
  PG_dirty,
  PG_hwpoison,
  PG_lru,
  PG_swapbacked,
  VM_SHARED,
  VM_WRITE,
  type Vma,
} from './mm_types.js';
import { mmu_notifier_invalidate_range_end, mmu_notifier_invalidate_range_start } from './mmu_notifier.js';
import { folio_alloc, folio_put } from './page_alloc.js';
import { vma_fault } from './vma_ops.js';

// vm_fault_t bits (include/linux/mm_types.h)
export const VM_FAULT_OOM = 0x000001;
export const VM_FAULT_SIGBUS = 0x000002;
export const VM_FAULT_HWPOISON = 0x000010;
export const VM_FAULT_NOPAGE = 0x000100;
export const VM_FAULT_LOCKED = 0x000200;
export const VM_FAULT_RETRY = 0x000400;
export const VM_FAULT_ERROR = VM_FAULT_OOM | VM_FAULT_SIGBUS | VM_FAULT_HWPOISON;

export const pteKey = (mm: Mm, vpn: number) => `pte:${mm.id}:${vpn}`;
export const ptKey = (mm: Mm) => `pte:${mm.id}`;

export function find_vma(mm: Mm, addr: number): Vma | undefined {
  for (const v of mm.vmas) if (addr >= v.vm_start && addr < v.vm_end) return v;
  return undefined;
}

/** The file page index that addr maps in vma. */
export function linear_page_index(vma: Vma, addr: number): number {
  return vma.vm_pgoff + ((addr - vma.vm_start) >>> 0) / PAGE_SIZE;
}

function installPte(mm: Mm, vpn: number, folio: Folio, writable: boolean, dirty: boolean): void {
  folio.mapcount++;
  mm.pt.set(vpn, { kind: 'present', folio, writable, dirty });
}

/**
 * handle_mm_fault() for one page: returns 0 or VM_FAULT_* error bits. The new PTE holds the fault's folio
 * reference, as finish_fault() leaves it.
 */
export function* handle_mm_fault(ctx: Ctx, vma: Vma, addr: number, write: boolean): KGen<number> {
  const mm = vma.mm;
  const vpn = Math.floor(addr / PAGE_SIZE);
  yield* wr(pteKey(mm, vpn));
  const pte = mm.pt.get(vpn);
  if (pte?.kind === 'hwpoison') return VM_FAULT_HWPOISON; // do_swap_page(): softleaf_is_hwpoison()
  if (pte?.kind === 'present') {
    if (write && !pte.writable) {
      if (!(vma.vm_flags & VM_WRITE)) return VM_FAULT_SIGBUS;
      pte.writable = true;
    }
    if (write) pte.dirty = true;
    return 0;
  }
  if (!vma.vm_file) {
    // do_anonymous_page(): a zeroed private folio
    const folio = folio_alloc(ctx.k);
    folio.anon = true;
    folio.index = vpn;
    folio.flags |= PG_lru | PG_swapbacked | PG_dirty;
    folio.anonMm = mm.id;
    yield* wr(pteKey(mm, vpn));
    installPte(mm, vpn, folio, write || (vma.vm_flags & VM_WRITE) !== 0, write);
    return 0;
  }
  // __do_fault(): ask the file for its page
  const index = linear_page_index(vma, addr);
  const r = yield* vma_fault(ctx, vma, index);
  if (typeof r === 'number') return r;
  const folio = r; // locked, with a reference
  yield* rd(folioKey(folio));
  if (folio.flags & PG_hwpoison) {
    // mm/memory.c __do_fault(): a poisoned page is never mapped; try to evict it (fails while others hold it)
    if (folio.mapcount > 0) yield* unmap_mapping_folio(ctx, folio);
    yield* folio_unlock(ctx, folio);
    yield* folio_put(ctx, folio);
    return VM_FAULT_HWPOISON;
  }
  yield* wr(pteKey(mm, vpn));
  if (mm.pt.has(vpn)) {
    // raced with another fault on the same PTE
    yield* folio_unlock(ctx, folio);
    yield* folio_put(ctx, folio);
    return 0;
  }
  const shared = (vma.vm_flags & VM_SHARED) !== 0;
  installPte(mm, vpn, folio, shared ? (vma.vm_flags & VM_WRITE) !== 0 : write, write);
  yield* folio_unlock(ctx, folio);
  return 0;
}

/** Clears one PTE; a present one gives back its mapcount and reference and passes its dirty bit to the folio. */
function* zap_one(ctx: Ctx, mm: Mm, vpn: number, zapHwpoison: boolean): KGen<void> {
  yield* wr(pteKey(mm, vpn));
  const pte = mm.pt.get(vpn);
  if (!pte) return;
  if (pte.kind === 'hwpoison') {
    // zap_nonpresent_ptes(): hwpoison entries go only when should_zap_cows() (munmap, MADV_DONTNEED)
    if (zapHwpoison) mm.pt.delete(vpn);
    return;
  }
  mm.pt.delete(vpn);
  yield* wr(folioKey(pte.folio));
  if (pte.dirty) pte.folio.flags |= PG_dirty;
  pte.folio.mapcount--;
  yield* folio_put(ctx, pte.folio);
}

/**
 * zap_page_range_single()/unmap_vmas() over [start, end) of a VMA, with the MMU notifiers around it (KVM zaps
 * its SPTEs for the range). `zapHwpoison` follows should_zap_cows(): true for munmap and MADV_DONTNEED.
 */
export function* zap_vma_range(ctx: Ctx, vma: Vma, start: number, end: number, zapHwpoison: boolean): KGen<void> {
  const mm = vma.mm;
  yield* mmu_notifier_invalidate_range_start(ctx, mm, start, end);
  for (let a = start; a < end; a += PAGE_SIZE) yield* zap_one(ctx, mm, Math.floor(a / PAGE_SIZE), zapHwpoison);
  yield* mmu_notifier_invalidate_range_end(ctx, mm, start, end);
}

/** Every (vma, address) where a file folio's index is mapped, via the file's i_mmap tree. */
export function vmas_mapping_index(folio: Folio): Array<{ vma: Vma; addr: number }> {
  const out: Array<{ vma: Vma; addr: number }> = [];
  const m = folio.mapping;
  if (!m) return out;
  for (const vma of m.i_mmap) {
    const off = folio.index - vma.vm_pgoff;
    const addr = vma.vm_start + off * PAGE_SIZE;
    if (off >= 0 && addr < vma.vm_end) out.push({ vma, addr });
  }
  return out;
}

/**
 * unmap_mapping_folio(): remove every host PTE that maps this file folio (details.skip_cows = true, so
 * hwpoison entries stay, mm/memory.c).
 */
export function* unmap_mapping_folio(ctx: Ctx, folio: Folio): KGen<void> {
  for (const { vma, addr } of vmas_mapping_index(folio)) {
    const vpn = addr / PAGE_SIZE;
    yield* rd(pteKey(vma.mm, vpn));
    const pte = vma.mm.pt.get(vpn);
    if (pte?.kind !== 'present' || pte.folio !== folio) continue;
    yield* mmu_notifier_invalidate_range_start(ctx, vma.mm, addr, addr + PAGE_SIZE);
    yield* zap_one(ctx, vma.mm, vpn, false);
    yield* mmu_notifier_invalidate_range_end(ctx, vma.mm, addr, addr + PAGE_SIZE);
  }
}

/**
 * do_user_addr_fault() → mm_fault_error() → do_sigbus() (arch/x86/mm/fault.c): turn a failed user fault into
 * the signal the task gets.
 */
export function* do_sigbus(ctx: Ctx, addr: number, fault: number): KGen<void> {
  if (fault & VM_FAULT_HWPOISON) {
    pr_err(
      ctx,
      `MCE: Killing ${ctx.task.comm}:${ctx.task.tid} due to hardware memory corruption fault at ${addr.toString(16)}`,
    );
    yield* force_sig_mceerr(ctx, BUS_MCEERR_AR, addr, PAGE_SHIFT);
    return;
  }
  yield* force_sig_fault(ctx, BUS_ADRERR, addr);
}
