/*
 * scenarios/mf-vs-punch.yaml: memory_failure() on index 1 while the VMM punches it out. memory_failure() holds the
 * folio lock when the handler takes invalidate_lock shared; the punch holds invalidate_lock exclusively when
 * truncation waits for the folio lock: an invalid end state (GMEM4008).
 * Setup: the guest wrote the page, so index 1 is uptodate, dirty, on the unevictable LRU and mapped by the SPTE.
 */
#include "gmem.pml"
#include "punch.pml"

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
    nextf = 2; pc1 = 1; f_ref[1] = 1; f_lru[1] = 1; f_uptodate[1] = 1; f_dirty[1] = 1; spte = 1; seq = 1;
#ifdef REPLAY
#include "sched.pml"
#endif
    run mf(); run vmm()
  }
}

/* thread mf: memory_failure {fd: gmem, offset: 0x1000, flags: 0} */
proctype mf() {
  byte P; byte mret; bit herr; bit flushed; bit plru;
  atomic { STEP("w thread") };
  atomic { STEP("r fdtable") };
  atomic { STEP("r pagecache"); if :: pc1 != 0 -> P = pc1 :: else -> P = last1 fi };
  atomic { STEPF("w data", P); if :: !f_freed[P] -> f_corrupt[P] = 1 :: else fi };
  op_memory_failure()
}

/* thread vmm: fallocate {KEEP_SIZE | PUNCH_HOLE, offset: 0x1000, len: 0x1000} */
proctype vmm() {
  PUNCH_LOCALS;
  kvm_fallocate_punch()
}
