// Truncation (mm/truncate.c). truncate_inode_pages_range() first removes every folio it can trylock, then waits
// for the locks of the folios at either edge of the range and of every folio left; hwpoisoned folios are removed
// like any other.
import { type Ctx, type KGen, rd, wr } from '../core/sched.js';
import { EIO } from '../uapi/errno.js';
import {
  filemap_lock_folio,
  filemap_remove_folio,
  folio_lock,
  folio_trylock,
  folio_unlock,
  folioKey,
  pcKey,
} from './filemap.js';
import { unmap_mapping_folio } from './memory.js';
import type { AddressSpace, Folio } from './mm_types.js';
import { PAGE_SIZE, PG_dirty } from './mm_types.js';
import { folio_get, folio_put } from './page_alloc.js';

/** truncate_cleanup_folio(): unmap from host page tables and cancel dirtiness before removal. */
function* truncate_cleanup_folio(ctx: Ctx, folio: Folio): KGen<void> {
  if (folio.mapcount > 0) yield* unmap_mapping_folio(ctx, folio);
  yield* wr(folioKey(folio));
  folio.flags &= ~PG_dirty; // folio_cancel_dirty()
}

/** truncate_inode_folio(): remove a locked folio; -EIO if it left this mapping meanwhile. */
export function* truncate_inode_folio(ctx: Ctx, mapping: AddressSpace, folio: Folio): KGen<number> {
  yield* rd(folioKey(folio));
  if (folio.mapping !== mapping) return -EIO;
  yield* truncate_cleanup_folio(ctx, folio);
  yield* filemap_remove_folio(ctx, folio);
  return 0;
}

/** Folios with index in [start, end), each with a reference (find_get_entries()). */
function* find_get_entries(mapping: AddressSpace, start: number, end: number): KGen<Folio[]> {
  yield* rd(pcKey(mapping));
  const out: Folio[] = [];
  for (const [index, f] of mapping.pages) if (index >= start && index < end) out.push(f);
  out.sort((a, b) => a.index - b.index);
  for (const f of out) yield* folio_get(f);
  return out;
}

/**
 * truncate_inode_partial_folio(): the folio at an edge of the range, locked. Removed when the range covers it
 * whole; otherwise the covered part is zeroed, except in inaccessible mappings (guest_memfd). Folios are order 0
 * here, so there is no split and it always succeeds.
 */
function* truncate_inode_partial_folio(ctx: Ctx, folio: Folio, lstart: number, lend: number): KGen<void> {
  const pos = folio.index * PAGE_SIZE;
  const from = Math.max(pos, lstart);
  const to = lend === -1 ? pos + PAGE_SIZE - 1 : Math.min(pos + PAGE_SIZE - 1, lend);
  if (from === pos && to === pos + PAGE_SIZE - 1) {
    yield* truncate_inode_folio(ctx, folio.mapping!, folio);
    return;
  }
  if (folio.mapping!.unevictable) return;
  yield* wr(folioKey(folio));
  if (folio.data) folio.data.fill(0, from - pos, to + 1 - pos);
}

/**
 * truncate_inode_pages_range(mapping, lstart, lend) (mm/truncate.c), lend inclusive, -1 meaning "to the end":
 * pass 1 removes the whole folios it can trylock; then the folios at lstart and lend are looked up with FGP_LOCK,
 * waiting for their locks, and handled as partial folios; pass 2 locks, blocking, every folio still in range.
 */
export function* truncate_inode_pages_range(ctx: Ctx, mapping: AddressSpace, lstart: number, lend: number): KGen<void> {
  yield* rd(pcKey(mapping));
  if (mapping.pages.size === 0) return;
  const start = Math.ceil(lstart / PAGE_SIZE);
  const end = lend === -1 ? Number.POSITIVE_INFINITY : Math.floor((lend + 1) / PAGE_SIZE);

  // Pass 1 (find_lock_entries): only folios we can lock without waiting.
  for (const folio of yield* find_get_entries(mapping, start, end)) {
    if (yield* folio_trylock(ctx, folio)) {
      yield* rd(folioKey(folio));
      if (folio.mapping === mapping) {
        yield* truncate_cleanup_folio(ctx, folio);
        yield* filemap_remove_folio(ctx, folio);
      }
      yield* folio_unlock(ctx, folio);
    }
    yield* folio_put(ctx, folio);
  }

  // The edge folios: __filemap_get_folio(FGP_LOCK) sleeps on a folio somebody else holds locked.
  const headIndex = Math.floor(lstart / PAGE_SIZE);
  const tailIndex = lend === -1 ? Number.POSITIVE_INFINITY : Math.floor(lend / PAGE_SIZE);
  let sameFolio = headIndex === tailIndex;
  const head = yield* filemap_lock_folio(ctx, mapping, headIndex);
  if (typeof head !== 'number') {
    sameFolio = lend !== -1 && lend < (head.index + 1) * PAGE_SIZE;
    yield* truncate_inode_partial_folio(ctx, head, lstart, lend);
    yield* folio_unlock(ctx, head);
    yield* folio_put(ctx, head);
  }
  if (!sameFolio && Number.isFinite(tailIndex)) {
    const tail = yield* filemap_lock_folio(ctx, mapping, tailIndex);
    if (typeof tail !== 'number') {
      yield* truncate_inode_partial_folio(ctx, tail, lstart, lend);
      yield* folio_unlock(ctx, tail);
      yield* folio_put(ctx, tail);
    }
  }

  // Pass 2: lock each remaining folio, blocking, until a sweep finds nothing.
  for (;;) {
    const batch = yield* find_get_entries(mapping, start, end);
    if (batch.length === 0) break;
    for (const folio of batch) {
      yield* folio_lock(ctx, folio);
      yield* truncate_inode_folio(ctx, mapping, folio);
      yield* folio_unlock(ctx, folio);
      yield* folio_put(ctx, folio);
    }
  }
}
