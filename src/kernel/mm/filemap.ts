// The page cache (mm/filemap.c, include/linux/pagemap.h). Page-cache membership is observable state, so every
// lookup or change is a scheduling point on "pagecache:<ino>"; folio flags are points on "folio:<pfn>".
import {
  bitlock_lock,
  bitlock_trylock,
  bitlock_unlock,
  down_read,
  down_write,
  up_read,
  up_write,
} from '../core/locking.js';
import { type Ctx, type KGen, rd, wr } from '../core/sched.js';
import { ENOENT } from '../uapi/errno.js';
import { type AddressSpace, type Folio, folioKey, PG_lru, PG_unevictable } from './mm_types.js';

export { dataKey, folioKey } from './mm_types.js';

import { folio_alloc, folio_get, folio_put } from './page_alloc.js';

export const pcKey = (m: AddressSpace) => `pagecache:${m.host.ino}`;

// include/linux/fs.h: the invalidate_lock rwsem of an address_space
export const filemap_invalidate_lock = (ctx: Ctx, m: AddressSpace) => down_write(ctx, m.invalidate_lock);
export const filemap_invalidate_unlock = (ctx: Ctx, m: AddressSpace) => up_write(ctx, m.invalidate_lock);
export const filemap_invalidate_lock_shared = (ctx: Ctx, m: AddressSpace) => down_read(ctx, m.invalidate_lock);
export const filemap_invalidate_unlock_shared = (ctx: Ctx, m: AddressSpace) => up_read(ctx, m.invalidate_lock);

// mm/filemap.c: PG_locked
export const folio_lock = (ctx: Ctx, f: Folio) => bitlock_lock(ctx, f.lock);
export const folio_unlock = (ctx: Ctx, f: Folio) => bitlock_unlock(ctx, f.lock);
export const folio_trylock = (ctx: Ctx, f: Folio) => bitlock_trylock(ctx, f.lock);

export function* folio_test_flag(f: Folio, flag: number): KGen<boolean> {
  yield* rd(folioKey(f));
  return (f.flags & flag) !== 0;
}

export function* folio_set_flag(f: Folio, flag: number): KGen<void> {
  yield* wr(folioKey(f));
  f.flags |= flag;
}

export function* folio_clear_flag(f: Folio, flag: number): KGen<void> {
  yield* wr(folioKey(f));
  f.flags &= ~flag;
}

/** filemap_get_folio() without locking: the folio at index with a reference, or null. */
export function* filemap_get_folio(m: AddressSpace, index: number): KGen<Folio | null> {
  yield* rd(pcKey(m));
  const f = m.pages.get(index);
  if (!f) return null;
  yield* folio_get(f);
  return f;
}

/**
 * filemap_lock_folio(): the folio at index, locked and with a reference, or -ENOENT. Re-checks that the folio is
 * still in this mapping after sleeping on the lock, as the kernel does (a truncate may have removed it).
 */
export function* filemap_lock_folio(ctx: Ctx, m: AddressSpace, index: number): KGen<Folio | number> {
  for (;;) {
    const f = yield* filemap_get_folio(m, index);
    if (!f) return -ENOENT;
    yield* folio_lock(ctx, f);
    yield* rd(pcKey(m));
    if (f.mapping === m && m.pages.get(index) === f) return f;
    yield* folio_unlock(ctx, f);
    yield* folio_put(ctx, f);
  }
}

/**
 * __filemap_get_folio(FGP_LOCK | FGP_CREAT): find or allocate-and-insert, returned locked with a reference. The new
 * folio goes on the LRU (the unevictable list for unevictable mappings), as filemap_add_folio() does.
 */
export function* filemap_get_or_create_folio(ctx: Ctx, m: AddressSpace, index: number): KGen<Folio> {
  for (;;) {
    const found = yield* filemap_lock_folio(ctx, m, index);
    if (typeof found !== 'number') return found;
    const f = folio_alloc(ctx.k);
    f.lock.owner = ctx.task.tid; // __folio_set_locked() on a folio nobody else can see yet
    yield* wr(pcKey(m));
    if (m.pages.has(index)) {
      // lost the race to another inserter: drop ours and look again
      f.lock.owner = 0;
      yield* folio_put(ctx, f);
      continue;
    }
    f.mapping = m;
    f.index = index;
    f.refcount++; // the page cache's reference
    f.flags |= PG_lru | (m.unevictable ? PG_unevictable : 0);
    m.pages.set(index, f);
    return f;
  }
}

/** filemap_remove_folio(): take a locked folio out of the page cache and drop the cache's reference. */
export function* filemap_remove_folio(ctx: Ctx, f: Folio): KGen<void> {
  const m = f.mapping;
  if (!m) return;
  yield* wr(pcKey(m));
  if (m.pages.get(f.index) === f) m.pages.delete(f.index);
  m.lastPfn.set(f.index, f.pfn);
  f.mapping = null;
  yield* folio_put(ctx, f);
}

/** mapping_set_error() */
export function mapping_set_error(m: AddressSpace, error: number): void {
  if (error) m.wb_err = error;
}
