// Physical frames and folio reference counting (mm/page_alloc.c, include/linux/mm.h, mm/swap.c).

import { NotModeledError } from '../../diagnostics/errors.js';
import { newLock } from '../core/locking.js';
import type { Ctx, KGen } from '../core/sched.js';
import { FIRST_PFN, type Kernel } from '../machine.js';
import { type Folio, folioRefKey, PAGE_SIZE, PG_hwpoison } from './mm_types.js';

/**
 * Frames one model run may allocate (64 MiB of 4 KiB pages; pfns are never reused). The kernel's behaviour past
 * the machine's memory (reclaim, ENOMEM, the OOM killer) is not modeled, so an input that needs more is refused
 * rather than simulated page by page without bound.
 */
export const MODEL_MAX_FRAMES = 16384;

/** folio_alloc(): a fresh folio with one reference; contents are whatever the frame held (we model zeroes). */
export function folio_alloc(k: Kernel, order = 0): Folio {
  const nr = 1 << order;
  if (k.ids.pfn - FIRST_PFN + nr > MODEL_MAX_FRAMES) {
    throw new NotModeledError(
      `more than ${MODEL_MAX_FRAMES} page frames (${(MODEL_MAX_FRAMES * PAGE_SIZE) >> 20} MiB) allocated in one run`,
      'the model allocates every page it populates and does not model reclaim, ENOMEM or the OOM killer; populate less memory',
    );
  }
  let pfn = Math.ceil(k.ids.pfn / nr) * nr;
  while (k.offlined.has(pfn)) pfn += nr; // poisoned free frames stay off the free lists
  k.ids.pfn = pfn + nr;
  const folio: Folio = {
    pfn,
    order,
    flags: 0,
    refcount: 1,
    mapcount: 0,
    mapping: null,
    anon: false,
    anonMm: 0,
    index: 0,
    lock: newLock(`folio:${pfn}`, `folio_lock(pfn ${pfn.toString(16)})`, 'bitlock'),
    data: null,
    corrupt: false,
    freed: false,
  };
  for (let i = 0; i < nr; i++) k.mem.set(pfn + i, folio);
  return folio;
}

export function pfn_folio(k: Kernel, pfn: number): Folio | undefined {
  return k.mem.get(pfn);
}

/** folio_get(): take a reference; a scheduling point of its own, since others read the count (folioRefKey). */
export function* folio_get(folio: Folio): KGen<void> {
  yield { t: 'access', obj: folioRefKey(folio), write: false };
  folio.refcount++;
}

/**
 * folio_put(): drop a reference; the last one frees the frame. Hwpoisoned frames are never handed out again
 * (mm/page_alloc.c free_pages_prepare() keeps them off the free lists), which the model gets for free because it
 * never reuses pfns.
 */
export function* folio_put(ctx: Ctx, folio: Folio): KGen<void> {
  yield { t: 'access', obj: folioRefKey(folio), write: true, wholeIf: () => folio.refcount === 1 };
  if (folio.refcount <= 0) throw new Error(`folio_put on free pfn ${folio.pfn.toString(16)}`);
  if (--folio.refcount === 0) {
    if (folio.flags & PG_hwpoison) ctx.k.offlined.add(folio.pfn);
    folio.freed = true;
    folio.mapping = null;
    folio.flags = 0;
    folio.data = null;
  }
}

export function folio_nr_pages(folio: Folio): number {
  return 1 << folio.order;
}

/** clear_highpage(): zero the contents. */
export function clear_highpage(folio: Folio): void {
  folio.data = null;
}

/** Reads `size` bytes (little-endian) at `off` within the frame. */
export function frame_read(folio: Folio, off: number, size: number): bigint {
  const d = folio.data;
  if (!d) return 0n;
  let v = 0n;
  for (let i = size - 1; i >= 0; i--) v = (v << 8n) | BigInt(d[off + i]);
  return v;
}

export function frame_write(folio: Folio, off: number, size: number, value: bigint): void {
  if (!folio.data) {
    if (value === 0n) return;
    folio.data = new Uint8Array(PAGE_SIZE << folio.order);
  }
  let v = value;
  for (let i = 0; i < size; i++) {
    folio.data[off + i] = Number(v & 0xffn);
    v >>= 8n;
  }
}

export function frame_fill(folio: Folio, off: number, len: number, byte: number): void {
  if (!folio.data) {
    if (byte === 0) return;
    folio.data = new Uint8Array(PAGE_SIZE << folio.order);
  }
  folio.data.fill(byte, off, off + len);
}
