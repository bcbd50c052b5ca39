// shmem/tmpfs (mm/shmem.c), as far as memfd_create() and MAP_SHARED|MAP_ANONYMOUS need it: a page cache that
// allocates zeroed folios on demand, can be resized, and keeps poisoned folios in the cache on memory failure.
import type { Ctx, KGen } from '../core/sched.js';
import type { File } from '../fs/file.js';
import type { Kernel } from '../machine.js';
import { EINVAL, ENOSPC } from '../uapi/errno.js';
import {
  filemap_get_or_create_folio,
  filemap_invalidate_lock,
  filemap_invalidate_unlock,
  folio_unlock,
} from './filemap.js';
import { new_inode } from './inode.js';
import { VM_FAULT_SIGBUS } from './memory.js';
import type { Folio, Inode } from './mm_types.js';
import { PAGE_SIZE, PG_uptodate } from './mm_types.js';
import { folio_put } from './page_alloc.js';
import { truncate_inode_pages_range } from './truncate.js';

/** MAX_LFS_FILESIZE on 64-bit */
export const MAX_LFS_FILESIZE = 2 ** 63 - 1;

/** shmem_file_setup() */
export function shmem_new_inode(k: Kernel, size: number): Inode {
  return new_inode(k, 'shmem', size, 'shmem_aops');
}

/** shmem_get_folio(SGP_CACHE): find or allocate a zeroed folio; returned locked with a reference. */
function* shmem_get_folio(ctx: Ctx, inode: Inode, index: number): KGen<Folio> {
  const folio = yield* filemap_get_or_create_folio(ctx, inode.mapping, index);
  folio.flags |= PG_uptodate;
  return folio;
}

/** shmem_fault() */
export function* shmem_fault(_ctx: Ctx, f: File, index: number): KGen<Folio | number> {
  const inode = f.inode!;
  if (index * PAGE_SIZE >= inode.i_size) return VM_FAULT_SIGBUS;
  return yield* shmem_get_folio(_ctx, inode, index);
}

/** shmem_fallocate(): allocate (extending i_size unless KEEP_SIZE) or punch. */
export function* shmem_fallocate(
  ctx: Ctx,
  f: File,
  punch: boolean,
  keepSize: boolean,
  offset: number,
  len: number,
): KGen<number> {
  const inode = f.inode!;
  if (punch) {
    yield* filemap_invalidate_lock(ctx, inode.mapping);
    yield* truncate_inode_pages_range(ctx, inode.mapping, offset, offset + len - 1);
    yield* filemap_invalidate_unlock(ctx, inode.mapping);
    return 0;
  }
  if (offset + len > MAX_LFS_FILESIZE) return -ENOSPC;
  for (let i = Math.floor(offset / PAGE_SIZE); i < Math.ceil((offset + len) / PAGE_SIZE); i++) {
    const folio = yield* shmem_get_folio(ctx, inode, i);
    yield* folio_unlock(ctx, folio);
    yield* folio_put(ctx, folio);
  }
  if (!keepSize && offset + len > inode.i_size) inode.i_size = offset + len;
  return 0;
}

/** shmem_setattr(ATTR_SIZE): resize; shrinking truncates the page cache. */
export function* shmem_setsize(ctx: Ctx, inode: Inode, size: number): KGen<number> {
  if (size < 0) return -EINVAL;
  const old = inode.i_size;
  inode.i_size = size;
  if (size < old) yield* truncate_inode_pages_range(ctx, inode.mapping, size, -1);
  return 0;
}
