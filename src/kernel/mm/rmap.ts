// Reverse mapping (mm/rmap.c): try_to_unmap() with TTU_HWPOISON replaces each PTE of a poisoned folio with a
// hwpoison entry, so a later access faults with VM_FAULT_HWPOISON.
import { type Ctx, type KGen, rd, wr } from '../core/sched.js';
import { folioKey } from './filemap.js';
import { pteKey, vmas_mapping_index } from './memory.js';
import type { Folio, Mm } from './mm_types.js';
import { PAGE_SIZE, PG_dirty, PG_hwpoison } from './mm_types.js';
import { mmu_notifier_invalidate_range_end, mmu_notifier_invalidate_range_start } from './mmu_notifier.js';
import { folio_put } from './page_alloc.js';

/** Every (mm, vpn) whose PTE maps the folio. */
function* mappings_of(ctx: Ctx, folio: Folio): KGen<Array<{ mm: Mm; vpn: number }>> {
  const out: Array<{ mm: Mm; vpn: number }> = [];
  if (folio.anon) {
    const proc = ctx.k.procs.find((p) => p.mm.id === folio.anonMm);
    if (proc) {
      yield* rd(`pte:${proc.mm.id}`);
      for (const [vpn, pte] of proc.mm.pt)
        if (pte.kind === 'present' && pte.folio === folio) out.push({ mm: proc.mm, vpn });
    }
    return out;
  }
  for (const { vma, addr } of vmas_mapping_index(folio)) {
    const vpn = addr / PAGE_SIZE;
    yield* rd(pteKey(vma.mm, vpn));
    const pte = vma.mm.pt.get(vpn);
    if (pte?.kind === 'present' && pte.folio === folio) out.push({ mm: vma.mm, vpn });
  }
  return out;
}

/** try_to_unmap(folio, TTU_IGNORE_MLOCK | TTU_SYNC | TTU_HWPOISON); returns true if no mapping remains. */
export function* try_to_unmap_hwpoison(ctx: Ctx, folio: Folio): KGen<boolean> {
  for (const { mm, vpn } of yield* mappings_of(ctx, folio)) {
    const addr = vpn * PAGE_SIZE;
    yield* mmu_notifier_invalidate_range_start(ctx, mm, addr, addr + PAGE_SIZE);
    // try_to_unmap_one(): ptep_clear_flush() and the hwpoison entry under the PTE lock, then the folio's side
    yield* wr(pteKey(mm, vpn));
    const pte = mm.pt.get(vpn);
    if (pte?.kind === 'present' && pte.folio === folio) {
      // PG_hwpoison is stable here: memory_failure() set it before unmapping, under the folio lock
      if (folio.flags & PG_hwpoison) mm.pt.set(vpn, { kind: 'hwpoison', pfn: folio.pfn });
      else mm.pt.delete(vpn);
      yield* wr(folioKey(folio));
      if (pte.dirty) folio.flags |= PG_dirty; // PTE dirt moves to the folio
      folio.mapcount--;
      yield* folio_put(ctx, folio);
    }
    yield* mmu_notifier_invalidate_range_end(ctx, mm, addr, addr + PAGE_SIZE);
  }
  return folio.mapcount === 0;
}
