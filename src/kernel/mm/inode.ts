// Inode lifetime (fs/inode.c): the page cache is freed when the last reference goes
// (truncate_inode_pages_final()); folios that memory failure still holds stay allocated.
import { newLock } from '../core/locking.js';
import type { Ctx, KGen } from '../core/sched.js';
import type { Kernel } from '../machine.js';
import type { AddressSpace, Folio, Inode } from './mm_types.js';
import { truncate_inode_pages_range } from './truncate.js';

export function new_inode(k: Kernel, kind: Inode['kind'], size: number, a_ops: AddressSpace['a_ops']): Inode {
  const ino = k.ids.ino++;
  const inode = { ino, kind, i_size: size, gmem: null, i_count: 1 } as Omit<Inode, 'mapping'> & {
    mapping: AddressSpace;
  };
  inode.mapping = {
    id: `mapping:${ino}`,
    host: inode,
    a_ops,
    pages: new Map<number, Folio>(),
    invalidate_lock: newLock(`invalidate_lock:${ino}`, `inode(${ino})->i_mapping->invalidate_lock`, 'rwsem'),
    i_mmap: [],
    unevictable: false,
    wb_err: 0,
    lastPfn: new Map(),
  };
  return inode;
}

export function ihold(inode: Inode): void {
  inode.i_count++;
}

/** iput(): the last reference evicts the inode and truncates its page cache. */
export function* iput(ctx: Ctx, inode: Inode): KGen<void> {
  if (--inode.i_count > 0) return;
  yield* truncate_inode_pages_range(ctx, inode.mapping, 0, -1);
}
