// madvise(2) (mm/madvise.c): the hwpoison injectors, MADV_DONTNEED, MADV_REMOVE and the no-op hints.

import { NotModeledError } from '../../diagnostics/errors.js';
import { printk } from '../core/printk.js';
import type { Ctx, KGen } from '../core/sched.js';
import { vfs_fallocate } from '../fs/open.js';
import { EACCES, EINVAL, ENOMEM, EOPNOTSUPP, EPERM } from '../uapi/errno.js';
import { FALLOC_FL_KEEP_SIZE, FALLOC_FL_PUNCH_HOLE } from '../uapi/fs.js';
import * as M from '../uapi/mman.js';
import { get_user_page } from './gup.js';
import { find_vma, zap_vma_range } from './memory.js';
import {
  MF_ACTION_REQUIRED,
  MF_COUNT_INCREASED,
  MF_SW_SIMULATED,
  memory_failure,
  soft_offline_page,
} from './memory-failure.js';
import { PAGE_SIZE, VM_SHARED, VM_WRITE } from './mm_types.js';
import { folio_nr_pages } from './page_alloc.js';

/** Hints that change nothing the model tracks: accepted, as the kernel accepts them. */
const NOOP_HINTS = new Set([
  M.MADV_NORMAL,
  1, // MADV_RANDOM
  2, // MADV_SEQUENTIAL
  3, // MADV_WILLNEED
  14, // MADV_HUGEPAGE
  15, // MADV_NOHUGEPAGE
  16, // MADV_DONTDUMP
  17, // MADV_DODUMP
]);

/** madvise_inject_error(): one page at a time, GUP then memory_failure()/soft_offline_page(). */
function* madvise_inject_error(ctx: Ctx, behavior: number, start: number, end: number): KGen<number> {
  if (!ctx.task.proc.cap_sys_admin) return -EPERM;
  for (let addr = start; addr < end; ) {
    const r = yield* get_user_page(ctx, ctx.task.proc.mm, addr, { write: false, hwpoison: false });
    if (typeof r === 'number') return r;
    const pfn = r.pfn;
    const size = folio_nr_pages(r) * PAGE_SIZE;
    const a = addr;
    addr = Math.floor(addr / size) * size + size;
    let ret: number;
    if (behavior === M.MADV_SOFT_OFFLINE) {
      printk(ctx, 'info', `Soft offlining pfn 0x${pfn.toString(16)} at process virtual address 0x${a.toString(16)}`);
      ret = yield* soft_offline_page(ctx, pfn, MF_COUNT_INCREASED);
    } else {
      printk(
        ctx,
        'info',
        `Injecting memory failure for pfn 0x${pfn.toString(16)} at process virtual address 0x${a.toString(16)}`,
      );
      ret = yield* memory_failure(ctx, pfn, MF_ACTION_REQUIRED | MF_COUNT_INCREASED | MF_SW_SIMULATED);
      if (ret === -EOPNOTSUPP) ret = 0;
    }
    if (ret) return ret;
  }
  return 0;
}

/** do_madvise() */
export function* sys_madvise(ctx: Ctx, start: bigint, len_in: number, behavior: number): KGen<number> {
  if (!M.MADV.nameOf(behavior)) return -EINVAL;
  if (start % BigInt(PAGE_SIZE)) return -EINVAL; // exact: a double would call 2^64-1 page aligned
  return yield* madvise_range(ctx, Number(start), len_in, behavior);
}

function* madvise_range(ctx: Ctx, start: number, len_in: number, behavior: number): KGen<number> {
  const len = Math.ceil(len_in / PAGE_SIZE) * PAGE_SIZE;
  if (len_in && !len) return -EINVAL;
  const end = start + len;
  if (end < start) return -EINVAL;
  if (end === start) return 0;
  if (behavior === M.MADV_HWPOISON || behavior === M.MADV_SOFT_OFFLINE) {
    return yield* madvise_inject_error(ctx, behavior, start, start + len_in);
  }
  const mm = ctx.task.proc.mm;
  // madvise_walk_vmas(): holes in the range give -ENOMEM after the covered parts were handled
  let unmapped = false;
  for (let a = start; a < end; ) {
    const vma = find_vma(mm, a);
    if (!vma) {
      // a hole: on to the next VMA, as find_vma() finds it, not page by page
      unmapped = true;
      a = Math.min(end, ...mm.vmas.filter((v) => v.vm_start > a).map((v) => v.vm_start));
      continue;
    }
    const e = Math.min(end, vma.vm_end);
    if (behavior === M.MADV_DONTNEED) {
      yield* zap_vma_range(ctx, vma, a, e, true);
    } else if (behavior === M.MADV_REMOVE) {
      // madvise_remove(): shared writable file mappings only; punches the file range
      if (!(vma.vm_flags & VM_SHARED) || !(vma.vm_flags & VM_WRITE) || !vma.vm_file) return -EACCES;
      const off = BigInt(vma.vm_pgoff * PAGE_SIZE + (a - vma.vm_start));
      const r = yield* vfs_fallocate(ctx, vma.vm_file, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, off, BigInt(e - a));
      if (r) return r;
    } else if (behavior === M.MADV_COLLAPSE) {
      // madvise_collapse(): guest_memfd VMAs are never eligible for a THP collapse
      if (vma.vm_file?.f_op === 'kvm_gmem_fops') return -EINVAL;
      throw new NotModeledError('MADV_COLLAPSE outside guest_memfd mappings is not modeled');
    } else if (!NOOP_HINTS.has(behavior)) {
      throw new NotModeledError(`madvise(${M.MADV.nameOf(behavior)}) is not modeled`);
    }
    a = e;
  }
  return unmapped ? -ENOMEM : 0;
}
