/*
 * scenarios/punch-vs-fault.yaml: the VMM punches index 1 out while the vCPU faults it in. The fault path takes no
 * guest_memfd lock, so it may re-create the page during the punch; the invalidation makes it retry.
 * Setup: indices 0-3 allocated by fallocate, no SPTE. No memory error: the error handler does not matter.
 */
#include "gmem.pml"
#include "vcpu.pml"
#include "punch.pml"

init {
  atomic {
    nextf = 2; pc1 = 1; other_pages = 3; f_ref[1] = 1; f_lru[1] = 1; seq = 1;
#ifdef REPLAY
#include "sched.pml"
#endif
    run vcpu0(); run vmm()
  }
}

/* thread vcpu0: KVM_RUN, guest [{read: 0x100001000}] */
proctype vcpu0() {
  VCPU_LOCALS;
  vcpu_kvm_run()
}

/* thread vmm: fallocate {KEEP_SIZE | PUNCH_HOLE, offset: 0x1000, len: 0x1000} */
proctype vmm() {
  PUNCH_LOCALS;
  kvm_fallocate_punch()
}
