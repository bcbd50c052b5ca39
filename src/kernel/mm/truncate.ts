// Truncation (mm/truncate.c). truncate_inode_pages_range() first removes every folio it can trylock, then takes
// each remaining folio's lock, blocking, and removes it; hwpoisoned folios are removed like any other.
import { type Ctx, type KGen, rd, wr } from '../core/sched.js';
import { EIO } from '../uapi/errno.js';
import { filemap_remove_folio, folio_lock, folio_trylock, folio_unlock, folioKey, pcKey } from './filemap.js';
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
  for (const f of out) folio_get(f);
  return out;
}

/**
 * truncate_inode_pages_range(mapping, lstart, lend): lend is inclusive, -1 meaning "to the end". Partial pages at
 * either end are only zeroed in part, and not at all for inaccessible mappings (guest_memfd).
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
    folio_put(ctx, folio);
  }

  // Partial first and last pages: only whole pages of an order-0 folio can be dropped; the rest is zeroed, which
  // inaccessible mappings skip (truncate_inode_partial_folio()).
  if (!mapping.unevictable) {
    const last = lend === -1 ? Number.POSITIVE_INFINITY : lend;
    const headPartial = lstart % PAGE_SIZE !== 0;
    const headBase = Math.floor(lstart / PAGE_SIZE) * PAGE_SIZE;
    if (headPartial) yield* zeroRange(ctx, mapping, lstart, Math.min(last, headBase + PAGE_SIZE - 1));
    if (Number.isFinite(last) && (last + 1) % PAGE_SIZE !== 0) {
      const tailBase = Math.floor(last / PAGE_SIZE) * PAGE_SIZE;
      if (!(headPartial && tailBase === headBase)) yield* zeroRange(ctx, mapping, tailBase, last);
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
      folio_put(ctx, folio);
    }
  }
}

/** Zeroes bytes [from, to] (inclusive) of the page holding `from` (shmem's partial truncation). */
function* zeroRange(ctx: Ctx, mapping: AddressSpace, from: number, to: number): KGen<void> {
  yield* rd(pcKey(mapping));
  const folio = mapping.pages.get(Math.floor(from / PAGE_SIZE));
  if (!folio) return;
  yield* folio_lock(ctx, folio);
  const base = folio.index * PAGE_SIZE;
  if (folio.data) folio.data.fill(0, from - base, Math.min(to + 1, base + PAGE_SIZE) - base);
  yield* folio_unlock(ctx, folio);
}
