/*
 * scenarios/fault-vs-mf.yaml: a vCPU faults in private page index 1 while a memory error on it is handled.
 * Setup (after the scenario's `steps`): index 1 allocated by fallocate (unevictable LRU, not uptodate, only the
 * page cache's reference), no SPTE. Select the handler with -DHANDLER=H_MAINLINE|H_ORIGINAL|H_RFC|H_TRUNCATE.
 */
#include "gmem.pml"
#include "vcpu.pml"

#define MF_NAME op_memory_failure
#define MF_AR 0
#define MF_CONT ndone++
#define MF(x) mf_##x
#include "memory_failure.pml"
#undef MF_NAME
#undef MF_AR
#undef MF_CONT
#undef MF

init {
  atomic {
    nextf = 2; pc1 = 1; f_ref[1] = 1; f_lru[1] = 1; seq = 1;
#ifdef REPLAY
#include "sched.pml"
#endif
    run vcpu0(); run mf()
  }
}

/* thread vcpu0: KVM_RUN, guest [{read: 0x100001000}] */
proctype vcpu0() {
  VCPU_LOCALS;
  vcpu_kvm_run()
}

/* thread mf: memory_failure {fd: gmem, offset: 0x1000, flags: 0} */
proctype mf() {
  byte P; byte mret; bit herr; bit flushed; bit plru;
  atomic { STEP("w thread") };
  atomic { STEP("r fdtable") };
  atomic { STEP("r pagecache"); if :: pc1 != 0 -> P = pc1 :: else -> P = last1 fi };   /* the page's pfn */
  atomic { STEPF("w data", P); if :: !f_freed[P] -> f_corrupt[P] = 1 :: else fi };     /* the hardware error */
  op_memory_failure()
}

/*
 * `after`: KVM_RUN [{read: 0x100001000}] once both threads finished, run alone (no scheduling points there).
 * Only what a property can see: a read that completes normally on a page whose memory error was handled is
 * GMEM4002. Through a live SPTE to a corrupt frame the read takes #MC instead; a fault finds PG_hwpoison and
 * exits with EHWPOISON; otherwise (a new or clean folio) it is mapped and read normally.
 */
active proctype after() {
  atomic {
    ndone == 2 ->
    if
    :: spte != 0 && f_corrupt[spte] -> skip
    :: spte == 0 && pc1 != 0 && f_hwp[pc1] -> skip
    :: else -> PROP(GMEM4002, !poisoned_idx)
    fi
  }
}
