// Memory-management structures as plain data (include/linux/mm_types.h, include/linux/fs.h). Kernel state is
// plain data so the explorer can snapshot it with structuredClone.
import type { Lock } from '../core/locking.js';
import type { File } from '../fs/file.js';
import type { GmemInode } from '../kvm/kvm_host.js';

export const PAGE_SHIFT = 12;
export const PAGE_SIZE = 4096;

// Page flags (include/linux/page-flags.h), with the model's own bit values (pageFlagsText() in memory-failure.ts
// maps them to the kernel's); PG_locked is modeled by Folio.lock.
export const PG_uptodate = 1 << 0;
export const PG_dirty = 1 << 1;
export const PG_lru = 1 << 2;
export const PG_unevictable = 1 << 3;
export const PG_hwpoison = 1 << 4;
export const PG_swapbacked = 1 << 5;
export const PG_mlocked = 1 << 6;
export const PG_reserved = 1 << 7;
export const PG_referenced = 1 << 8;

export interface Folio {
  /** pfn of the head page */
  readonly pfn: number;
  readonly order: number;
  flags: number;
  refcount: number;
  /** host page-table mappings */
  mapcount: number;
  /** owning page cache; null for anonymous or free memory */
  mapping: AddressSpace | null;
  /** PageAnon(): private anonymous memory */
  anon: boolean;
  /** for anonymous folios: the mm whose page table maps it (the anon_vma, reduced to one owner) */
  anonMm: number;
  index: number;
  /** PG_locked */
  readonly lock: Lock;
  /** page contents; null reads as zeroes */
  data: Uint8Array | null;
  /** the physical cells hold an uncorrected error: consuming them raises a machine check */
  corrupt: boolean;
  /** returned to the allocator (refcount hit 0) */
  freed: boolean;
  /**
   * waiting in this CPU's lru_add batch (folio_add_lru(), mm/swap.c): PG_lru is set only when the batch drains.
   * Only a failed migration puts a folio there in the model.
   */
  lru_batch?: boolean;
}

export type AddressSpaceOps = 'kvm_gmem_aops' | 'shmem_aops';

/** struct address_space: the page cache of one inode. */
export interface AddressSpace {
  readonly id: string;
  readonly host: Inode;
  readonly a_ops: AddressSpaceOps;
  /** index -> folio (order-0 only in this model) */
  readonly pages: Map<number, Folio>;
  readonly invalidate_lock: Lock;
  /** VMAs that map this file (the i_mmap interval tree) */
  readonly i_mmap: Vma[];
  /** AS_UNEVICTABLE | AS_INACCESSIBLE (mapping_set_inaccessible) */
  unevictable: boolean;
  /** mapping_set_error(): the error a later fsync would report */
  wb_err: number;
  /** model bookkeeping: the pfn last removed from each index, so a scenario can name a frame after a punch */
  readonly lastPfn: Map<number, number>;
}

export type InodeKind = 'guest_memfd' | 'shmem';

export interface Inode {
  readonly ino: number;
  readonly kind: InodeKind;
  i_size: number;
  readonly mapping: AddressSpace;
  /** guest_memfd only: struct gmem_inode */
  readonly gmem: GmemInode | null;
  /** open files + mappings keeping it alive */
  i_count: number;
}

// VMA flags (include/linux/mm.h)
export const VM_READ = 0x1;
export const VM_WRITE = 0x2;
export const VM_EXEC = 0x4;
export const VM_SHARED = 0x8;
export const VM_MAYSHARE = 0x80;

export interface Vma {
  readonly id: number;
  vm_start: number;
  vm_end: number;
  vm_flags: number;
  /** first file page mapped at vm_start */
  vm_pgoff: number;
  /** mapped file; null for private anonymous memory */
  readonly vm_file: File | null;
  readonly mm: Mm;
}

export type Pte =
  | { readonly kind: 'present'; readonly folio: Folio; writable: boolean; dirty: boolean }
  /** a hwpoison swap entry left by try_to_unmap(TTU_HWPOISON) */
  | { readonly kind: 'hwpoison'; readonly pfn: number };

export interface Mm {
  readonly id: number;
  /** sorted by vm_start */
  vmas: Vma[];
  /** virtual page number -> PTE */
  readonly pt: Map<number, Pte>;
  readonly mmap_lock: Lock;
  /** next top-down address for mmap(NULL, ...) */
  mmap_base: number;
}

/** The scheduling key of a folio's state (flags, references, mapping, lock). */
export const folioKey = (f: Folio): string => `folio:${f.pfn}`;

/**
 * The key of a folio's reference count. Gets commute with each other, so they are reads of it. A put is a write:
 * whether it drops the last reference (and frees the folio, a write of the whole folio: AccessPoint.wholeIf)
 * depends on the gets and puts before it, and an access's footprint may only be changed by accesses it depends on.
 * Whoever reads the count (has_extra_refcount()) announces a write, so it is ordered against every get and put.
 */
export const folioRefKey = (f: Folio): string => `folio:${f.pfn}:ref`;

/**
 * The key of a frame's contents: a part of its folio, so a write of the whole folio (freeing it, zeroing it)
 * conflicts with every access to the data, while flag changes and data accesses still conflict only through it.
 */
export const dataKeyOfPfn = (pfn: number): string => `folio:${pfn}:data`;
export const dataKey = (f: Folio): string => dataKeyOfPfn(f.pfn);
