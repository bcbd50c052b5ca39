// mmap/madvise constants for x86-64 (include/uapi/asm-generic/mman-common.h, mman.h).
import { constGroup } from './consts.js';

export const PROT_NONE = 0;
export const PROT_READ = 1;
export const PROT_WRITE = 2;
export const PROT_EXEC = 4;

export const MAP_SHARED = 0x01;
export const MAP_PRIVATE = 0x02;
export const MAP_SHARED_VALIDATE = 0x03;
export const MAP_TYPE = 0x0f;
export const MAP_FIXED = 0x10;
export const MAP_ANONYMOUS = 0x20;
export const MAP_NORESERVE = 0x4000;
export const MAP_POPULATE = 0x8000;
export const MAP_FIXED_NOREPLACE = 0x100000;

export const MADV_NORMAL = 0;
export const MADV_DONTNEED = 4;
export const MADV_REMOVE = 9;
export const MADV_COLLAPSE = 25;
export const MADV_HWPOISON = 100;
export const MADV_SOFT_OFFLINE = 101;

export const PROT = constGroup('prot', true, { PROT_NONE, PROT_READ, PROT_WRITE, PROT_EXEC });
export const MAP = constGroup('mmap flags', true, {
  MAP_SHARED,
  MAP_PRIVATE,
  MAP_SHARED_VALIDATE,
  MAP_FIXED,
  MAP_ANONYMOUS,
  MAP_NORESERVE,
  MAP_POPULATE,
  MAP_FIXED_NOREPLACE,
});
export const MADV = constGroup('madvise advice', false, {
  MADV_NORMAL,
  MADV_RANDOM: 1,
  MADV_SEQUENTIAL: 2,
  MADV_WILLNEED: 3,
  MADV_DONTNEED,
  MADV_FREE: 8,
  MADV_REMOVE,
  MADV_DONTFORK: 10,
  MADV_DOFORK: 11,
  MADV_MERGEABLE: 12,
  MADV_UNMERGEABLE: 13,
  MADV_HUGEPAGE: 14,
  MADV_NOHUGEPAGE: 15,
  MADV_DONTDUMP: 16,
  MADV_DODUMP: 17,
  MADV_WIPEONFORK: 18,
  MADV_KEEPONFORK: 19,
  MADV_COLD: 20,
  MADV_PAGEOUT: 21,
  MADV_POPULATE_READ: 22,
  MADV_POPULATE_WRITE: 23,
  MADV_DONTNEED_LOCKED: 24,
  MADV_COLLAPSE,
  MADV_HWPOISON,
  MADV_SOFT_OFFLINE,
  MADV_GUARD_INSTALL: 102,
  MADV_GUARD_REMOVE: 103,
});
