/*
 * The VMM thread's step: fallocate(gmem, KEEP_SIZE | PUNCH_HOLE, 0x1000, 0x1000)
 * (sys_fallocate -> kvm_gmem_fallocate -> kvm_gmem_punch_hole, src/kernel/kvm/guest_memfd.ts; truncation of one
 * page, src/kernel/mm/truncate.ts). The including proctype declares PUNCH_LOCALS.
 */

#define PUNCH_LOCALS byte b; byte h; bit flushed   /* the pass-1/pass-2 batch folio, the edge folio; `flush` */

/* audit_punched(): the punched page's memory error is over, its data gone */
#define PUNCHED poisoned_idx = 0

inline kvm_fallocate_punch() {
  atomic { STEP("w thread") };
  atomic { STEP("r fdtable") };                               /* fdget; vfs_fallocate's checks */
  atomic { STEPG(INV_FREE, "acq inv"); inv_w = ME };         /* filemap_invalidate_lock */
  /* kvm_gmem_invalidate_begin() */
  atomic { STEP("r bindings") };
  atomic { STEPG(MMU_FREE, "acq mmu"); mmu_w = ME };
  atomic { STEP("w inval"); invalidate_begin() };
  atomic { STEP("w inval"); invalidate_range_add() };
  atomic { STEP("w spte"); zap_spte(); if :: flushed -> skip :: else -> goto p_zdone fi };
  atomic { STEPG(TLB_IDLE, "WAIT tlb") };                    /* kvm_flush_remote_tlbs() */
p_zdone:
  atomic { STEP("rel mmu"); mmu_w = 0 };

  /* truncate_inode_pages_range(mapping, 0x1000, 0x1fff); folio_get()/folio_put() are steps of their own */
  atomic { STEP("r pagecache"); if :: NRPAGES == 0 -> PUNCHED; goto p_end :: else fi };
  /* pass 1: find_lock_entries() takes what it can trylock */
  atomic { STEP("r pagecache"); b = pc1; if :: b == 0 -> goto p_head :: else fi };
  atomic { STEPF("r ref", b); f_ref[b]++ };                   /* folio_get() */
  atomic {
    STEPF("w folio", b);                                        /* folio_trylock() */
    if :: f_lock[b] == 0 -> f_lock[b] = ME :: else -> goto p1_put fi
  };
  atomic { STEPF("r folio", b); if :: pc1 == b -> skip :: else -> goto p1_unlock fi };
  atomic { STEPF("w folio", b); f_dirty[b] = 0 };              /* truncate_cleanup_folio() */
  atomic { STEP("w pagecache"); filemap_remove_folio(b) };
  atomic { STEPF("w ref", b); folio_put(b) };                 /* the page cache's reference */
p1_unlock:
  atomic { STEPF("rel folio", b); f_lock[b] = 0 };
p1_put:
  atomic { STEPF("w ref", b); folio_put(b) };

  /* the edge folio at lstart: __filemap_get_folio(FGP_LOCK) waits for its lock (lend is in the same folio) */
p_head:
  atomic { STEP("r pagecache"); h = pc1; if :: h == 0 -> goto p_pass2 :: else fi };
  atomic { STEPF("r ref", h); f_ref[h]++ };
  atomic { STEPGF(f_lock[h] == 0, "acq folio", h); f_lock[h] = ME };
  atomic { STEP("r pagecache"); if :: pc1 == h -> skip :: else -> goto p_head_again fi };
  /* truncate_inode_partial_folio() over the whole folio: truncate_inode_folio() */
  atomic { STEPF("r folio", h); if :: pc1 == h -> skip :: else -> goto p_head_unlock fi };
  atomic { STEPF("w folio", h); f_dirty[h] = 0 };
  atomic { STEP("w pagecache"); filemap_remove_folio(h) };
  atomic { STEPF("w ref", h); folio_put(h) };
p_head_unlock:
  atomic { STEPF("rel folio", h); f_lock[h] = 0 };
  atomic { STEPF("w ref", h); folio_put(h); goto p_pass2 };
p_head_again:
  atomic { STEPF("rel folio", h); f_lock[h] = 0 };
  atomic { STEPF("w ref", h); folio_put(h); goto p_head };

  /* pass 2: lock, blocking, every folio still in range, until a sweep finds none */
p_pass2:
  atomic { STEP("r pagecache"); b = pc1; if :: b == 0 -> PUNCHED; goto p_end :: else fi };
  atomic { STEPF("r ref", b); f_ref[b]++ };
  atomic { STEPGF(f_lock[b] == 0, "acq folio", b); f_lock[b] = ME };
  atomic { STEPF("r folio", b); if :: pc1 == b -> skip :: else -> goto p2_unlock fi };
  atomic { STEPF("w folio", b); f_dirty[b] = 0 };
  atomic { STEP("w pagecache"); filemap_remove_folio(b) };
  atomic { STEPF("w ref", b); folio_put(b) };
p2_unlock:
  atomic { STEPF("rel folio", b); f_lock[b] = 0 };
  atomic { STEPF("w ref", b); folio_put(b); goto p_pass2 };

  /* kvm_gmem_invalidate_end() */
p_end:
  atomic { STEP("r bindings") };
  atomic { STEPG(MMU_FREE, "acq mmu"); mmu_w = ME };
  atomic { STEP("w inval"); invalidate_end() };
  atomic { STEP("rel mmu"); mmu_w = 0 };
  atomic { STEP("rel inv"); inv_w = 0; ndone++ }
}
