// Kernel behaviour that differs between versions, or between pending patches and mainline. Every such difference
// is a named option here; nothing is a silent choice.

/** How memory_failure() treats MF_DELAYED from a_ops->error_remove_folio (mm/memory-failure.c). */
export type MmBehaviour = 'mainline' | 'mf-delayed-fix';

/** Which kvm_gmem_error_folio() runs (virt/kvm/guest_memfd.c and the 2023 review variants). */
export type ErrorHandlerVariant = 'mainline' | 'original-2023' | 'rfc-2023' | 'truncate';

/** Version-dependent KVM uAPI details. */
export type KernelVersion = '7.3' | '7.1' | '6.18';

export interface KernelOptions {
  readonly mm: MmBehaviour;
  readonly error_handler: ErrorHandlerVariant;
  readonly kernel: KernelVersion;
  /**
   * CONFIG_KVM_SW_PROTECTED_VM. Upstream selftests need it; Debian's kernels are built without it, so
   * KVM_X86_SW_PROTECTED_VM is refused there (EINVAL) and KVM_CAP_VM_TYPES reports 0x1.
   */
  readonly sw_protected_vm: boolean;
}

export const MM_BEHAVIOURS: readonly MmBehaviour[] = ['mainline', 'mf-delayed-fix'];
export const ERROR_HANDLERS: readonly ErrorHandlerVariant[] = ['mainline', 'original-2023', 'rfc-2023', 'truncate'];
export const KERNEL_VERSIONS: readonly KernelVersion[] = ['7.3', '7.1', '6.18'];

export const DEFAULT_OPTIONS: KernelOptions = {
  mm: 'mainline',
  error_handler: 'mainline',
  kernel: '7.3',
  sw_protected_vm: true,
};

/** Behaviour switches derived from the kernel version, each named after the change that introduced it. */
export interface VersionTraits {
  /** the trace system of memory_failure_event: "memory_failure" since the event left include/ras/ras_event.h */
  readonly mfTraceSystem: 'memory_failure' | 'ras';
  /**
   * "KVM: guest_memfd changes for 7.2": binding an already-bound guest_memfd range fails with EEXIST
   * (before: EINVAL), and the bind offset/size are checked as unsigned.
   */
  readonly gmemBindOverlapEexist: boolean;
  /**
   * "mm/memory-failure: surface unhandlable kernel pages as -ENOTRECOVERABLE" (Breno Leitao, part of "add panic
   * option for unrecoverable pages"): get_any_page() recognises PG_reserved, slab, page-table and large-kmalloc
   * pages up front, and memory_failure() reports them as "reserved kernel page" (MF_MSG_KERNEL). Before it they
   * failed HWPoisonHandlable() through three shake_page() retries and were reported as "get hwpoison page"
   * (MF_MSG_GET_HWPOISON). Measured: 7.3.4 has it, 6.18.15 does not. 7.1 is unmeasured; the series was still under
   * review (v9, 9 June 2026) when 7.1 was released, so 7.1 is given 6.18's behaviour.
   */
  readonly mfKernelOwnedPages: boolean;
}

export function versionTraits(v: KernelVersion): VersionTraits {
  return {
    gmemBindOverlapEexist: v === '7.3',
    mfTraceSystem: v === '6.18' ? 'ras' : 'memory_failure',
    mfKernelOwnedPages: v === '7.3',
  };
}
