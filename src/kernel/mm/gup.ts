// get_user_pages() for one page (mm/gup.c): look up the PTE, faulting the page in if needed, and return the
// folio with a reference.
import { down_read, up_read } from '../core/locking.js';
import { type Ctx, type KGen, rd } from '../core/sched.js';
import { EFAULT, EHWPOISON, ENOMEM } from '../uapi/errno.js';
import { find_vma, handle_mm_fault, pteKey, VM_FAULT_HWPOISON, VM_FAULT_OOM } from './memory.js';
import type { Folio, Mm } from './mm_types.js';
import { PAGE_SIZE, PG_referenced, VM_WRITE } from './mm_types.js';
import { folio_get } from './page_alloc.js';

export interface GupFlags {
  readonly write: boolean;
  /** FOLL_HWPOISON: report poison as -EHWPOISON instead of -EFAULT */
  readonly hwpoison: boolean;
}

/** get_user_pages_unlocked(addr, 1, ...): the folio mapped at addr with a reference, or -errno. */
export function* get_user_page(ctx: Ctx, mm: Mm, addr: number, flags: GupFlags): KGen<Folio | number> {
  yield* down_read(ctx, mm.mmap_lock);
  try {
    const vpn = Math.floor(addr / PAGE_SIZE);
    for (let attempt = 0; attempt < 3; attempt++) {
      const vma = find_vma(mm, addr);
      if (!vma) return -EFAULT;
      if (flags.write && !(vma.vm_flags & VM_WRITE)) return -EFAULT;
      yield* rd(pteKey(mm, vpn));
      const pte = mm.pt.get(vpn);
      if (pte?.kind === 'present' && (!flags.write || pte.writable)) {
        yield* folio_get(pte.folio);
        // gup_fast_pte_range(): folio_set_referenced() (the slow path's FOLL_TOUCH marks it accessed too)
        pte.folio.flags |= PG_referenced;
        if (flags.write) pte.dirty = true;
        return pte.folio;
      }
      if (pte?.kind === 'hwpoison') return flags.hwpoison ? -EHWPOISON : -EFAULT;
      const r = yield* handle_mm_fault(ctx, vma, addr, flags.write);
      if (r & VM_FAULT_OOM) return -ENOMEM;
      if (r & VM_FAULT_HWPOISON) return flags.hwpoison ? -EHWPOISON : -EFAULT;
      if (r) return -EFAULT;
    }
    return -EFAULT;
  } finally {
    yield* up_read(ctx, mm.mmap_lock);
  }
}
