// KVM structures as plain data (include/linux/kvm_host.h, virt/kvm/guest_memfd.c, arch/x86/include/asm/kvm_host.h).
import type { Lock, Srcu } from '../core/locking.js';
import type { File } from '../fs/file.js';
import type { RangeMap } from '../lib/range_map.js';
import type { Inode, Mm } from '../mm/mm_types.js';

/** struct gmem_inode: the physical memory behind a guest_memfd. */
export interface GmemInode {
  /** GUEST_MEMFD_FLAG_* given at creation */
  readonly flags: number;
  /** gmem_file_list: one view per VM */
  readonly files: File[];
}

/** struct gmem_file: one VM's view of a guest_memfd inode. */
export interface GmemFile {
  readonly kvm: Kvm;
  readonly inode: Inode;
  /** the bindings xarray: multi-index entries [start, end) -> memslot, as xa_store_range() stores them */
  readonly bindings: GmemBinding[];
}

export interface GmemBinding {
  readonly start: number;
  readonly end: number;
  readonly slot: KvmMemorySlot;
}

// Memslot internal flags (include/linux/kvm_host.h)
export const KVM_MEMSLOT_INVALID = 1 << 16;
export const KVM_MEMSLOT_GMEM_ONLY = 1 << 17;

export interface KvmMemorySlot {
  /** as_id << 16 | slot, as userspace passes it */
  readonly id: number;
  readonly as_id: number;
  readonly base_gfn: number;
  readonly npages: number;
  flags: number;
  readonly userspace_addr: number;
  /** slot->gmem.file and slot->gmem.pgoff */
  readonly gmem: { file: File | null; pgoff: number };
}

/** One SPTE of the TDP MMU's direct root; 4 KiB leaves only. */
export interface Spte {
  readonly pfn: number;
  readonly writable: boolean;
  /** mapped through guest_memfd as private memory */
  readonly private: boolean;
  /** the folio's page cache at install time, for use-after-free checks */
  readonly gmemIno: number;
  readonly gmemIndex: number;
}

export interface KvmVcpu {
  readonly kvm: Kvm;
  readonly vcpu_id: number;
  /** struct kvm_run fields userspace reads */
  run: {
    exit_reason: number;
    memory_fault: { flags: number; gpa: number; size: number };
  };
  /** KVM_RUN in progress (vcpu->mutex) */
  readonly mutex: Lock;
  /** the gfn of a guest access between its translation and its completion, else -1 (see kvm_flush_remote_tlbs) */
  inflight: number;
  /** the task running that access */
  inflightTid: number;
}

export interface Kvm {
  readonly id: number;
  readonly type: number;
  /** the creating process's mm; VM ioctls from another mm get EIO */
  readonly mm: Mm;
  /** kvm->users_count */
  users_count: number;
  readonly slots_lock: Lock;
  readonly slots_arch_lock: Lock;
  /** x86: an rwlock; KVM_MMU_LOCK takes it for write */
  readonly mmu_lock: Lock;
  readonly srcu: Srcu;
  /** the active memslot set per address space; replaced wholesale on update (RCU-style) */
  memslots: Array<ReadonlyMap<number, KvmMemorySlot>>;
  /** kvm->mem_attr_array: gfn ranges -> attributes (multi-index entries) */
  readonly mem_attr_array: RangeMap;
  mmu_invalidate_seq: number;
  mmu_invalidate_in_progress: number;
  mmu_invalidate_range_start: number;
  mmu_invalidate_range_end: number;
  /** TDP MMU SPTEs, per address space: gfn -> spte */
  readonly sptes: Array<Map<number, Spte>>;
  readonly vcpus: KvmVcpu[];
  /** kvm->vm_dead / vm_bugged */
  vm_dead: boolean;
  vm_bugged: boolean;
  /** kvm->arch.has_private_mem */
  readonly has_private_mem: boolean;
  /** kvm_destroy_vm() ran */
  destroyed: boolean;
  /** kvm->nr_memslot_pages */
  nr_memslot_pages: number;
  /** kvm->mn_active_invalidate_count: MMU-notifier invalidations in flight */
  mn_active_invalidate_count: number;
  /** kvm->arch.mmu_valid_gen: bumped by kvm_mmu_zap_all_fast(), making older roots obsolete */
  mmu_valid_gen: number;
  /** model bookkeeping: bumped on every change a retried fault could be waiting for (invalidations, memslots,
   *  attributes, SPTEs), so a vCPU retries only after something changed */
  retry_gen: number;
}

/** INVALID_GPA used for an empty invalidation range */
export const INVALID_GPA = -1;
