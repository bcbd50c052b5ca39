/*
 * The vCPU thread's step: KVM_RUN with the guest program [{read: the gpa of index 1's gfn}]
 * (kvm_vcpu_ioctl_run -> vcpu_run -> vcpu_enter_guest -> run_guest / kvm_mmu_page_fault, src/kernel/x86/x86.ts and
 * src/kernel/x86/mmu.ts; kvm_gmem_get_pfn, src/kernel/kvm/guest_memfd.ts). A poisoned frame consumed through a
 * live SPTE raises #MC: do_machine_check() then kill_me_maybe() -> memory_failure(pfn, MF_ACTION_REQUIRED).
 *
 * The including proctype declares the locals listed in VCPU_LOCALS.
 */

#define VCPU_LOCALS \
  byte gen; byte lastGen; byte repeats; bit looped; /* vcpu_run(): retry_gen snapshots and the livelock bound */ \
  byte gf;         /* the folio the guest access reached through the SPTE */ \
  byte mmu_seq;    /* fault->mmu_seq */ \
  byte cf;         /* the folio filemap_lock_folio() looks at */ \
  byte ff;         /* fault->folio */ \
  bit creating;    /* in filemap_get_or_create_folio() (after the plain lookup missed) */ \
  bit stale;       /* RET_PF_RETRY from under mmu_lock */ \
  byte P; byte mret; bit herr; bit flushed; bit plru /* memory_failure() */

/* vcpu_run() after vcpu_enter_guest() returned > 0 with no signal pending: the model's livelock bound (the same
 * access exiting GUEST_REPEAT_LIMIT times with retry_gen unchanged), then the next entry into the guest. */
inline vcpu_next_entry() {
  if
  :: looped && retry_gen == lastGen ->
     repeats++;
     if :: repeats >= 3 -> LIVELOCK; goto v_srcu_unlock :: else fi   /* KVM_EXIT_INTR, -EINTR */
  :: else -> repeats = 0; looped = 1; lastGen = retry_gen
  fi;
  gen = retry_gen;
  goto v_rspte
}

/* kill_me_maybe() after memory_failure(): 0 and -EHWPOISON let the guest retry, anything else is SIGBUS */
inline vcpu_after_mf() {
  if
  :: mret == R_EBUSY -> goto v_signal
  :: else -> vcpu_next_entry()
  fi
}

#define MF_NAME vcpu_memory_failure
#define MF_AR 1
#define MF_CONT vcpu_after_mf()
#define MF(x) vmf_##x
#include "memory_failure.pml"
#undef MF_NAME
#undef MF_AR
#undef MF_CONT
#undef MF

