/*
 * memory_failure(pfn, flags) (src/kernel/mm/memory-failure.ts) with the selected kvm_gmem_error_folio() variant
 * (src/kernel/kvm/guest_memfd.ts), from its first point, `mutex_lock(&mf_mutex)` (a caller that jumps there puts its
 * own label before the inline's invocation).
 *
 * Included once per calling process, with:
 *   MF_NAME  the inline's name
 *   MF_AR    1 for MF_ACTION_REQUIRED (the vCPU's #MC via kill_me_maybe()), 0 for a reported error
 *   MF_CONT  code run, in the same transition, after mutex_unlock(&mf_mutex): what the caller does next
 *   MF(x)    a label prefix unique to the caller
 * The caller declares: byte P (the pfn's folio), byte mret (R_OK, R_EHWPOISON, R_EBUSY), bit herr, bit flushed,
 * bit plru (PG_lru in the page_flags snapshot).
 */

inline MF_NAME() {
  atomic { STEPG(mf_mutex == 0, "acq mf_mutex"); mf_mutex = ME; goto MF(tsph) };

  /* TestSetPageHWPoison() */
MF(tsph):
  atomic {
    STEPF("w folio", P);
    if
    :: (!f_freed[P] && f_hwp[P]) || (f_freed[P] && offlined[P]) ->
       mret = R_EHWPOISON;
#if MF_AR
       goto MF(kap)
#else
       goto MF(stats)          /* action_result(ALREADY_POISONED) */
#endif
    :: f_freed[P] && !offlined[P] ->
       offlined[P] = 1; mret = R_OK;    /* a free buddy page: taken off the free lists, Recovered */
       goto MF(stats)
    :: !f_freed[P] && !f_hwp[P] ->
       f_hwp[P] = 1;                                     /* PG_hwpoison only: the cells are the error's business */
       if
       :: !f_lru[P] -> mret = R_EBUSY; goto MF(stats)    /* get_hwpoison_page(): unhandlable */
       :: else -> goto MF(get)
       fi
    fi
  };

#if MF_AR
  /* kill_accessing_process(): no PTE of the VMM maps a guest_memfd page here, so nobody is signalled; res = 0 */
MF(kap):
  atomic { STEP("acqS mmap") };
  atomic { STEP("r pte") };
  atomic { STEP("rel mmap"); mret = R_OK; goto MF(stats) };
#endif

MF(get):
  atomic { STEPF("r ref", P); f_ref[P]++ };                    /* memory_failure's reference, kept */
  /* hwpoison_filter() under the folio lock, then shake_folio() and the lock held by the page action */
  atomic { STEPGF(f_lock[P] == 0, "acq folio", P); f_lock[P] = ME };
  atomic { STEPF("rel folio", P); f_lock[P] = 0 };
  atomic {
    STEPGF(f_lock[P] == 0, "acq folio", P); f_lock[P] = ME;
    plru = f_lru[P];                                              /* page_flags */
    if :: f_lru[P] -> goto MF(hum) :: else -> goto MF(trchk) fi
  };
  /* hwpoison_user_mappings(): PG_lru, no host mappings (mapcount 0): nothing to unmap */
MF(hum):
  atomic { STEPF("r folio", P) };
  /* an LRU page cache folio that left its mapping: already truncated */
MF(trchk):
  atomic {
    STEPF("r folio", P);
    if :: f_lru[P] && pc1 != P -> mret = R_EBUSY; goto MF(tl_stats) :: else -> goto MF(ips) fi
  };
MF(tl_stats):
  atomic { STEP("w mf") };
  atomic { STEPF("rel folio", P); f_lock[P] = 0; goto MF(mrel) };

  /* identify_page_state(): (dirty|clean) unevictable LRU -> me_pagecache_{dirty,clean} -> delete_from_lru_cache() */
MF(ips):
  atomic {
    STEPF("r folio", P);
    if :: !f_lru[P] && !plru -> mret = R_EBUSY; goto MF(unlock) :: else fi   /* no row matches: me_unknown() */
  };
  atomic { STEPF("w folio", P); f_lru[P] = 0 };
  atomic {
    STEPF("r folio", P);       /* folio->mapping */
    if :: pc1 == P -> goto MF(handler) :: else -> mret = R_EBUSY; goto MF(unlock) fi
  };

  /* truncate_error_folio() -> error_remove_folio() -> kvm_gmem_error_folio(); herr: its result is not 0 */
MF(handler):
#if HANDLER == H_MAINLINE
  /* zap every SPTE of the folio between invalidate begin and end, under the shared invalidate_lock; MF_DELAYED */
  atomic { STEPG(inv_w == 0, "acqS inv"); inv_r++ };
  atomic { STEP("r bindings") };                                  /* __kvm_gmem_invalidate_begin: bound */
  atomic { STEPG(MMU_FREE, "acq mmu"); mmu_w = ME };             /* KVM_MMU_LOCK */
  atomic { STEP("w inval"); invalidate_begin() };
  atomic { STEP("w inval"); invalidate_range_add() };             /* kvm_mmu_unmap_gfn_range() */
  atomic { STEP("w spte"); zap_spte(); if :: flushed -> skip :: else -> goto MF(zdone) fi };
  atomic { STEPG(TLB_IDLE, "WAIT tlb") };
MF(zdone):
  atomic { STEP("rel mmu"); mmu_w = 0 };
  atomic { STEP("r bindings") };                                  /* __kvm_gmem_invalidate_end */
  atomic { STEPG(MMU_FREE, "acq mmu"); mmu_w = ME };
  atomic { STEP("w inval"); invalidate_end() };
  atomic { STEP("rel mmu"); mmu_w = 0 };
  atomic { STEP("rel inv"); inv_r--; error_handled(P); herr = 1; goto MF(herc) };
#elif HANDLER == H_ORIGINAL
  /* guest_memfd v11/v12-pre: a SIGBUS per gfn, looping over file indices as if they were gfns: index 1 is not
   * in the slot's gfn range, so it WARNs and signals nobody; no zap; returns 0 */
  atomic { STEPG(inv_w == 0, "acqS inv"); inv_r++ };
  atomic { STEP("r bindings"); WARN };
  atomic { STEP("rel inv"); inv_r--; error_handled(P); herr = 0; goto MF(herc) };
#elif HANDLER == H_RFC
  /* RFC v1: begin under mmu_lock, then the slot loop with mmu_lock dropped; the index-vs-gfn range check WARNs
   * and skips the unmap (no range_add, no zap); end WARNs on the unset range; MF_DELAYED */
  atomic { STEPG(inv_w == 0, "acqS inv"); inv_r++ };
  atomic { STEPG(MMU_FREE, "acq mmu"); mmu_w = ME };
  atomic { STEP("w inval"); invalidate_begin() };
  atomic { STEP("rel mmu"); mmu_w = 0 };
  atomic { STEP("r bindings"); WARN };
  atomic { STEPG(MMU_FREE, "acq mmu"); mmu_w = ME };
  atomic { STEP("w inval"); invalidate_end() };
  atomic { STEP("rel mmu"); mmu_w = 0 };
  atomic { STEP("rel inv"); inv_r--; error_handled(P); herr = 1; goto MF(herc) };
#elif HANDLER == H_TRUNCATE
  /* zap as mainline, then truncate_inode_folio() inside the invalidation; returns its result */
  atomic { STEPG(inv_w == 0, "acqS inv"); inv_r++ };
  atomic { STEP("r bindings") };
  atomic { STEPG(MMU_FREE, "acq mmu"); mmu_w = ME };
  atomic { STEP("w inval"); invalidate_begin() };
  atomic { STEP("w inval"); invalidate_range_add() };
  atomic { STEP("w spte"); zap_spte(); if :: flushed -> skip :: else -> goto MF(tzdone) fi };
  atomic { STEPG(TLB_IDLE, "WAIT tlb") };
MF(tzdone):
  atomic { STEP("rel mmu"); mmu_w = 0 };
  atomic {
    STEPF("r folio", P);
    if :: pc1 == P -> herr = 0 :: else -> herr = 1; goto MF(t_end) fi   /* -EIO: it left the mapping */
  };
  atomic { STEPF("w folio", P); f_dirty[P] = 0 };                 /* truncate_cleanup_folio() */
  atomic { STEP("w pagecache"); filemap_remove_folio(P) };
  atomic { STEPF("w ref", P); folio_put(P) };                  /* the page cache's reference */
MF(t_end):
  atomic { STEP("r bindings") };
  atomic { STEPG(MMU_FREE, "acq mmu"); mmu_w = ME };
  atomic { STEP("w inval"); invalidate_end() };
  atomic { STEP("rel mmu"); mmu_w = 0 };
  atomic { STEP("rel inv"); inv_r--; error_handled(P); goto MF(herc) };
#endif

  /* mainline mm: anything but 0 from the handler is "Failed to punch"; has_extra_refcount() beyond our own */
MF(herc):
  atomic {
    STEPF("w ref", P);                                            /* reads the count, ordered against gets and puts */
    if :: herr == 0 && f_ref[P] == 1 -> mret = R_OK :: else -> mret = R_EBUSY fi
  };
MF(unlock):
  atomic { STEPF("rel folio", P); f_lock[P] = 0 };
MF(stats):
  atomic { STEP("w mf") };                                        /* action_result() */
MF(mrel):
  atomic { STEP("rel mf_mutex"); mf_mutex = 0; MF_CONT }
}