inline vcpu_kvm_run() {
  atomic { STEP("w thread") };                 /* the scenario step begins */
  atomic { STEP("r fdtable") };                /* fdget(vcpu fd) */
  atomic { STEP("acq vmutex") };               /* mutex_lock(&vcpu->mutex): only this thread takes it */
  atomic { STEP("r srcu"); looped = 0; repeats = 0; gen = retry_gen };   /* srcu_read_lock, vcpu_run() */

  /* run_guest(): walk the SPTE */
v_rspte:
  atomic {
    STEP("r spte");
    if
    :: spte != 0 -> gf = spte; inflight = ME; goto v_rdata              /* translated: in flight */     /* a use after free is GMEM4003 */
    :: else -> goto v_memslots                                        /* nested page fault */
    fi
  };
v_rdata:
  atomic {
    STEPF("r data", gf);
    inflight = 0;
    PROP(GMEM4003, !f_freed[gf]);                                     /* use after free */
    if
    :: f_corrupt[gf] -> goto v_task                                   /* #MC */
    :: else -> PROP(GMEM4002, !poisoned_idx); goto v_srcu_unlock              /* read done, HLT: GMEM4002 */
    fi
  };
v_task:
  atomic { STEP("w task"); P = gf; goto v_mce };                      /* do_machine_check(), then task work */
v_mce:
  vcpu_memory_failure();
v_signal:
  atomic { STEP("w signal"); goto v_srcu_unlock };                    /* force_sig(SIGBUS): KVM_EXIT_INTR */

  /* kvm_mmu_page_fault() -> kvm_tdp_mmu_page_fault() -> kvm_mmu_faultin_pfn() */
v_memslots:
  atomic { STEP("r memslots") };
  atomic { STEP("r attrs") };                                         /* private per the attribute */
  atomic { STEP("r inval"); mmu_seq = seq };                          /* fault->mmu_seq */
  atomic { STEP("r attrs") };                                         /* still private */
  atomic { STEP("r inval"); if :: RETRY_UNSAFE -> goto v_wait :: else fi };
  /* kvm_gmem_get_pfn() */
  atomic { STEP("r slot") };                                          /* kvm_gmem_get_file() */
  atomic { STEP("r file") };                                          /* get_file_active() */
  atomic { STEP("r slot") };                                          /* __kvm_gmem_get_pfn(): slot file */
  atomic { STEP("r bindings"); creating = 0 };                        /* bound; kvm_gmem_get_folio() */

  /* filemap_lock_folio(), then filemap_get_or_create_folio() when it missed */
v_lookup:
  atomic {
    STEP("r pagecache");
    cf = pc1;
    if
    :: cf != 0 -> goto v_get
    :: cf == 0 && !creating -> creating = 1; goto v_lookup
    :: cf == 0 && creating ->
       assert(nextf < NF);
       cf = nextf; nextf++;
       f_ref[cf] = 1; f_lock[cf] = ME;                                /* folio_alloc(), __folio_set_locked() */
       goto v_insert
    fi
  };
v_get:
  atomic { STEPF("r ref", cf); f_ref[cf]++ };                      /* folio_get() */
  atomic { STEPGF(f_lock[cf] == 0, "acq folio", cf); f_lock[cf] = ME };
  atomic {
    STEP("r pagecache");
    if :: pc1 == cf -> ff = cf; goto v_rfolio :: else fi              /* still in the mapping? */
  };
  atomic { STEPF("rel folio", cf); f_lock[cf] = 0 };
v_put_again:
  atomic { STEPF("w ref", cf); folio_put(cf); goto v_lookup };
v_insert:
  atomic {
    STEP("w pagecache");
    if
    :: pc1 != 0 -> f_lock[cf] = 0; goto v_put_again                   /* lost the race */
    :: else ->
       pc1 = cf; f_ref[cf]++; f_lru[cf] = 1;                          /* cache reference, unevictable LRU */
       CHECK_STATE;
       ff = cf; goto v_rfolio
    fi
  };

  /* __kvm_gmem_get_pfn() with the folio locked */
v_rfolio:
  atomic { STEPF("r folio", ff); if :: f_hwp[ff] -> goto v_hwp :: else fi };
  atomic { STEPF("w folio", ff); f_uptodate[ff] = 1 };
  atomic { STEPF("rel folio", ff); f_lock[ff] = 0 };
  atomic { STEP("r file") };                                          /* fput() */
  atomic {
    STEP("r inval");                                                  /* retry_gfn_unsafe again */
    if :: RETRY_UNSAFE -> goto v_retry_put :: else fi                 /* kvm_mmu_finish_page_fault(RETRY) */
  };
  atomic { STEPG(mmu_w == 0, "acqS mmu"); mmu_r++ };                 /* read_lock(&kvm->mmu_lock) */
  atomic {
    STEP("r inval");                                                  /* is_page_fault_stale() */
    if :: in_progress > 0 && !range_set -> WARN :: else fi;
    if :: RETRY_LOCKED -> stale = 1; goto v_fault_put :: else -> stale = 0 fi
  };
  atomic {
    STEP("w spte");                                                   /* kvm_tdp_mmu_map() */
    if :: spte == 0 -> spte = ff; retry_gen++; CHECK_STATE :: else fi /* else RET_PF_SPURIOUS */
  };
  atomic { STEPF("w folio", ff); f_dirty[ff] = 1 };                  /* kvm_release_faultin_page(): dirty */
v_fault_put:
  atomic { STEPF("w ref", ff); folio_put(ff) };

  atomic {
    STEP("rel mmu"); mmu_r--;
    if :: stale -> goto v_wait :: else -> vcpu_next_entry() fi
  };
v_hwp:
  atomic { STEPF("rel folio", ff); f_lock[ff] = 0 };
  atomic { STEPF("w ref", ff); folio_put(ff) };
  atomic { STEP("r file"); goto v_srcu_unlock };                      /* -EHWPOISON: KVM_EXIT_MEMORY_FAULT */

v_retry_put:
  atomic { STEPF("w ref", ff); folio_put(ff); goto v_wait };

  /* RET_PF_RETRY: re-entering would fault the same way until retry_gen moves */
v_wait:
  atomic { STEPG(retry_gen != gen, "WAIT"); vcpu_next_entry() };

v_srcu_unlock:
  atomic { STEP("r srcu") };                                          /* srcu_read_unlock */
  atomic { STEP("rel vmutex"); ndone++ }
}
